"""queue-overflow: six errors arrive before userspace reads any.  The host queues at
most ZPCI_ERR_PENDING_MAX (4) records per function: the first four are delivered in
order (FIFO), the fifth and sixth are logged ("Maximum number (4) of pending error
events queued") and dropped -- recovery stays with userspace all the same.
"""

from __future__ import annotations

from typing import Final

from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import VIRTIO_NET, kernel_series, open_user_driver

FID: Final = 0x10
PECS: Final = (0x3A, 0x3C, 0x3D, 0x3E, 0x3F, 0x41)


@scenario(
    "queue-overflow", "more than four errors before userspace reads: four are delivered, the rest dropped"
)
def run(r: Run) -> None:
    host = r.boot({FID: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, FID)
    start = r.timeline.steps[-1].seq
    for pec in PECS:
        host.fw.inject_error(FID, pec=pec)
        host.fw.wait_events_handled()
    # v17 prints it with pr_err; as merged (9f240376d034) it is a rate-limited warning
    # on the device, with vfio-pci's driver and device prefix
    full = (
        "vfio-pci 0000:00:00.0: 0000:00:00.0: Maximum number (4) of pending error events queued"
        if kernel_series() == "mainline"
        else "zpci: 0000:00:00.0: Maximum number (4) of pending error events queued"
    )
    r.expect(len(r.find_all(full, actor="host", kind="log")) == 2, "two errors are logged as not queued")
    r.expect(
        len(r.find_all("Leaving recovery of pass-through device to user-space")) == len(PECS),
        "every error, queued or not, is left to user-space",
    )
    r.expect_order(
        ("firmware", "event", "error event PEC 0x3f"),
        ("host", "log", full),
        ("firmware", "event", "error event PEC 0x41"),
        ("host", "log", full),
        after=start,
    )
    records = drv.recover()
    r.expect([rec.pec for rec in records] == list(PECS[:4]), "the first four records arrive, oldest first")
    r.expect_order(
        ("user-driver", "irq", "read eventfd: counter 6"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3a"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3c"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3d"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3e"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        after=start,
    )
    fn = host.fw.function(FID)
    r.expect(fn.enabled and not fn.error, "the function ends enabled and out of the error state")
