"""drivers/pci/msi/api.c (Linux 7.1-rc4): the PCI MSI/MSI-X driver API, as far as the
model uses it.

Not changed by the v17 series nor by the merged series.  Source: torvalds/linux @
ead971eec0eb1f83fdf6546052a157ada401823f, drivers/pci/msi/api.c
(``pci_restore_msi_state()`` is ``__pci_restore_msi_state(dev);
__pci_restore_msix_state(dev);``).

``pci_alloc_irq_vectors()`` is the MSI-X part of
``pci_alloc_irq_vectors_affinity()`` only: no affinity (``PCI_IRQ_AFFINITY`` is
ignored), no plain MSI (``PCI_IRQ_MSI``: the model's functions have no MSI
capability) and no INTx fallback (the model does not deliver interrupts), so a
request that MSI-X cannot satisfy returns its error.

Left out: pci_enable_msi/pci_disable_msi(x), pci_msix_alloc_irq_at and the dynamic
MSI-X API, pci_irq_vector/pci_irq_get_affinity, IMS, pci_free_irq_vectors.
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.include.linux.pci import pci_dev
from kernel.pci.access import pci_read_config_word
from kernel.pci.msi.msi import (
    __pci_enable_msix_range,
    __pci_restore_msi_state,
    __pci_restore_msix_state,
)
from kernel.pci.msi.msi_h import msix_table_size
from uapi.linux.pci_regs import PCI_MSIX_FLAGS

__all__ = [
    "PCI_IRQ_AFFINITY",
    "PCI_IRQ_INTX",
    "PCI_IRQ_MSI",
    "PCI_IRQ_MSIX",
    "pci_alloc_irq_vectors",
    "pci_msix_vec_count",
    "pci_restore_msi_state",
]

#: include/linux/pci.h
PCI_IRQ_INTX: Final = 1 << 0  # Allow INTx interrupts
PCI_IRQ_MSI: Final = 1 << 1  # Allow MSI interrupts
PCI_IRQ_MSIX: Final = 1 << 2  # Allow MSI-X interrupts
PCI_IRQ_AFFINITY: Final = 1 << 3  # Auto-assign affinity


def pci_msix_vec_count(dev: pci_dev) -> int:
    """The size of the device's MSI-X table, -EINVAL without MSI-X."""
    if not dev.msix_cap:
        return -errno.EINVAL

    _, control = pci_read_config_word(dev, dev.msix_cap + PCI_MSIX_FLAGS)
    return msix_table_size(control)


def pci_alloc_irq_vectors(dev: pci_dev, min_vecs: int, max_vecs: int, flags: int) -> int:
    """``pci_alloc_irq_vectors()`` = ``pci_alloc_irq_vectors_affinity(dev, min_vecs,
    max_vecs, flags, NULL)``, MSI-X only (see the module docstring): the number of
    vectors allocated, or a negative errno."""
    nvecs = -errno.ENOSPC

    if flags & PCI_IRQ_MSIX:
        nvecs = __pci_enable_msix_range(dev, None, min_vecs, max_vecs, None, flags)
        if nvecs > 0:
            return nvecs

    return nvecs


def pci_restore_msi_state(dev: pci_dev) -> None:
    """Write the Linux-cached MSI(-X) state back on device.  This is typically useful
    upon system resume, or after an error-recovery PCI adapter reset."""
    __pci_restore_msi_state(dev)
    __pci_restore_msix_state(dev)
