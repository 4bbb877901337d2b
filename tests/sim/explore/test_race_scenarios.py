"""sim/explore/scenarios.py: the four races of the v17 review, explored exhaustively
(DPOR + sleep sets, no preemption bound), and a deliberately broken
``zpci_get_pending_error`` (no lock) that the explorer catches and replays."""

from __future__ import annotations

import ctypes
import errno
import inspect
import sys
from collections.abc import Callable

import pytest

import kernel.vfio.pci.vfio_pci_zdev as vfio_pci_zdev
from kernel.lib import schedpoint
from kernel.s390.include.asm.pci import ZPCI_ERR_PENDING_MAX, zpci_ccdf_err, zpci_dev
from sim.explore.explorer import Explorer, format_schedule
from sim.explore.scenarios import SCENARIOS, TwoReaders, get_error


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_race_scenario_holds_its_invariants_in_every_schedule(name: str) -> None:
    result = Explorer(SCENARIOS[name], stop_on_failure=False).explore()
    print(result)
    assert result.failures == []
    assert result.complete
    assert result.runs > 1


def test_error_vs_close_reaches_every_outcome_the_v15_analysis_allows() -> None:
    result = Explorer(SCENARIOS["error-vs-close"]).explore()
    assert set(result.outcomes) == {
        "stored, delivered",
        "stored, counted at close",
        "recovered by the host",
        "ignored: stale handle",
    }


def test_reset_vs_event_gives_each_errno_the_c_can_give() -> None:
    result = Explorer(SCENARIOS["reset-vs-event"]).explore()
    rcs = {o.split(",")[0] for o in result.outcomes}
    assert rcs == {"reset ok", "reset EAGAIN", "reset EIO"}


def unlocked_get_pending_error(zdev: zpci_dev, ccdf: zpci_ccdf_err) -> int:
    """zpci_get_pending_error() without guard(mutex)(&zdev->pending_errs_lock); its
    shared accesses are marked as scheduling points, as KCSAN instruments them."""
    pe = zdev.pending_errs
    schedpoint.sched_point(schedpoint.SP_ACCESS, pe)
    if not pe.count:
        return -errno.ENOMSG
    head = pe.head % ZPCI_ERR_PENDING_MAX
    schedpoint.sched_point(schedpoint.SP_ACCESS, pe)
    ctypes.memmove(ctypes.addressof(ccdf), ctypes.addressof(pe.err[head]), ctypes.sizeof(zpci_ccdf_err))
    schedpoint.sched_point(schedpoint.SP_ACCESS, pe)
    pe.head += 1
    pe.count -= 1
    return 0


def test_get_pending_error_without_its_lock_is_caught_and_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vfio_pci_zdev, "zpci_get_pending_error", unlocked_get_pending_error)
    ex = Explorer(TwoReaders)
    result = ex.explore()
    assert len(result.failures) == 1
    failure = result.failures[0]
    print(result, failure, sep="\n")
    assert failure.kind in ("invariant", "step")
    assert "returned twice" in failure.message or "count" in failure.message
    replay = ex.run(format_schedule(failure.schedule))
    assert [(f.kind, f.message.splitlines()[0]) for f in replay.failures] == [
        (failure.kind, failure.message.splitlines()[0])
    ]
    # the same schedule is harmless with the lock back
    monkeypatch.undo()
    assert Explorer(TwoReaders).run(failure.schedule[: len(failure.schedule) // 2]).failures == []


def _without_guard(fn: Callable[..., object]) -> Callable[..., object]:
    """A copy of kernel function ``fn`` with its ``with guard(mutex)(...):`` line
    removed and the block dedented, compiled in ``fn``'s own module (so it runs as
    kernel code, at ``fn``'s file and lines)."""
    lines, start = inspect.getsourcelines(fn)
    i = next(n for n, line in enumerate(lines) if line.lstrip().startswith("with guard(mutex)("))
    body = [line[4:] if line.startswith(" " * 8) else line for line in lines[i + 1 :]]
    src = "\n" * (start - 1) + "".join([*lines[:i], "\n", *body])  # keeps the line numbers below
    module = sys.modules[fn.__module__]
    ns: dict[str, object] = {}
    exec(compile(src, inspect.getfile(fn), "exec"), vars(module), ns)
    copy = ns[fn.__name__]
    assert callable(copy)
    return copy


def test_removing_the_lock_around_a_guarded_field_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """zpci_get_pending_error() without guard(mutex)(&zdev->pending_errs_lock): the
    first GET reports the unlocked access of zdev->pending_errs, at its line."""
    from kernel.lib import lockdep
    from kernel.s390.pci import pci_event

    unlocked = _without_guard(pci_event.zpci_get_pending_error)
    monkeypatch.setattr(vfio_pci_zdev, "zpci_get_pending_error", unlocked)
    m = SCENARIOS["error-vs-close"]()
    m.setup()
    try:
        rc, rec = get_error(m.fd)
    finally:
        m.teardown()
    assert (rc, rec) == (errno.ENOMSG, None)
    lines, start = inspect.getsourcelines(pci_event.zpci_get_pending_error)
    line = start + next(n for n, t in enumerate(lines) if "if not zdev.pending_errs.count" in t)
    assert lockdep.reports == [
        "WARNING: guarded field accessed without its lock\n"
        f"MainThread writes zdev->pending_errs at kernel/s390/pci/pci_event.py:{line} "
        "(zpci_get_pending_error)\n"
        "but zdev->pending_errs is __guarded_by(zdev->pending_errs_lock), which it does not hold (held: none)"
    ]
    lockdep.reports.clear()
