"""ism-error-irq (v17 7/7, "vfio/pci: Remove the pcie check for
VFIO_PCI_ERR_IRQ_INDEX"): an ISM-like function is conventional PCI (no PCI Express
capability).  vfio-pci now gives it the error IRQ too: VFIO_DEVICE_GET_IRQ_INFO
reports one, the userspace driver registers its eventfd, and an error signals it.
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import pci_is_pcie
from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import open_user_driver

FID: Final = 0x30


@scenario("ism-error-irq", "patch 7: a non-PCIe (ISM-like) function gets its error eventfd")
def run(r: Run) -> None:
    ism = PciFunction(0x1014, 0x04ED, class_code=0x120000, pcie=False)
    host = r.boot({FID: ism})
    r.expect(not pci_is_pcie(host.pdev(FID)), "the host sees a conventional PCI function")
    drv = open_user_driver(r, host, FID, eventfd=False)
    r.expect(drv.err_irq_count() == 1, "VFIO_DEVICE_GET_IRQ_INFO reports one error IRQ")
    drv.register_err_eventfd()
    start = r.timeline.steps[-1].seq
    host.fw.inject_error(FID, pec=0x3A)
    host.fw.wait_events_handled()
    records = drv.recover()
    r.expect_order(
        ("firmware", "event", f"error event PEC 0x3a for fid 0x{FID:x}"),
        ("host", "irq", "eventfd_signal"),
        ("host", "log", "Leaving recovery of pass-through device to user-space"),
        ("user-driver", "irq", "read eventfd: counter 1"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3a"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        after=start,
    )
    r.expect([rec.pec for rec in records] == [0x3A], "the ISM driver fetches the record")
    fn = host.fw.function(FID)
    r.expect(fn.enabled and not fn.error, "the function ends enabled and out of the error state")
