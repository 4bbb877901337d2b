"""efault-lost-record: the reviewers' concern with VFIO_DEVICE_FEATURE_ZPCI_ERROR.
The kernel takes the oldest record off the queue before it copies it to the user's
buffer; when that buffer faults, GET fails with EFAULT and the record is gone.  v17
says nothing; as merged (VFIO v18 on) the kernel logs a rate-limited warning, "Failed
to handle PCI error event for PCI function 0x10".  The next GET returns the record
after it.  On the merged kernel the faulting buffer is the one ``data`` points at.

The errors can be chosen (``zpcisim run efault-lost-record --errors N --pec HEX --fid
HEX``): the oldest queued record is lost and the others (at most three: four are
queued) follow; with one error none follows; a PEC that concerns the measurement
block queues nothing, so the faulting GET finds the queue empty (ENOMSG) and loses
nothing; after a permanent failure (0x40, 0x3b) the records are there as well, but
the reset cannot bring the function back.
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.include.linux.pci import pci_name
from kernel.lib.errno import errname
from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import VIRTIO_NET, kernel_series, mediated, open_user_driver, pecs_text

FID: Final = 0x10


@scenario(
    "efault-lost-record",
    "the reviewers' concern: a faulting GET buffer loses one record",
    errors=Errors(pecs=(0x3A, 0x3D), count=2, fid=FID),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    pecs = r.errors.all_pecs()
    out = mediated(pecs)
    what = f"error {pecs_text(pecs)}"
    host = r.boot({fid: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, fid)
    for pec in pecs:
        host.fw.inject_error(fid, pec=pec)
        host.fw.wait_events_handled()
    if out.signalled:
        r.expect(drv.wait_error(), "the eventfd fires")
    else:
        r.expect(
            not drv.wait_error(timeout=0),
            f"the eventfd does not fire ({what} concerns the measurement block)",
        )

    drv.zpci_err_reader()  # learn the uAPI first (VFIO_DEVICE_GET_INFO)
    r.note("the user driver's GET buffer faults (its record part is PROT_NONE)", actor="user-driver")
    start = r.timeline.steps[-1].seq
    failed = "-EFAULT" if out.stored else "-ENOMSG"
    try:
        rec = drv.get_error(fault=True)
        r.expect(
            rec is None and not out.stored,
            f"the GET into a faulting buffer fails with {failed[1:]} (it returned a record)",
        )
    except OSError as e:
        got = errname(-(e.errno or 0))
        r.expect(
            e.errno == errno.EFAULT and out.stored,
            f"the GET into a faulting buffer fails with {failed[1:]} (it fails with {got})",
        )
    warning = (
        f"vfio-pci {pci_name(host.pdev(fid))}: Failed to handle PCI error event for PCI function 0x{fid:x}"
    )
    if kernel_series() == "mainline" and out.stored:
        r.expect_order(
            ("host", "log", warning),
            ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -EFAULT"),
            after=start,
        )
    elif out.stored:
        r.expect(not r.find_all("Failed to handle PCI error event"), "v17 loses the record silently")
    else:
        r.expect(not r.find_all("Failed to handle PCI error event"), "no record, none lost, no warning")
    records = r.attempt(drv.drain, "the driver GETs until ENOMSG", [])
    r.expect_order(
        ("user-driver", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = {failed}"),
        *[
            ("user-driver", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pec:x}")
            for pec in out.stored[1:]
        ],
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        after=start,
    )
    if out.stored:
        lost, rest = f"0x{out.stored[0]:x}", ", ".join(f"0x{p:x}" for p in out.stored[1:]) or "nothing"
        r.expect(
            [rec.pec for rec in records] == list(out.stored[1:]),
            f"the record with PEC {lost} is lost; {rest} comes next",
        )
    if out.perm_failed:
        try:
            rc = drv.reset()
            r.expect(False, f"VFIO_DEVICE_RESET of a permanently failed function fails (it returned {rc})")
        except OSError:
            pass
        r.expect(not host.fw.function(fid).enabled, "the function stays disabled")
    else:
        r.expect(
            r.attempt(drv.reset, "VFIO_DEVICE_RESET", None) == 0, "the reset still brings the function back"
        )
        r.expect(host.fw.function(fid).enabled, "the function ends enabled")
