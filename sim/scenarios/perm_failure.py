"""perm-failure: PEC 0x40 (service action) and 0x3b (error recovery failed) mean the
function failed for good.  No recovery is attempted: the record is stored for the
userspace driver all the same and the drivers are told ``pci_channel_io_perm_failure``.

fid 0x10 belongs to a userspace driver through vfio-pci (PEC 0x40): it is signalled,
GETs the record with PEC 0x40, and its VFIO_DEVICE_RESET cannot bring the function
back (the firmware refuses to enable a permanently failed function).  fid 0x11 is
driven by the NVMe-like host driver (PEC 0x3b), which is told of the permanent
failure and gives up.
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import pci_channel_io_perm_failure
from kernel.pci.pci_driver import pci_register_driver
from sim.drivers.nvme_like import NvmeLikeDriver
from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import VIRTIO_NET, open_user_driver

VFIO_FID: Final = 0x10
HOST_FID: Final = 0x11


@scenario("perm-failure", "PEC 0x40 / 0x3b: stored and reported as permanent failure")
def run(r: Run) -> None:
    host = r.boot({VFIO_FID: PciFunction(*VIRTIO_NET), HOST_FID: PciFunction(0x144D, 0xA808)})
    nvme = NvmeLikeDriver(0x144D, 0xA808)
    r.expect(pci_register_driver(nvme.driver) == 0, "the NVMe-like driver registers")
    drv = open_user_driver(r, host, VFIO_FID)

    start = r.timeline.steps[-1].seq
    host.fw.inject_error(VFIO_FID, pec=0x40)
    host.fw.wait_events_handled()
    r.expect_order(
        ("firmware", "event", "error event PEC 0x40 for fid 0x10"),
        ("host", "log", "zpci: 0000:00:00.0: Event 0x40 reports an error for PCI function 0x10"),
        ("host", "irq", "eventfd_signal"),
        after=start,
    )
    r.expect(r.find("Leaving recovery", after=start) is None, "no recovery is attempted for PEC 0x40")
    r.expect(
        host.pdev(VFIO_FID).error_state == pci_channel_io_perm_failure,
        "vfio-pci's function is in pci_channel_io_perm_failure",
    )
    r.expect(drv.wait_error(timeout=5.0), "the userspace driver is signalled")
    records = drv.drain()
    r.expect([rec.pec for rec in records] == [0x40], "the userspace driver GETs the record with PEC 0x40")
    try:
        drv.reset()
        r.expect(False, "VFIO_DEVICE_RESET of a permanently failed function fails")
    except OSError:
        pass
    r.expect(
        r.find("VFIO_DEVICE_RESET = -", actor="user-driver", kind="ioctl") is not None, "the reset fails"
    )
    r.expect(not host.fw.function(VFIO_FID).enabled, "fid 0x10 stays disabled")

    start = r.timeline.steps[-1].seq
    host.fw.inject_error(HOST_FID, pec=0x3B)
    host.fw.wait_events_handled()
    r.expect_order(
        ("firmware", "event", "error event PEC 0x3b for fid 0x11"),
        ("host", "log", "zpci: 0001:00:00.0: Event 0x3b reports an error for PCI function 0x11"),
        ("host", "log", "nvme-like 0001:00:00.0: permanent failure detected, giving up on the controller"),
        after=start,
    )
    r.expect(
        nvme.calls == [("error_detected", "0001:00:00.0", "perm_failure")],
        "the host driver is told perm_failure, and nothing else",
    )
    r.expect(host.fw.function(HOST_FID).perm_failed, "the firmware marks fid 0x11 permanently failed")
