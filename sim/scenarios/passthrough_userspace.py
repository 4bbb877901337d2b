"""passthrough-userspace: the cover letter's flow with a plain userspace driver and no
KVM.

A PCIe function (fid 0x10) is bound to vfio-pci and opened by
:class:`sim.userspace.driver.UserDriver`, which registers its error eventfd and
probes VFIO_DEVICE_FEATURE_ZPCI_ERROR.  The firmware reports an error (PEC 0x3a);
the host stores the record, signals the eventfd and logs "Leaving recovery of
pass-through device to user-space"; reading the config region now fails with EIO.
The driver reads the eventfd, GETs the record (PEC 0x3a) and then ENOMSG, and
issues VFIO_DEVICE_RESET, which hot-resets the function through its slot (its
config space is unreadable, so the state save and FLR are refused); vfio-pci's
``reset_done`` puts back the state it saved at open.  The function ends enabled
and readable; a second error (PEC 0x3d) recovers the same way.
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.pci.access import pci_read_config_dword
from sim.pci.function import SCRATCH_OFFSET, PciFunction
from sim.scenarios import Run, scenario
from sim.userspace.driver import UserDriver

FID: Final = 0x10


@scenario(
    "passthrough-userspace",
    "the cover letter's flow with a plain userspace driver (no KVM): eventfd, GET, VFIO_DEVICE_RESET",
)
def run(r: Run) -> None:
    fn = PciFunction(0x1AF4, 0x1041)
    host = r.boot({FID: fn})
    drv = UserDriver(host.bind_vfio_pci(FID))
    drv.open()
    r.on_exit(drv.close)
    drv.register_err_eventfd()
    r.expect(drv.probe_zpci_error(), "VFIO_DEVICE_FEATURE(PROBE|ZPCI_ERROR) succeeds")
    # vfio-pci emulates the header; the device-specific registers are read raw
    r.expect(drv.read_config(SCRATCH_OFFSET) == 0, "the device's registers read before the error")

    for pec in (0x3A, 0x3D):
        start = r.timeline.steps[-1].seq
        host.fw.inject_error(FID, pec=pec)
        host.fw.wait_events_handled()
        try:
            drv.read_config(SCRATCH_OFFSET)
            r.expect(False, f"reading the config region fails with EIO after error 0x{pec:x}")
        except OSError as e:
            r.expect(e.errno == errno.EIO, f"reading the config region fails with EIO after error 0x{pec:x}")
        records = drv.recover(timeout=5.0)
        r.expect([rec.pec for rec in records] == [pec], f"one record with PEC 0x{pec:x} is fetched")
        r.expect_order(
            ("firmware", "event", f"error event PEC 0x{pec:x}"),
            ("host", "log", f"Event 0x{pec:x} reports an error for PCI function 0x{FID:x}"),
            ("host", "irq", "eventfd_signal"),
            ("host", "log", "Leaving recovery of pass-through device to user-space"),
            ("user-driver", "irq", "read eventfd"),
            ("user-driver", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pec:x}"),
            ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
            ("host", "log", "Device config space inaccessible; unable to save state"),
            ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{FID:x}"),
            ("firmware", "reset", f"fid 0x{FID:x} reset by the hardware: hot reset"),
            ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{FID:x}"),
            ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
            after=start,
        )
        fwfn = host.fw.function(FID)
        r.expect(fwfn.enabled and not fwfn.error, f"the function is enabled, not in error (0x{pec:x})")
        r.expect(drv.read_config(SCRATCH_OFFSET) == 0, f"the device's registers answer again (0x{pec:x})")
        _, id_ = pci_read_config_dword(host.pdev(FID), 0)
        r.expect(id_ == 0x10411AF4, f"the host reads the vendor/device id again (0x{pec:x})")
