"""sim/scenarios/close_with_pending.py: records left at close are logged and dropped."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_close_logs_the_count_and_the_next_opener_gets_enomsg(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, _ = passed("close-with-pending")
    res.order(
        ("firmware", "event", "error event PEC 0x3a"),
        ("firmware", "event", "error event PEC 0x3d"),
        ("host", "log", "zpci: Unhandled PCI error events count=2 for PCI function 0x10"),
        ("user-driver", "ioctl", "VFIO_DEVICE_BIND_IOMMUFD = 0"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
    )
    assert not [s for s in res.steps if s.request == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)" and s.ret == 0]
