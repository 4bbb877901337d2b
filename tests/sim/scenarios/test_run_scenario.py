"""sim/scenarios/__init__.py: ``run_scenario`` fails a run in which the host kernel or a
guest kernel made a lockdep report or WARNed, naming the report -- also when every
expectation of the scenario holds.

The faults come from :mod:`sim.faults`: the host's reset path is patched in this
process; the guest's, in the guest's own process, through the environment."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator

import pytest

from kernel.lib import bug, lockdep
from kernel.lib.bug import WARN
from kernel.lib.printk import KERN_WARNING
from kernel.pci.slot import pci_create_slot
from kernel.s390.pci import pci_event
from sim import faults
from sim.cli import main
from sim.scenarios import SCENARIOS, Result, Run, run_scenario, scenario
from sim.timeline import KernelReport


def site(fn: Callable[..., object], needle: str) -> str:
    """How lockdep names the line of ``fn`` that contains ``needle``."""
    lines, first = inspect.getsourcelines(fn)
    (n,) = [first + i for i, line in enumerate(lines) if needle in line]
    path = inspect.getsourcefile(fn)
    assert path is not None
    rel = path[path.index("/sim/") + 1 :] if "/sim/" in path else path[path.index("/kernel/") + 1 :]
    return f"{rel}:{n} ({fn.__name__})"


def abba_wrapper() -> Callable[..., object]:
    """The function :func:`sim.faults.abba_reset` returns (its sites are in it)."""
    return faults.abba_reset(lambda zdev: 0)


ABBA_HELD = site(abba_wrapper(), "down_read(pci_bus_sem)")
ABBA_TAKEN = site(abba_wrapper(), "mutex_lock(pci_slot_mutex)")
WARN_SITE = site(faults.warn_reset(lambda zdev: 0), "WARN(True")
#: the report lockdep makes when the ABBA fault runs in a kernel's reset path
ABBA_REPORT = [
    "WARNING: possible circular locking dependency detected",
    f"kmcheck is trying to acquire lock pci_slot_mutex at {ABBA_TAKEN}",
    f"but it already holds lock pci_bus_sem, taken at {ABBA_HELD}",
    "which lock already depends on the new lock, in the other order:",
    f"  pci_slot_mutex (taken at {site(pci_create_slot, 'mutex_lock(pci_slot_mutex)')})"
    f" -> pci_bus_sem (taken at {site(pci_create_slot, 'down_read(pci_bus_sem)')})",
]
ABBA_SUMMARY = (
    "possible circular locking dependency detected: "
    f"kmcheck is trying to acquire lock pci_slot_mutex at {ABBA_TAKEN} "
    f"but it already holds lock pci_bus_sem, taken at {ABBA_HELD}"
)


def lines_after(res: Result, actor: str, text: str, n: int) -> list[tuple[int, str]]:
    """(level, text) of the ``n`` steps right after ``actor``'s log line ``text``."""
    (i,) = [i for i, s in enumerate(res.steps) if s.actor == actor and s.kind == "log" and s.text == text]
    return [(s.fields.get("level", -1), f"{s.actor}/{s.kind} {s.text}") for s in res.steps[i + 1 : i + 1 + n]]


def logged(actor: str, lines: list[str]) -> list[tuple[int, str]]:
    return [(KERN_WARNING, f"{actor}/log {line}") for line in lines]


# -- the host ------------------------------------------------------------------------


def inject(monkeypatch: pytest.MonkeyPatch, fault: Callable[[faults.Reset], faults.Reset]) -> None:
    """Wrap the host's ``zpci_hot_reset_device`` (as ``zpci_event_do_reset`` calls it)
    with ``fault`` for the length of the test."""
    reset: faults.Reset = vars(pci_event)["zpci_hot_reset_device"]
    monkeypatch.setattr(pci_event, "zpci_hot_reset_device", fault(reset))


def test_abba_in_the_hosts_reset_path_fails_host_recovery_naming_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inject(monkeypatch, faults.abba_reset)
    res = run_scenario("host-recovery")
    assert not res.passed
    assert res.unmet == [f"the host kernel reported: {ABBA_SUMMARY}"]
    assert res.failed == f"expectation not met: the host kernel reported: {ABBA_SUMMARY}"
    assert res.timeline.reports == [KernelReport("host", "lockdep", "\n".join(ABBA_REPORT))]
    # printed in the reset path: right after "Initiating reset", before the reset's CLP
    after = lines_after(res, "host", "zpci: 0000:00:00.0: Initiating reset", 6)
    assert after[:5] == logged("host", ABBA_REPORT)
    assert after[5][1].startswith("firmware/clp CLP Set PCI Function disable fid 0x10")
    assert lockdep.reports == ["\n".join(ABBA_REPORT)]
    lockdep.reports.clear()


def test_zpcisim_run_exits_1_with_a_last_line_naming_the_hosts_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inject(monkeypatch, faults.abba_reset)
    assert main(["run", "host-recovery", "--width", "400"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"host-recovery: FAIL: expectation not met: the host kernel reported: {ABBA_SUMMARY}"
    reset = "host        log    zpci: 0000:00:00.0: Initiating reset"
    (i,) = [i for i, line in enumerate(out) if line.endswith(reset)]
    # the timeline shows the report where it happened (the CLI wraps long lines)
    assert out[i + 1].endswith("host        log    WARNING: possible circular locking dependency detected")
    lockdep.reports.clear()


def test_a_warn_in_the_hosts_reset_path_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    inject(monkeypatch, faults.warn_reset)
    res = run_scenario("host-recovery")
    entry = f"{WARN_SITE}: fault injected into the reset path"
    assert res.failed == f"expectation not met: the host kernel reported: WARNING: at {entry}"
    assert res.timeline.reports == [KernelReport("host", "warn", entry)]
    after = lines_after(res, "host", "zpci: 0000:00:00.0: Initiating reset", 2)
    assert after[0] == (KERN_WARNING, f"host/log WARNING: at {entry}")
    assert after[1][1].startswith("firmware/clp CLP Set PCI Function disable fid 0x10")
    assert bug.warnings == [entry]
    bug.warnings.clear()


def test_reports_made_before_the_run_are_not_the_runs() -> None:
    WARN(True, "before the run")
    before = list(bug.warnings)
    res = run_scenario("passthrough-userspace")
    assert res.passed, res.failed
    assert res.timeline.reports == []
    assert bug.warnings == before
    bug.warnings.clear()


@pytest.fixture
def warns_twice_then_fails() -> Iterator[str]:
    @scenario("test-warns-twice", "two WARNs, then a failed expectation")
    def run(r: Run) -> None:
        WARN(True, "one")
        WARN(True, "two")
        r.expect(False, "the impossible")

    yield "test-warns-twice"
    del SCENARIOS["test-warns-twice"]


def test_each_report_is_an_unmet_expectation_listed_first(
    warns_twice_then_fails: str, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_scenario(warns_twice_then_fails)
    one, two = bug.warnings
    assert one.endswith(" (run): one") and two.endswith(" (run): two")
    assert res.unmet == [
        f"the host kernel reported: WARNING: at {one}",
        f"the host kernel reported: WARNING: at {two}",
        "the impossible",
    ]
    assert res.failed == f"expectation not met: the host kernel reported: WARNING: at {one} (and 2 more)"
    assert [r.text for r in res.timeline.reports] == [one, two]
    bug.warnings.clear()
    assert main(["run", warns_twice_then_fails, "--width", "400"]) == 1
    out = capsys.readouterr().out.splitlines()
    one, two = bug.warnings
    assert out[-4:] == [
        f"test-warns-twice: expectation not met: the host kernel reported: WARNING: at {one}",
        f"test-warns-twice: expectation not met: the host kernel reported: WARNING: at {two}",
        "test-warns-twice: expectation not met: the impossible",
        "test-warns-twice: FAIL: 3 expectations not met",
    ]
    bug.warnings.clear()


# -- the guest -----------------------------------------------------------------------


def test_abba_in_the_guests_reset_path_fails_passthrough_kvm_naming_the_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(faults.ENV, "abba-reset")
    res = run_scenario("passthrough-kvm")
    assert not res.passed
    assert res.unmet == [f"the guest kernel reported: {ABBA_SUMMARY}"]
    assert res.crashed is None
    assert res.failed == f"expectation not met: the guest kernel reported: {ABBA_SUMMARY}"
    assert res.timeline.reports == [KernelReport("guest", "lockdep", "\n".join(ABBA_REPORT))]
    after = lines_after(res, "guest", "zpci: 0000:00:00.0: Initiating reset", 6)
    assert after[:5] == logged("guest", ABBA_REPORT)
    assert after[5][1] == "qemu/clp guest CLP disable fid 0x10 (ZPCI_FS_ERROR)"
    res.order(
        ("qemu", "ioctl", "VFIO_DEVICE_RESET = 0"),
        ("guest", "log", "zpci: 0000:00:00.0: The device is ready to resume operations"),
        after=next(s.seq for s in res.steps if s.text == ABBA_REPORT[-1]),
    )
    # the VMM ended the run once the guest was done with that event: no second error
    assert res.find("PEC 0x3d") is None
    # the host kernel is clean
    assert lockdep.reports == [] and bug.warnings == []


def test_zpcisim_run_exits_1_with_a_last_line_naming_the_guests_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(faults.ENV, "abba-reset")
    assert main(["run", "passthrough-kvm", "--width", "400"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"passthrough-kvm: FAIL: expectation not met: the guest kernel reported: {ABBA_SUMMARY}"


def test_a_warn_in_the_guests_reset_path_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(faults.ENV, "warn-reset")
    res = run_scenario("passthrough-kvm")
    entry = f"{WARN_SITE}: fault injected into the reset path"
    assert res.failed == f"expectation not met: the guest kernel reported: WARNING: at {entry}"
    assert res.timeline.reports == [KernelReport("guest", "warn", entry)]
    after = lines_after(res, "guest", "zpci: 0000:00:00.0: Initiating reset", 2)
    assert after == [
        (KERN_WARNING, f"guest/log WARNING: at {entry}"),
        (-1, "qemu/clp guest CLP disable fid 0x10 (ZPCI_FS_ERROR)"),
    ]
    assert bug.warnings == []
