"""efault-lost-record: the reviewers' concern with VFIO_DEVICE_FEATURE_ZPCI_ERROR.
The kernel takes the oldest record off the queue before it copies it to the user's
buffer; when that buffer faults, GET fails with EFAULT and the record is gone.  v17
says nothing; as merged (VFIO v18 on) the kernel logs a rate-limited warning, "Failed
to handle PCI error event for PCI function 0x10".  The next GET returns the record
after it.  On the merged kernel the faulting buffer is the one ``data`` points at.
"""

from __future__ import annotations

import errno
from typing import Final

from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import VIRTIO_NET, kernel_series, open_user_driver

FID: Final = 0x10


@scenario("efault-lost-record", "the reviewers' concern: a faulting GET buffer loses one record")
def run(r: Run) -> None:
    host = r.boot({FID: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, FID)
    for pec in (0x3A, 0x3D):
        host.fw.inject_error(FID, pec=pec)
        host.fw.wait_events_handled()
    r.expect(drv.wait_error(), "the eventfd fires")

    drv.zpci_err_reader()  # learn the uAPI first (VFIO_DEVICE_GET_INFO)
    r.note("the user driver's GET buffer faults (its record part is PROT_NONE)", actor="user-driver")
    start = r.timeline.steps[-1].seq
    try:
        drv.get_error(fault=True)
        r.expect(False, "the GET into a faulting buffer fails with EFAULT")
    except OSError as e:
        r.expect(e.errno == errno.EFAULT, "the GET into a faulting buffer fails with EFAULT")
    warning = "vfio-pci 0000:00:00.0: Failed to handle PCI error event for PCI function 0x10"
    if kernel_series() == "mainline":
        r.expect_order(
            ("host", "log", warning),
            ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -EFAULT"),
            after=start,
        )
    else:
        r.expect(not r.find_all("Failed to handle PCI error event"), "v17 loses the record silently")
    records = drv.drain()
    r.expect_order(
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -EFAULT"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3d"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        after=start,
    )
    r.expect([rec.pec for rec in records] == [0x3D], "the record with PEC 0x3a is lost; 0x3d comes next")
    r.expect(drv.reset() == 0, "the reset still brings the function back")
    r.expect(host.fw.function(FID).enabled, "the function ends enabled")
