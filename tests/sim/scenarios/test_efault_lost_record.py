"""sim/scenarios/efault_lost_record.py: a faulting GET buffer loses the record."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_efault_loses_the_oldest_record_and_the_next_get_returns_the_following_one(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("efault-lost-record")
    gets = [s for s in res.steps if s.request == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)"]
    assert [(s.ret, s.fields.get("pec")) for s in gets] == [(-14, None), (0, 0x3D), (-42, None)]
    res.order(
        ("user-driver", "note", "GET buffer faults"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -EFAULT"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
    )
    assert fw.function(0x10).enabled
