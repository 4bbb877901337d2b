"""drivers/pci/quirks.c (Linux 7.1-rc4): the device-specific reset method only.  Not
changed by the v17 series.

``pci_dev_specific_reset()`` looks the device up in ``pci_dev_reset_methods[]`` and
runs the reset that table gives for its vendor/device ID.  The kernel's table lists
devices of other platforms (Intel 82599 VFs and IGDs, Chelsio T4, Solarflare,
some NVMe and Intel NICs, ...); none of them is a function of this model, so the
table here starts empty and the method answers -ENOTTY, as the C does for every zPCI
function.  Tests add entries to :data:`pci_dev_reset_methods` (before its
``{ 0 }`` terminator is reached: the list simply ends) to give a device a
device-specific reset.

The entry is run between ``pci_dev_reset_iommu_prepare()`` and ``_done()``, the iommu
hooks of kernel/pci/pci.py (no-ops in this model).  Every other quirk is left out.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from kernel.lib.init import static_init
from kernel.lib.printk import pci_err
from kernel.pci.pci_h import pci_dev_reset_methods as struct_pci_dev_reset_methods

if TYPE_CHECKING:
    from kernel.include.linux.pci import pci_dev

__all__ = ["pci_dev_reset_methods", "pci_dev_specific_reset"]

#: ``static const struct pci_dev_reset_methods pci_dev_reset_methods[]`` (see the
#: module doc: no entry matches a function of this model).
pci_dev_reset_methods: list[struct_pci_dev_reset_methods] = []


@static_init
def quirks_static_init() -> None:
    pci_dev_reset_methods.clear()


def __pci_dev_specific_reset(dev: pci_dev, probe: bool, i: struct_pci_dev_reset_methods) -> int:
    from kernel.pci.pci import pci_dev_reset_iommu_done, pci_dev_reset_iommu_prepare

    ret = pci_dev_reset_iommu_prepare(dev)
    if ret:
        pci_err(dev, "failed to stop IOMMU for a PCI reset: %d\n", ret)
        return ret

    assert i.reset is not None
    ret = i.reset(dev, probe)
    pci_dev_reset_iommu_done(dev)
    return ret


def pci_dev_specific_reset(dev: pci_dev, probe: bool) -> int:
    """Reset method "device_specific": the table entry matching the device's IDs
    (``PCI_ANY_ID`` as u16, 0xffff, matches any), or -ENOTTY."""
    for i in pci_dev_reset_methods:
        if i.reset is None:  # { 0 } terminator
            break
        if (i.vendor == dev.vendor or i.vendor == 0xFFFF) and (i.device == dev.device or i.device == 0xFFFF):
            return __pci_dev_specific_reset(dev, probe, i)

    return -errno.ENOTTY
