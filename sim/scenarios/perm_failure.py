"""perm-failure: PEC 0x40 (service action) and 0x3b (error recovery failed) mean the
function failed for good.  No recovery is attempted: the record is stored for the
userspace driver all the same and the drivers are told ``pci_channel_io_perm_failure``.

fid 0x10 belongs to a userspace driver through vfio-pci (PEC 0x40): it is signalled,
GETs the record with PEC 0x40, and its VFIO_DEVICE_RESET cannot bring the function
back (the firmware refuses to enable a permanently failed function).  fid 0x11 is
driven by the NVMe-like host driver (PEC 0x3b), which is told of the permanent
failure and gives up.

The errors can be chosen among the permanent ones (``zpcisim run perm-failure --pec
0x3b|0x40 --errors N --fid HEX``): the N errors hit the userspace driver's function
(``--fid``), the next N, PECs taken in turn, the host driver's fid 0x11.  Each one is
stored while the queue has room (ZPCI_ERR_PENDING_MAX, 4) and signalled; the host
driver is told of each.
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import pci_channel_io_perm_failure, pci_name
from kernel.pci.pci_driver import pci_register_driver
from sim.drivers.nvme_like import NvmeLikeDriver
from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import VIRTIO_NET, open_user_driver, user_recovery
from sim.zpci.firmware import PERM_PECS

VFIO_FID: Final = 0x10
HOST_FID: Final = 0x11


@scenario(
    "perm-failure",
    "PEC 0x40 / 0x3b: stored and reported as permanent failure",
    errors=Errors(
        pecs=(0x40, 0x3B),
        count=1,
        fid=VFIO_FID,
        fixed_fids=(HOST_FID,),
        pec_choices=PERM_PECS,
        rounds=(None, HOST_FID),
    ),
)
def run(r: Run) -> None:
    fid, count = r.errors.fid, r.errors.count
    pecs = r.errors.all_pecs()
    host_pecs = [r.errors.pec(count + n) for n in range(count)]
    host = r.boot({fid: PciFunction(*VIRTIO_NET), HOST_FID: PciFunction(0x144D, 0xA808)})
    nvme = NvmeLikeDriver(0x144D, 0xA808)
    r.expect(pci_register_driver(nvme.driver) == 0, "the NVMe-like driver registers")
    drv = open_user_driver(r, host, fid)
    name = pci_name(host.pdev(fid))

    start = r.timeline.steps[-1].seq
    user_recovery(r, host, drv, fid, pecs, start=start)
    r.expect_order(
        ("firmware", "event", f"error event PEC 0x{pecs[0]:x} for fid 0x{fid:x}"),
        ("host", "log", f"zpci: {name}: Event 0x{pecs[0]:x} reports an error for PCI function 0x{fid:x}"),
        ("host", "irq", "eventfd_signal"),
        after=start,
    )
    r.expect(
        r.find("Leaving recovery", after=start) is None, "no recovery is attempted for a permanent failure"
    )
    r.expect(
        host.pdev(fid).error_state == pci_channel_io_perm_failure,
        "vfio-pci's function is in pci_channel_io_perm_failure",
    )

    start = r.timeline.steps[-1].seq
    host_name = pci_name(host.pdev(HOST_FID))
    for pec in host_pecs:
        at = r.timeline.steps[-1].seq
        host.fw.inject_error(HOST_FID, pec=pec)
        host.fw.wait_events_handled()
        r.expect_order(
            ("firmware", "event", f"error event PEC 0x{pec:x} for fid 0x{HOST_FID:x}"),
            (
                "host",
                "log",
                f"zpci: {host_name}: Event 0x{pec:x} reports an error for PCI function 0x{HOST_FID:x}",
            ),
            (
                "host",
                "log",
                f"nvme-like {host_name}: permanent failure detected, giving up on the controller",
            ),
            after=at,
        )
    r.expect(
        nvme.calls == [("error_detected", host_name, "perm_failure")] * count,
        "the host driver is told perm_failure, and nothing else",
    )
    r.expect(
        host.fw.function(HOST_FID).perm_failed, f"the firmware marks fid 0x{HOST_FID:x} permanently failed"
    )
