"""sim/scenarios/host_recovery.py: recovery by host drivers, as before the series."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_host_driver_recovers_by_reset_then_without_one(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("host-recovery")
    first = res.order(
        ("host", "log", "nvme-like 0000:00:00.0: frozen state error detected, controller needs a reset"),
        ("host", "log", "zpci: 0000:00:00.0: Initiating reset"),
        ("firmware", "reset", "fid 0x10 reset by the hardware: hot reset"),
        ("host", "log", "nvme-like 0000:00:00.0: restarting the controller after slot reset"),
        ("host", "log", "zpci: 0000:00:00.0: The device is ready to resume operations"),
        ("host", "log", "nvme-like 0000:00:00.0: resuming I/O"),
    )
    res.order(
        ("host", "log", "zpci: 0000:00:00.0: Unblocking device access for examination"),
        ("firmware", "clp", "MPCIFC Reset Block fid 0x10: cc 0"),
        ("host", "log", "nvme-like 0000:00:00.0: MMIO enabled"),
        ("firmware", "clp", "MPCIFC Reset Error fid 0x10: cc 0"),
        ("host", "log", "zpci: 0000:00:00.0: The device is ready to resume operations"),
        after=first[-1],
    )
    assert res.find("Leaving recovery") is None
    nvme = fw.function(0x10)
    assert nvme.enabled and not nvme.error and nvme.function.accessible
    assert nvme.function.resets == ["hot"]


def test_driver_without_error_handlers_is_not_recovered(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("host-recovery")
    step = res.find(
        "zpci: 0001:00:00.0: The plain-nic driver bound to the device does not support error recovery",
        actor="host",
        kind="log",
    )
    assert step is not None
    assert res.find("Initiating reset", after=step.seq) is None
    assert fw.function(0x11).error and fw.function(0x11).function.resets == []
