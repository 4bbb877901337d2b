"""include/uapi/linux/pci.h: the devfn encoding.

``devfn`` packs a device (slot) number in bits 7:3 and a function number in bits 2:0.
"""

from __future__ import annotations

__all__ = ["PCI_DEVFN", "PCI_FUNC", "PCI_SLOT"]


def PCI_DEVFN(slot: int, func: int) -> int:
    return ((slot & 0x1F) << 3) | (func & 0x07)


def PCI_SLOT(devfn: int) -> int:
    return (devfn >> 3) & 0x1F


def PCI_FUNC(devfn: int) -> int:
    return devfn & 0x07
