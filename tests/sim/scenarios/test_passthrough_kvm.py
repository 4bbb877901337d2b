"""sim/scenarios/passthrough_kvm.py: the cover letter's flow, with a VMM and a guest
that runs the ported kernel in its own process."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from sim.cli import main
from sim.scenarios import Result, run_scenario
from sim.vmm.qemu import Qemu


def guest_pid(res: Result) -> int:
    assert res.find("guest process started", actor="qemu", kind="note") is not None
    qemu = res.kept["qemu"]
    assert isinstance(qemu, Qemu)
    return qemu.guest.pid


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_guest_drives_the_reset_of_an_error_left_to_userspace() -> None:
    res = run_scenario("passthrough-kvm")
    assert res.passed, res.failed
    first = res.order(
        ("firmware", "event", "error event PEC 0x3a for fid 0x10"),
        ("host", "log", "zpci: 0000:00:00.0: Event 0x3a reports an error for PCI function 0x10"),
        ("host", "irq", "eventfd_signal"),
        ("host", "log", "zpci: 0000:00:00.0: Leaving recovery of pass-through device to user-space"),
        ("firmware", "clp", "status: in progress"),
        ("qemu", "irq", "read eventfd"),
        ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3a fid 0x10"),
        ("qemu", "event", "inject error event into the guest: PEC 0x3a fh 0x80000001 fid 0x10"),
        ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("guest", "log", "zpci: 0000:00:00.0: Event 0x3a reports an error for PCI function 0x10"),
        ("guest", "log", "nvme-like 0000:00:00.0: frozen state error detected, controller needs a reset"),
        ("guest", "log", "zpci: 0000:00:00.0: Initiating reset"),
        ("qemu", "clp", "guest CLP disable fid 0x10 (ZPCI_FS_ERROR)"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to save state"),
        ("firmware", "clp", "CLP Set PCI Function disable fid 0x10"),
        ("firmware", "reset", "fid 0x10 reset by the hardware: hot reset"),
        ("firmware", "clp", "CLP Set PCI Function enable fid 0x10"),
        ("qemu", "ioctl", "VFIO_DEVICE_RESET = 0"),
        ("host", "note", "BAR 0 of fid 0x10 reads 0xc0000000 after the reset (0xc0000000 at open)"),
        ("qemu", "clp", "guest CLP enable fid 0x10: fh 0x80000001"),
        ("guest", "log", "nvme-like 0000:00:00.0: restarting the controller after slot reset"),
        ("guest", "log", "zpci: 0000:00:00.0: The device is ready to resume operations"),
        ("qemu", "note", "guest reports to its platform for fid 0x10: report: recovery, status: success"),
    )
    second = res.order(
        ("firmware", "event", "error event PEC 0x3d for fid 0x10"),
        ("host", "log", "Leaving recovery of pass-through device to user-space"),
        ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3d fid 0x10"),
        ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("guest", "log", "Event 0x3d reports an error for PCI function 0x10"),
        ("guest", "log", "Initiating reset"),
        ("qemu", "ioctl", "VFIO_DEVICE_RESET = 0"),
        ("guest", "log", "The device is ready to resume operations"),
        after=first[-1],
    )
    assert second
    # the host never recovers the function itself; nothing is left unhandled
    assert res.find("Initiating reset", actor="host") is None
    assert res.find("Unhandled PCI error events") is None
    # the guest's log lines are the guest kernel's, exactly as printed
    guest_lines = [s.text for s in res.steps if s.actor == "guest"]
    assert "zpci: 0000:00:00.0: Initiating reset" in guest_lines
    assert process_gone(guest_pid(res))


def test_ioctl_steps_of_the_vmm_carry_request_and_result() -> None:
    res = run_scenario("passthrough-kvm")
    assert res.passed, res.failed
    resets = [s for s in res.steps if s.actor == "qemu" and s.request == "VFIO_DEVICE_RESET"]
    assert [s.ret for s in resets] == [0, 0]
    enomsg = [s for s in res.steps if s.actor == "qemu" and s.kind == "ioctl" and s.ret == -errno.ENOMSG]
    assert [s.request for s in enomsg] == ["VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)"] * 2
    add = res.find("KVM_DEV_VFIO_FILE_ADD", actor="qemu", kind="ioctl")
    bind = res.find("VFIO_DEVICE_BIND_IOMMUFD", actor="qemu", kind="ioctl")
    assert add is not None and bind is not None and add.seq < bind.seq


def test_runs_are_deterministic_in_their_order_of_steps() -> None:
    def shape(res: Result) -> list[tuple[str, str, str]]:
        # descriptor and eventfd numbers may differ between runs; the steps may not
        return [(s.actor, s.kind, re.sub(r"(pid|fd|eventfd) \d+", r"\1 N", s.text)) for s in res.steps]

    a = run_scenario("passthrough-kvm")
    b = run_scenario("passthrough-kvm")
    assert a.passed and b.passed
    assert shape(a) == shape(b)


def test_a_guest_crash_ends_the_run_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_boot(self: Qemu, **config: bool) -> Any:
        return self.guest.call("boot", None, {}, [])  # the guest cannot take this

    monkeypatch.setattr(Qemu, "boot_guest", bad_boot)
    res = run_scenario("passthrough-kvm")
    assert not res.passed
    assert res.failed is not None
    assert res.failed.startswith("the run crashed: GuestError: guest: crashed during 'boot'")
    assert "TypeError" in res.failed
    assert process_gone(guest_pid(res))


def test_cli_exits_1_when_the_guest_crashes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(Qemu, "boot_guest", lambda self, **c: self.guest.call("boot", None, {}, []))
    assert main(["run", "passthrough-kvm"]) == 1
    out = capsys.readouterr()
    assert "guest: crashed during 'boot'" in out.out + out.err


def test_cli_runs_passthrough_kvm(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-kvm", "--width", "120"]) == 0
    out = capsys.readouterr().out
    assert "guest       log    zpci: 0000:00:00.0: The device is ready to resume operations" in out


def test_json_steps_name_the_kernel_function_and_line_that_made_them_host_and_guest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "passthrough-kvm", "--json"]) == 0
    steps = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    root = Path(__file__).resolve().parents[3]

    def at(source: str) -> str:
        path, line = source.rsplit(":", 1)
        return (root / path).read_text().splitlines()[int(line) - 1].strip()

    leaving_text = "Leaving recovery of pass-through device to user-space"
    leaving = [s for s in steps if s["text"].endswith(leaving_text)]
    host_fn = ("host", "zpci_event_attempt_error_recovery")
    assert [(s["actor"], s["function"]) for s in leaving] == [host_fn, host_fn]
    assert leaving[0]["source"].startswith("kernel/s390/pci/pci_event.py:")
    assert at(leaving[0]["source"]).startswith("pr_info(")
    initiating = next(s for s in steps if s["text"] == "zpci: 0000:00:00.0: Initiating reset")
    assert (initiating["actor"], initiating["function"]) == ("guest", "zpci_event_do_reset")
    assert at(initiating["source"]) == 'pr_info("%s: Initiating reset\\n", pci_name(pdev))'
    reset = next(s for s in steps if s["kind"] == "ioctl" and s["text"] == "VFIO_DEVICE_RESET = 0")
    assert reset["function"] == "vfio_pci_ioctl_reset"
    enomsg = next(s for s in steps if s["kind"] == "ioctl" and s["ret"] == -errno.ENOMSG)
    assert (enomsg["function"], at(enomsg["source"])) == ("zpci_get_pending_error", "return -errno.ENOMSG")


def test_cli_source_prints_the_function_and_line_under_each_kernel_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "passthrough-kvm", "--source", "--width", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    leaving = "zpci: 0000:00:00.0: Leaving recovery of pass-through device to user-space"
    # the step numbers depend on the tree (the merged kernel logs "reset done" at open)
    step = r" +\d+  host        log    " + re.escape(leaving)
    at = [k for k, line in enumerate(lines) if re.fullmatch(step, line)]
    assert len(at) == 2  # one per round
    where = r" {25}zpci_event_attempt_error_recovery  kernel/s390/pci/pci_event\.py:\d+"
    assert all(re.fullmatch(where, lines[i + 1]) for i in at)
    # steps that no kernel code made (firmware events, notes) get no second line
    j = next(k for k, line in enumerate(lines) if "firmware    event  error event PEC 0x3a" in line)
    event = r" +\d+  host        log    zpci: 0000:00:00\.0: Event 0x3a reports an error"
    assert re.match(event, lines[j + 1])
