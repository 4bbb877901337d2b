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
