"""sim/scenarios/multifunction_reset.py: v17 1/7, a per-function slot reset."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_reset_of_function_1_hot_resets_function_1_only(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("multifunction-reset")
    bind = res.order(("user-driver", "ioctl", "VFIO_DEVICE_BIND_IOMMUFD = 0"))[0]
    res.order(
        ("host", "log", "vfio-pci 0000:00:00.1: resetting"),
        ("firmware", "clp", "CLP Set PCI Function disable fid 0x21"),
        ("firmware", "reset", "fid 0x21 reset by the hardware: hot reset"),
        ("firmware", "clp", "CLP Set PCI Function enable fid 0x21"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        after=bind,
    )
    assert not [s for s in res.steps if "fid 0x20" in s.text and s.kind in ("reset", "clp") and s.seq > 2]
    assert fw.function(0x20).function.resets == []
    assert fw.function(0x21).function.resets.count("hot") >= 2
