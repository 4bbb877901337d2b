import threading

from kernel.lib import lockdep
from kernel.lib.cleanup import guard
from kernel.lib.mutex import DEFINE_MUTEX, mutex, mutex_lock, mutex_trylock, mutex_unlock
from kernel.lib.printk import dmesg
from kernel.lib.rwsem import DECLARE_RWSEM, down_read, up_read


def _take(first: object, second: object) -> None:
    mutex_lock(first)  # type: ignore[arg-type]
    mutex_lock(second)  # type: ignore[arg-type]
    mutex_unlock(second)  # type: ignore[arg-type]
    mutex_unlock(first)  # type: ignore[arg-type]


def test_edges_record_held_then_taken_with_sites() -> None:
    a, b = DEFINE_MUTEX("A"), DEFINE_MUTEX("B")
    _take(a, b)
    edges = lockdep.lockdep_edges()
    assert [(e.held, e.taken) for e in edges] == [("A", "B")]
    assert "test_lockdep.py" in edges[0].held_site and "test_lockdep.py" in edges[0].taken_site


def test_inversion_on_two_threads_is_reported_with_both_sites() -> None:
    a, b = DEFINE_MUTEX("zdev->state_lock"), DEFINE_MUTEX("&dev->mutex")
    t1 = threading.Thread(target=_take, args=(a, b))
    t1.start()
    t1.join()
    assert lockdep.reports == []

    def inverted() -> None:
        with guard(mutex)(b), guard(mutex)(a):  # the other order, never at the same time
            pass

    t2 = threading.Thread(target=inverted)
    t2.start()
    t2.join()
    assert len(lockdep.reports) == 1
    report = lockdep.reports[0]
    assert "circular locking dependency" in report
    assert "trying to acquire lock zdev->state_lock" in report
    assert "already holds lock &dev->mutex" in report
    # both orders' sites are named: the inverted one (here) and the original (_take)
    assert report.count("test_lockdep.py:") >= 3
    assert "(_take)" in report and "(inverted)" in report
    assert any("circular locking dependency" in line.text for line in dmesg())
    lockdep.reports.clear()


def test_three_lock_cycle_is_reported() -> None:
    a, b, c = DEFINE_MUTEX("A"), DEFINE_MUTEX("B"), DEFINE_MUTEX("C")
    _take(a, b)
    _take(b, c)
    assert lockdep.reports == []
    _take(c, a)
    assert len(lockdep.reports) == 1
    assert "A (taken at" in lockdep.reports[0] and "B (taken at" in lockdep.reports[0]
    lockdep.reports.clear()


def test_trylock_adds_no_edge_into_the_tried_lock() -> None:
    a, b = DEFINE_MUTEX("A"), DEFINE_MUTEX("B")
    _take(a, b)
    mutex_lock(b)
    assert mutex_trylock(a) == 1
    mutex_unlock(a)
    mutex_unlock(b)
    assert lockdep.reports == []


def test_same_class_nesting_records_no_edge() -> None:
    d1, d2 = DEFINE_MUTEX("&dev->mutex"), DEFINE_MUTEX("&dev->mutex")
    _take(d1, d2)
    _take(d2, d1)
    assert lockdep.reports == [] and lockdep.lockdep_edges() == []


def test_rwsem_read_side_counts_in_the_order() -> None:
    sem, m = DECLARE_RWSEM("pci_bus_sem"), DEFINE_MUTEX("pci_slot_mutex")
    mutex_lock(m)
    down_read(sem)
    up_read(sem)
    mutex_unlock(m)
    down_read(sem)
    mutex_lock(m)
    mutex_unlock(m)
    up_read(sem)
    assert len(lockdep.reports) == 1
    lockdep.reports.clear()


def _site(fn: object, needle: str) -> str:
    """``file:line (function)`` of the line of ``fn`` that contains ``needle``, as
    lockdep names a site."""
    import inspect

    lines, first = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    (n,) = [first + i for i, line in enumerate(lines) if needle in line]
    return f"tests/kernel/lib/test_lockdep.py:{n} ({fn.__name__})"  # type: ignore[attr-defined]


def test_report_reaches_subscribers_after_its_lines_are_printed() -> None:
    a, b = DEFINE_MUTEX("A"), DEFINE_MUTEX("B")
    seen: list[tuple[str, int]] = []

    def subscriber(report: str) -> None:
        # the report's lines are in the log ring before a subscriber hears of it
        seen.append((report, len(dmesg())))

    lockdep.lockdep_report_subscribe(subscriber)
    try:
        _take(a, b)
        _take(b, a)
    finally:
        lockdep.lockdep_report_unsubscribe(subscriber)
    _take(a, b)  # no new edge, no new report; and the subscriber is gone anyway
    held = _site(_take, "mutex_lock(first)")
    taken = _site(_take, "mutex_lock(second)")
    expected = "\n".join(
        [
            "WARNING: possible circular locking dependency detected",
            f"MainThread is trying to acquire lock A at {taken}",
            f"but it already holds lock B, taken at {held}",
            "which lock already depends on the new lock, in the other order:",
            f"  A (taken at {held}) -> B (taken at {taken})",
        ]
    )
    assert lockdep.reports == [expected]
    assert seen == [(expected, 5)]
    assert [line.text for line in dmesg()] == expected.splitlines()
    lockdep.reports.clear()


def test_a_boot_forgets_the_lock_graph_but_not_the_reports() -> None:
    from kernel.init.main import start_kernel

    a, b = DEFINE_MUTEX("A"), DEFINE_MUTEX("B")
    _take(a, b)
    _take(b, a)
    assert len(lockdep.reports) == 1
    report = lockdep.reports[0]
    start_kernel()
    assert lockdep.reports == [report]
    assert lockdep.lockdep_edges() == []
    # the new kernel's graph starts empty: the old order is forgotten
    _take(b, a)
    assert lockdep.reports == [report]
    assert [(e.held, e.taken) for e in lockdep.lockdep_edges()] == [("B", "A")]
    lockdep.reports.clear()
