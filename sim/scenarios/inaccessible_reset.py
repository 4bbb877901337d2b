"""inaccessible-reset (v17 2/7 "PCI: Avoid saving config space state if inaccessible"
and 3/7 "PCI: Fail FLR when config space is inaccessible"): the userspace driver
resets the function right after an error, while its config space reads all ones.

The PCI core does not save the all-ones state ("Device config space inaccessible;
unable to save state") and refuses FLR ("... unable to FLR"), so the reset falls
through to the slot: the firmware disables and re-enables the function.  The state
restored afterwards is the one saved before the error (vfio-pci's ``reset_done``
loads what it saved at open): the header reads as it did before.
"""

from __future__ import annotations

from typing import Final

from kernel.pci.access import pci_read_config_dword
from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import VIRTIO_NET, config_header, open_user_driver
from uapi.linux.pci_regs import PCI_COMMAND

FID: Final = 0x10


@scenario("inaccessible-reset", "patches 2 and 3: reset while config space reads all ones")
def run(r: Run) -> None:
    host = r.boot({FID: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, FID)
    pdev = host.pdev(FID)
    before = config_header(pdev)

    host.fw.inject_error(FID, pec=0x3A)
    host.fw.wait_events_handled()
    _, cmd = pci_read_config_dword(pdev, PCI_COMMAND)
    r.note(f"config space of fid 0x{FID:x} reads 0x{cmd:08x} at PCI_COMMAND")
    r.expect(cmd == 0xFFFFFFFF, "config space reads all ones after the error")

    start = r.timeline.steps[-1].seq
    r.expect(drv.reset() == 0, "VFIO_DEVICE_RESET succeeds")
    r.expect_order(
        ("host", "log", "vfio-pci 0000:00:00.0: resetting"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to save state"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to FLR"),
        ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{FID:x}"),
        ("firmware", "reset", f"fid 0x{FID:x} reset by the hardware: hot reset"),
        ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{FID:x}"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        after=start,
    )
    r.expect(r.find("reset by the hardware: FLR", after=start) is None, "no FLR is attempted on the device")
    after = config_header(pdev)
    r.note(f"config header after the reset {'matches' if after == before else 'differs from'} the one before")
    r.expect(after == before, "the config header reads as before the error (state restored)")
    records = drv.drain()
    r.expect([rec.pec for rec in records] == [0x3A], "the record is still there to fetch after the reset")
