"""drivers/vfio/pci/vfio_pci_rdwr.c (Linux 7.1-rc4): reads and writes of the BAR and
ROM regions of a vfio-pci device file.  Not changed by the v17 series.

Ported: the entry of :func:`vfio_pci_bar_rw`, which decides whether the region
exists: a BAR with a host resource, or the ROM with a shadow copy.  Its shape was
checked against the vfio patch that gave it the ROM branch ("vfio/pci: Expose setup
ROM at ROM bar when needed", <20241212205050.5737-3-Yunxiang.Li@amd.com>)::

    if (pci_resource_start(pdev, bar))
            end = pci_resource_len(pdev, bar);
    else if (bar == PCI_ROM_RESOURCE && pdev->rom && pdev->romlen)
            end = roundup_pow_of_two(pdev->romlen);
    else
            return -EINVAL;

The model has no ``struct resource`` and no shadow ROM (kernel/include/linux/pci.py),
so every BAR and the ROM take the last branch: -EINVAL, as on a host that did not
assign the BAR.  The rest of the function (``do_io_rw()``, the barmap, the MSI-X
table exclusion) is therefore never reached and is not ported; nor are
``vfio_pci_vga_rw()`` (``CONFIG_VFIO_PCI_VGA`` is off on s390: the -EINVAL stub is in
vfio_pci_priv.py) and the ioeventfd code.
"""

from __future__ import annotations

import errno

from kernel.include.linux.pci import pci_resource_start
from kernel.include.linux.vfio_pci_core import VFIO_PCI_OFFSET_TO_INDEX, vfio_pci_core_device

__all__ = ["vfio_pci_bar_rw"]


def vfio_pci_bar_rw(vdev: vfio_pci_core_device, buf: int, count: int, ppos: list[int], iswrite: bool) -> int:
    pdev = vdev.pdev
    assert pdev is not None
    bar = VFIO_PCI_OFFSET_TO_INDEX(ppos[0])

    if pci_resource_start(pdev, bar):
        # end = pci_resource_len(pdev, bar) and the access: never on this model
        raise AssertionError("no BAR has a resource on this model")  # pragma: no cover
    # bar == PCI_ROM_RESOURCE && pdev->rom && pdev->romlen: no shadow ROM either
    return -errno.EINVAL
