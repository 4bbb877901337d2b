"""drivers/pci/msi/msi.h (Linux 7.1-rc4): the MSI core's internal header, as far as the
MSI-X paths of kernel/pci/msi/msi.py use it.

Not changed by the v17 series nor by the merged series.  Source: torvalds/linux @
15c72f824b32761696b1854500bb3dedccbbb45a, drivers/pci/msi/msi.h (this part of the
header reads the same in the 7.1-era linux-next tree msi.py is ported from).

Ported: ``msix_table_size()``, ``pci_msix_desc_addr()``,
``pci_msix_write_vector_ctrl()``, ``pci_msix_mask()``/``pci_msix_unmask()``, the
``support_mode`` enum.  Left out: the MSI (non-X) mask helpers, the legacy
arch fallbacks.
"""

from __future__ import annotations

import enum

from kernel.include.linux.msi import msi_desc
from kernel.s390.include.asm.io import readl, writel
from uapi.linux.pci_regs import (
    PCI_MSIX_ENTRY_CTRL_MASKBIT,
    PCI_MSIX_ENTRY_SIZE,
    PCI_MSIX_ENTRY_VECTOR_CTRL,
    PCI_MSIX_FLAGS_QSIZE,
)

__all__ = [
    "ALLOW_LEGACY",
    "DENY_LEGACY",
    "msix_table_size",
    "pci_msix_desc_addr",
    "pci_msix_mask",
    "pci_msix_unmask",
    "pci_msix_write_vector_ctrl",
    "support_mode",
]


def msix_table_size(flags: int) -> int:
    return (flags & PCI_MSIX_FLAGS_QSIZE) + 1


def pci_msix_desc_addr(desc: msi_desc) -> int:
    assert desc.pci.mask_base is not None
    return desc.pci.mask_base + desc.msi_index * PCI_MSIX_ENTRY_SIZE


def pci_msix_write_vector_ctrl(desc: msi_desc, ctrl: int) -> None:
    """This internal function does not flush PCI writes to the device.  All users
    must ensure that they read from the device before either assuming that the
    device state is up to date, or returning out of this file.  It does not affect
    the msi_desc::msix_ctrl cache either.  Use with care!"""
    desc_addr = pci_msix_desc_addr(desc)

    if desc.pci.msi_attrib.can_mask:
        writel(ctrl, desc_addr + PCI_MSIX_ENTRY_VECTOR_CTRL)


def pci_msix_mask(desc: msi_desc) -> None:
    desc.pci.msix_ctrl |= PCI_MSIX_ENTRY_CTRL_MASKBIT
    pci_msix_write_vector_ctrl(desc, desc.pci.msix_ctrl)
    # Flush write to device
    assert desc.pci.mask_base is not None
    readl(desc.pci.mask_base)


def pci_msix_unmask(desc: msi_desc) -> None:
    desc.pci.msix_ctrl &= ~PCI_MSIX_ENTRY_CTRL_MASKBIT
    pci_msix_write_vector_ctrl(desc, desc.pci.msix_ctrl)


class support_mode(enum.IntEnum):
    ALLOW_LEGACY = 0
    DENY_LEGACY = 1


ALLOW_LEGACY = support_mode.ALLOW_LEGACY
DENY_LEGACY = support_mode.DENY_LEGACY
