"""close-with-pending: the userspace driver closes the device with two error records
it never fetched.  The host logs "Unhandled PCI error events count=2 for PCI
function 0x10", drops them and takes recovery back; the next program that opens
the device finds no record (ENOMSG).

The errors can be chosen (``zpcisim run close-with-pending --errors N --pec HEX --fid
HEX``): at most four records wait (ZPCI_ERR_PENDING_MAX; more are dropped as they
come, and logged), and the close counts those; a PEC that concerns the measurement
block stores none, and the close says nothing; after a permanent failure (0x40,
0x3b) the records are counted and cleared the same, and the next open fails with
ENODEV (vfio-pci cannot enable the function).
"""

from __future__ import annotations

import errno
from typing import Final

from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import (
    VIRTIO_NET,
    bind_vfio_pci,
    full_queue_line,
    full_queue_lines,
    mediated,
    pecs_text,
)
from sim.userspace.driver import UserDriver

FID: Final = 0x10


@scenario(
    "close-with-pending",
    "userspace closes with records pending: logged, cleared; the next opener sees none",
    errors=Errors(pecs=(0x3A, 0x3D), count=2, fid=FID),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    pecs = r.errors.all_pecs()
    out = mediated(pecs)
    what = f"error {pecs_text(pecs)}"
    host = r.boot({fid: PciFunction(*VIRTIO_NET)})
    path = bind_vfio_pci(r, host, fid)
    first = UserDriver(path)
    first.open()
    first.register_err_eventfd()
    start = r.timeline.steps[-1].seq
    for pec in pecs:
        host.fw.inject_error(fid, pec=pec)
        host.fw.wait_events_handled()
    r.expect(
        len(r.find_all("Leaving recovery of pass-through device to user-space")) == out.left_to_user,
        f"{out.left_to_user} error(s) left to user-space ({what})",
    )
    full = r.find_all(full_queue_line(host.pdev(fid)), actor="host", kind="log")
    r.expect(len(full) == full_queue_lines(0, out.dropped), f"{out.dropped} error(s) logged as not queued")
    first.close()
    unhandled = f"zpci: Unhandled PCI error events count={len(out.stored)} for PCI function 0x{fid:x}"
    if out.stored:
        closed = r.expect_step(unhandled, actor="host", kind="log", after=start)
    else:
        closed = None
        r.expect(
            r.find("Unhandled PCI error events") is None,
            f"nothing was queued: the close says nothing ({what})",
        )

    second = UserDriver(path)
    r.on_exit(second.close)
    if out.perm_failed:
        # the function failed for good: vfio-pci cannot enable it for a new opener
        try:
            second.open()
            r.expect(False, f"the next open of a permanently failed function fails ({what})")
        except OSError as e:
            r.expect(e.errno == errno.ENODEV, f"the next open fails with ENODEV (it fails with {e.errno})")
        r.expect_step("VFIO_DEVICE_BIND_IOMMUFD = -ENODEV", actor="user-driver", kind="ioctl", after=start)
        return
    second.open()
    r.expect(
        r.attempt(lambda: second.get_error(), "the next opener's GET answers", False) is None,
        "the next opener's GET finds nothing",
    )
    r.expect_step(
        "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG",
        actor="user-driver",
        kind="ioctl",
        after=start if closed is None else closed.seq,
    )
