"""sim/explore/scenarios.py: the races of the v17 review, explored exhaustively
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
from kernel.vfio.pci.vfio_pci_core import vfio_pci_core_err_handlers
from sim.explore.__main__ import expected_finding
from sim.explore.explorer import Explorer, format_schedule
from sim.explore.scenarios import SCENARIOS, ResetDoneVsClose, TwoReaders, get_error


@pytest.mark.parametrize("name", [n for n in SCENARIOS if expected_finding(n) is None])
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
        rc, rec = get_error(m.reader)
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


UAF = "BUG: KASAN: slab-use-after-free in pci_load_saved_state: admin reads struct pci_saved_state"


def test_reset_done_vs_close_finds_v17s_use_after_free_and_replays_it() -> None:
    """v17 6/7 (this tree): the explorer finds the reset_done/close race of
    <9fa7db8b-704d-46af-a68d-bc61e85ad4b4@linux.ibm.com> -- and nothing else.  The
    merged series has no vfio-pci reset_done (the PCI core logs "reset done"): there
    the same search finds no race, in every schedule."""
    if vfio_pci_core_err_handlers.reset_done is None:  # the kernel as merged
        assert ResetDoneVsClose.expected_finding() is None
        result = Explorer(ResetDoneVsClose, stop_on_failure=False).explore()
        assert (result.runs, result.complete, result.failures) == (3, True, [])
        assert result.outcomes == {"no reset_done: the PCI core logs reset done": 3}
        return
    assert ResetDoneVsClose.expected_finding() == "BUG: KASAN: slab-use-after-free in pci_load_saved_state"
    ex = Explorer(ResetDoneVsClose, stop_on_failure=False)
    result = ex.explore()
    assert (result.runs, result.complete) == (7, True)
    assert [(f.kind, f.message, format_schedule(f.schedule)) for f in result.failures] == [
        ("invariant", f"{UAF}.cap freed by user", "admin*71 user*67 admin*32"),
        ("invariant", f"{UAF}.config_space freed by user", "admin*70 user*67 admin*33"),
    ]
    assert result.outcomes == {
        "reset_done found the state freed (NULL)": 3,
        "reset_done loaded the open-time state": 2,
    }
    # the pinned schedule: reset_done read the pointer (non-NULL) and passed it to
    # pci_load_saved_state(); the close loaded and freed the state; the load reads it
    replay = ex.run("admin*70 user*67 admin*33")
    assert [(f.kind, f.message) for f in replay.failures] == [
        ("invariant", f"{UAF}.config_space freed by user")
    ]
    first = ex.run("admin*103")  # the whole reset (103 steps), then the close: no race
    assert (format_schedule(first.schedule), first.failures) == ("admin*103 user*57", [])


def test_reset_done_vs_close_passes_without_reset_done(monkeypatch: pytest.MonkeyPatch) -> None:
    """As merged (vfio-pci has no reset_done: CI explores it on the merged tree too),
    the race is gone; here the handler is taken out of this kernel's table."""
    monkeypatch.setattr(vfio_pci_core_err_handlers, "reset_done", None)
    assert ResetDoneVsClose.expected_finding() is None
    result = Explorer(ResetDoneVsClose, stop_on_failure=False).explore()
    assert (result.failures, result.complete) == ([], True)
    assert result.outcomes == {"no reset_done: the PCI core logs reset done": 3}


def test_stale_mediated_recovery_reaches_the_decision_the_reviewers_described() -> None:
    """<20260603162006.27b78de5@shazbot.org>: the flag is used after its lock was
    dropped.  The explorer reaches the close stopping mediated recovery between the
    store and the host leaving recovery to user-space; the design's invariants hold
    there (counted at close, function left in error, the next open recovers it)."""
    ex = Explorer(SCENARIOS["stale-mediated-recovery"])
    result = ex.explore()
    assert (result.failures, result.complete, result.runs) == ([], True, 14)
    stale = "left to user-space after the close (stale decision): counted, function in error until reopened"
    assert result.outcomes == {
        "ignored: stale handle": 1,
        stale: 2,
        "recovered by the host": 5,
        "stored, counted at close": 6,
    }
    run = ex.run("fw*3 kmcheck*20 user*525 kmcheck*9")
    assert (run.outcome, run.failures) == (stale, [])
    # one step later the host acted on the flag while it was still on
    assert ex.run("fw*3 kmcheck*21 user*525 kmcheck*8").outcome == "stored, counted at close"
