"""inaccessible-reset (v17 2/7 "PCI: Avoid saving config space state if inaccessible"
and 3/7 "PCI: Fail FLR when config space is inaccessible"): the userspace driver
resets the function right after an error, while its config space reads all ones --
before the host has handled the error event.

The firmware raises the error (the function's load/store is blocked at once) but
holds back the channel report (:meth:`sim.zpci.firmware.ZpciFirmware.events_held`),
so the reset meets the error state on every kernel tree, whatever the host would do
with the event (with v17 4/7 it leaves recovery to userspace; before it, it
recovers the function itself).  The PCI core does not save the all-ones state
("Device config space inaccessible; unable to save state") and refuses FLR ("...
unable to FLR"), so the reset falls through to the slot: the firmware disables and
re-enables the function.  The state restored afterwards is the one saved before the
error (vfio-pci's ``reset_done`` loads what it saved at open): the header reads as
it did before.  When the event then reaches the host, it names the function's old
handle: the host ignores it as stale (a debug line only) and stores no record.

``zpcisim compare inaccessible-reset --from v17:2 --to v17:3`` shows patch 3 alone:
on v17:2 the FLR is attempted on the unreadable function.
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.include.linux.pci import pci_name
from kernel.pci.access import pci_read_config_dword
from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import VIRTIO_NET, config_header, open_user_driver
from uapi.linux.pci_regs import PCI_COMMAND

FID: Final = 0x10


@scenario(
    "inaccessible-reset",
    "patches 2 and 3: reset while config space reads all ones",
    errors=Errors(pecs=(0x3A,), count=1, fid=FID),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    host = r.boot({fid: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, fid)
    pdev = host.pdev(fid)
    name = pci_name(pdev)
    before = config_header(pdev)

    with host.fw.events_held():
        for pec in r.errors.all_pecs():
            host.fw.inject_error(fid, pec=pec)
        _, cmd = pci_read_config_dword(pdev, PCI_COMMAND)
        r.note(f"config space of fid 0x{fid:x} reads 0x{cmd:08x} at PCI_COMMAND")
        r.expect(cmd == 0xFFFFFFFF, "config space reads all ones after the error")

        start = r.timeline.steps[-1].seq
        r.expect(drv.reset() == 0, "VFIO_DEVICE_RESET succeeds")
        r.expect_order(
            ("host", "log", f"vfio-pci {name}: resetting"),
            ("host", "log", f"vfio-pci {name}: Device config space inaccessible; unable to save state"),
            ("host", "log", f"vfio-pci {name}: Device config space inaccessible; unable to FLR"),
            ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{fid:x}"),
            ("firmware", "reset", f"fid 0x{fid:x} reset by the hardware: hot reset"),
            ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{fid:x}"),
            ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
            after=start,
        )
        flr = r.find("reset by the hardware: FLR", after=start)
        r.expect(flr is None, "no FLR is attempted on the device")
        after = config_header(pdev)
        same = "matches" if after == before else "differs from"
        r.note(f"config header after the reset {same} the one before")
        r.expect(after == before, "the config header reads as before the error (state restored)")
    host.fw.wait_events_handled()
    try:
        record = drv.get_error()
    except OSError as e:  # a kernel without v17 5/7 has no such feature
        why = errno.errorcode.get(e.errno or 0, str(e.errno))
        r.expect(False, f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) answers (it fails: {why})")
    else:
        r.expect(record is None, "the late event names the old handle: no record is stored")
