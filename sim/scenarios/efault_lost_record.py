"""efault-lost-record: the reviewers' concern with VFIO_DEVICE_FEATURE_ZPCI_ERROR.
The kernel takes the oldest record off the queue before it copies it to the user's
buffer; when that buffer faults, GET fails with EFAULT and the record is gone (v18
adds a rate-limited warning, v17 says nothing).  The next GET returns the record
after it.
"""

from __future__ import annotations

import ctypes
import errno
from typing import Final

from kernel.lib.uaccess import clear_faults, make_fault
from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import VIRTIO_NET, open_user_driver
from sim.userspace.driver import ZpciErrFeature

FID: Final = 0x10


@scenario("efault-lost-record", "the reviewers' concern: a faulting GET buffer loses one record")
def run(r: Run) -> None:
    host = r.boot({FID: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, FID)
    for pec in (0x3A, 0x3D):
        host.fw.inject_error(FID, pec=pec)
        host.fw.wait_events_handled()
    r.expect(drv.wait_error(), "the eventfd fires")

    buf = ZpciErrFeature()
    # the record part of the buffer faults, as after mprotect(PROT_NONE)
    make_fault(ctypes.addressof(buf.err), ctypes.sizeof(buf.err))
    r.note("the user driver's GET buffer faults (its record part is PROT_NONE)", actor="user-driver")
    start = r.timeline.steps[-1].seq
    try:
        drv.get_error(buf)
        r.expect(False, "the GET into a faulting buffer fails with EFAULT")
    except OSError as e:
        r.expect(e.errno == errno.EFAULT, "the GET into a faulting buffer fails with EFAULT")
    finally:
        clear_faults()
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
