"""sim/scenarios/perm_failure.py: PEC 0x40 and 0x3b are permanent failures."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_record_is_stored_and_drivers_are_told_perm_failure(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("perm-failure")
    res.order(
        ("firmware", "event", "error event PEC 0x40 for fid 0x10"),
        ("host", "log", "zpci: 0000:00:00.0: Event 0x40 reports an error for PCI function 0x10"),
        ("host", "irq", "eventfd_signal"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x40 fid 0x10"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = -EIO"),
        ("firmware", "event", "error event PEC 0x3b for fid 0x11"),
        ("host", "log", "nvme-like 0001:00:00.0: permanent failure detected, giving up on the controller"),
    )
    assert res.find("Leaving recovery") is None and res.find("Initiating reset") is None
    assert fw.function(0x10).perm_failed and not fw.function(0x10).enabled
    assert fw.function(0x11).perm_failed
