"""close-with-pending: the userspace driver closes the device with two error records
it never fetched.  The host logs "Unhandled PCI error events count=2 for PCI
function 0x10", drops them and takes recovery back; the next program that opens
the device finds no record (ENOMSG).
"""

from __future__ import annotations

from typing import Final

from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import VIRTIO_NET
from sim.userspace.driver import UserDriver

FID: Final = 0x10


@scenario(
    "close-with-pending", "userspace closes with records pending: logged, cleared; the next opener sees none"
)
def run(r: Run) -> None:
    host = r.boot({FID: PciFunction(*VIRTIO_NET)})
    path = host.bind_vfio_pci(FID)
    first = UserDriver(path)
    first.open()
    first.register_err_eventfd()
    start = r.timeline.steps[-1].seq
    for pec in (0x3A, 0x3D):
        host.fw.inject_error(FID, pec=pec)
        host.fw.wait_events_handled()
    r.expect(len(r.find_all("Leaving recovery of pass-through device to user-space")) == 2, "both are queued")
    first.close()
    closed = r.expect_step(
        "zpci: Unhandled PCI error events count=2 for PCI function 0x10",
        actor="host",
        kind="log",
        after=start,
    )

    second = UserDriver(path)
    second.open()
    r.on_exit(second.close)
    r.expect(second.get_error() is None, "the next opener's GET finds nothing")
    r.expect_step(
        "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG",
        actor="user-driver",
        kind="ioctl",
        after=start if closed is None else closed.seq,
    )
