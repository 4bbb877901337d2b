"""sim/scenarios/ism_error_irq.py: v17 7/7, the error IRQ of a conventional PCI function."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware


def test_conventional_pci_function_gets_and_uses_its_error_eventfd(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("ism-error-irq")
    res.order(
        ("user-driver", "ioctl", "VFIO_DEVICE_GET_IRQ_INFO = 0 (index ERR)"),
        ("user-driver", "ioctl", "VFIO_DEVICE_SET_IRQS = 0 (index ERR)"),
        ("firmware", "event", "error event PEC 0x3a for fid 0x30"),
        ("host", "irq", "eventfd_signal"),
        ("user-driver", "irq", "read eventfd: counter 1"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3a fid 0x30"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
    )
    assert fw.function(0x30).enabled and not fw.function(0x30).error
