"""ism-error-irq (v17 7/7, "vfio/pci: Remove the pcie check for
VFIO_PCI_ERR_IRQ_INDEX"): an ISM-like function is conventional PCI (no PCI Express
capability).  vfio-pci now gives it the error IRQ too: VFIO_DEVICE_GET_IRQ_INFO
reports one, the userspace driver registers its eventfd, and an error signals it.

The errors can be chosen (``zpcisim run ism-error-irq --errors N --pec HEX --fid
HEX``); the expectations follow them as in queue-overflow
(:func:`sim.scenarios._common.user_recovery`).
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import pci_is_pcie
from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import open_user_driver, user_recovery

FID: Final = 0x30


@scenario(
    "ism-error-irq",
    "patch 7: a non-PCIe (ISM-like) function gets its error eventfd",
    errors=Errors(pecs=(0x3A,), count=1, fid=FID),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    pecs = r.errors.all_pecs()
    ism = PciFunction(0x1014, 0x04ED, class_code=0x120000, pcie=False)
    host = r.boot({fid: ism})
    r.expect(not pci_is_pcie(host.pdev(fid)), "the host sees a conventional PCI function")
    drv = open_user_driver(r, host, fid, eventfd=False)
    r.expect(
        r.attempt(drv.err_irq_count, "VFIO_DEVICE_GET_IRQ_INFO of the error IRQ", None) == 1,
        "VFIO_DEVICE_GET_IRQ_INFO reports one error IRQ",
    )
    # without patch 7 there is no error IRQ to register: nothing else can be shown
    r.attempt(drv.register_err_eventfd, "the error eventfd registers", None, require=True)
    start = r.timeline.steps[-1].seq
    out = user_recovery(r, host, drv, fid, pecs, start=start)
    if out.signalled:
        # the error IRQ of a function without PCI Express works as a PCIe one's
        r.expect_order(
            ("firmware", "event", f"error event PEC 0x{pecs[0]:x} for fid 0x{fid:x}"),
            ("host", "irq", "eventfd_signal"),
            ("user-driver", "irq", f"read eventfd: counter {out.signalled}"),
            ("user-driver", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{out.stored[0]:x}"),
            ("user-driver", "ioctl", "VFIO_DEVICE_RESET = "),
            after=start,
        )
