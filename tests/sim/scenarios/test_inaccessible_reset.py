"""sim/scenarios/inaccessible_reset.py: v17 2/7 and 3/7, reset of an unreadable function."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_state_save_and_flr_are_skipped_and_the_slot_reset_restores_the_state(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("inaccessible-reset")
    seqs = res.order(
        ("host", "note", "reads 0xffffffff at PCI_COMMAND"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to save state"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to FLR"),
        ("firmware", "reset", "fid 0x10 reset by the hardware: hot reset"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        ("host", "note", "config header after the reset matches the one before"),
    )
    assert res.find("reset by the hardware: FLR", after=seqs[0], kind="reset") is not None  # only at close
    flr = res.find("reset by the hardware: FLR", after=seqs[0])
    assert flr is not None and flr.seq > seqs[-1]
    fn = fw.function(0x10)
    assert fn.enabled and not fn.error and fn.function.accessible
