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

The errors can be chosen (``zpcisim run passthrough-userspace --pec HEX --errors N
--fid HEX``): each of the two rounds then brings N errors before the driver wakes.
More than ZPCI_ERR_PENDING_MAX (4) overflow the queue: the host logs "Maximum number
(4) of pending error events queued" for each one it drops and the driver fetches the
first four (as merged, that line is rate-limited: at most ten in a run).  A
permanent-failure PEC (0x40, 0x3b) is not left to userspace: the record is stored
and signalled all the same, the reset cannot bring the function back, and the run
ends after that round.
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.lib.errno import errname
from kernel.pci.access import pci_read_config_dword
from sim.pci.function import SCRATCH_OFFSET, PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import bind_vfio_pci, full_queue_lines
from sim.userspace.driver import UserDriver
from sim.zpci.firmware import FMB_PECS, PERM_PECS

FID: Final = 0x10
#: ZPCI_ERR_PENDING_MAX: the records the host queues per function
QUEUED: Final = 4


@scenario(
    "passthrough-userspace",
    "the cover letter's flow with a plain userspace driver (no KVM): eventfd, GET, VFIO_DEVICE_RESET",
    errors=Errors(pecs=(0x3A, 0x3D), count=1, fid=FID, rounds=(None, None)),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    fn = PciFunction(0x1AF4, 0x1041)
    host = r.boot({fid: fn})
    drv = UserDriver(bind_vfio_pci(r, host, fid))
    drv.open()
    r.on_exit(drv.close)
    drv.register_err_eventfd()
    r.expect(drv.probe_zpci_error(), "VFIO_DEVICE_FEATURE(PROBE|ZPCI_ERROR) succeeds")
    # vfio-pci emulates the header; the device-specific registers are read raw
    r.expect(drv.read_config(SCRATCH_OFFSET) == 0, "the device's registers read before the error")

    count = r.errors.count
    for round_ in range(2):
        pecs = [r.errors.pec(round_ * count + n) for n in range(count)]
        what = "error " + "/".join(f"0x{pec:x}" for pec in dict.fromkeys(pecs))
        start = r.timeline.steps[-1].seq
        for pec in pecs:
            host.fw.inject_error(fid, pec=pec)
            host.fw.wait_events_handled()
        if not all(pec in FMB_PECS for pec in pecs):
            try:
                drv.read_config(SCRATCH_OFFSET)
                r.expect(False, f"reading the config region fails with EIO after {what}")
            except OSError as e:
                r.expect(e.errno == errno.EIO, f"reading the config region fails with EIO after {what}")
        dropped = max(0, count - QUEUED)
        full = r.find_all("Maximum number (4) of pending error events queued", actor="host", kind="log")
        r.expect(
            len([s for s in full if s.seq > start]) == full_queue_lines(round_ * dropped, dropped),
            f"{dropped} error(s) logged as not queued ({what})",
        )
        if any(pec in PERM_PECS for pec in pecs):
            _permanent(r, host.fw, drv, fid, pecs, start)
            return
        records = r.attempt(
            lambda: drv.recover(timeout=5.0), f"the driver fetches the records and resets ({what})", []
        )
        r.expect([rec.pec for rec in records] == pecs[:QUEUED], f"the queued records are fetched ({what})")
        r.expect_order(
            ("firmware", "event", f"error event PEC 0x{pecs[0]:x}"),
            ("host", "log", f"Event 0x{pecs[0]:x} reports an error for PCI function 0x{fid:x}"),
            ("host", "irq", "eventfd_signal"),
            ("host", "log", "Leaving recovery of pass-through device to user-space"),
            ("user-driver", "irq", "read eventfd"),
            ("user-driver", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pecs[0]:x}"),
            ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
            ("host", "log", "Device config space inaccessible; unable to save state"),
            ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{fid:x}"),
            ("firmware", "reset", f"fid 0x{fid:x} reset by the hardware: hot reset"),
            ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{fid:x}"),
            ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
            after=start,
        )
        fwfn = host.fw.function(fid)
        r.expect(fwfn.enabled and not fwfn.error, f"the function is enabled, not in error ({what})")
        scratch = r.attempt(
            lambda: drv.read_config(SCRATCH_OFFSET), f"the config region reads ({what})", None
        )
        r.expect(scratch == 0, f"the device's registers answer again ({what})")
        _, id_ = pci_read_config_dword(host.pdev(fid), 0)
        r.expect(id_ == 0x10411AF4, f"the host reads the vendor/device id again ({what})")


def _permanent(r: Run, fw: object, drv: UserDriver, fid: int, pecs: list[int], start: int) -> None:
    """A round with a permanent-failure PEC: signalled and stored, not recoverable."""
    from sim.zpci.firmware import ZpciFirmware

    assert isinstance(fw, ZpciFirmware)
    r.expect(r.find("Leaving recovery", after=start) is None, "a permanent failure is not left to user-space")
    r.expect(drv.wait_error(timeout=5.0), "the userspace driver is signalled")
    records = r.attempt(drv.drain, "the driver GETs until ENOMSG", [])
    r.expect([rec.pec for rec in records] == pecs[:QUEUED], "the driver GETs the stored records")
    try:
        rc = drv.reset()
        r.expect(False, f"VFIO_DEVICE_RESET of a permanently failed function fails (it returned {rc})")
    except OSError as e:
        r.note(
            f"VFIO_DEVICE_RESET fails with {errname(-(e.errno or 0))}: the function failed for good",
            actor="user-driver",
        )
    r.expect(not fw.function(fid).enabled, f"fid 0x{fid:x} stays disabled")
