"""include/linux/msi.h (Linux 7.1-rc4): MSI messages and descriptors.

Not changed by the v17 series.  The fields are those drivers/pci/msi/msi.c uses
(ColinIanKing/linux-next @ 7b025f3f85ed4283d5a414371bb2ffd38d19033f, the tree the
MSI-X port reads; see kernel/pci/msi/msi.py); the guard is the header's
``DEFINE_LOCK_GUARD_1(msi_descs_lock, struct device, __msi_lock_descs(_T->lock),
__msi_unlock_descs(_T->lock))``.

``struct msi_msg`` keeps its three words (``address_lo``, ``address_hi``, ``data``;
the ``arch_*`` union aliases are left out).  ``struct msi_desc`` keeps what the PCI
MSI-X paths touch: ``irq``, ``nvec_used``, ``dev``, ``msg``, ``write_msi_msg``
(+ data), ``msi_index`` and the ``pci`` member of its union (``struct
pci_msi_desc``: ``msix_ctrl`` -- whose union twin ``msi_mask`` is the same word --,
``msi_attrib`` and ``mask_base``, whose twin ``mask_pos`` serves plain MSI).
``struct msi_device_data`` is the mutex and the default domain's descriptor store
(an xarray indexed by ``msi_index`` in C, a dict here).  Left out: affinity,
IOMMU cookies, sysfs attributes, the non-PCI ``data`` member, the secondary
domains and per-device irq domains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Final

import attrs

from kernel.lib.cleanup import GuardType
from kernel.lib.device import device
from kernel.lib.mutex import Mutex

__all__ = [
    "MSI_DESC_ALL",
    "msi_desc",
    "msi_descs_lock",
    "msi_device_data",
    "msi_for_each_desc",
    "msi_msg",
    "pci_msi_desc",
]

#: ``enum msi_desc_filter``: all descriptors
MSI_DESC_ALL: Final = 0


@attrs.define(eq=False)
class msi_msg:
    """``struct msi_msg``."""

    address_lo: int = 0  # low 32 bits of msi message address
    address_hi: int = 0  # high 32 bits of msi message address
    data: int = 0  # 16 bits of msi message data


@attrs.define(eq=False)
class msi_attrib:
    """The ``msi_attrib`` bit-fields of ``struct pci_msi_desc``."""

    is_msix: bool = False
    multiple: int = 0
    multi_cap: int = 0
    can_mask: bool = False
    is_64: bool = False
    is_virtual: bool = False
    default_irq: int = 0


@attrs.define(eq=False)
class pci_msi_desc:
    """``struct pci_msi_desc``."""

    msix_ctrl: int = 0  # union { u32 msi_mask; u32 msix_ctrl; }
    msi_attrib: msi_attrib = attrs.field(factory=msi_attrib)
    mask_base: int | None = None  # union { u8 mask_pos; void __iomem *mask_base; }


@attrs.define(eq=False)
class msi_desc:
    """``struct msi_desc`` (see the module docstring for what is left out)."""

    irq: int = 0
    nvec_used: int = 0
    dev: device | None = None
    msg: msi_msg = attrs.field(factory=msi_msg)
    write_msi_msg: Callable[[msi_desc, Any], None] | None = None
    write_msi_msg_data: Any = None
    msi_index: int = 0
    pci: pci_msi_desc = attrs.field(factory=pci_msi_desc)


@attrs.define(eq=False)
class msi_device_data:
    """``struct msi_device_data``: ``mutex`` and the default domain's store."""

    mutex: Mutex = attrs.field(factory=lambda: Mutex("&md->mutex"))
    store: dict[int, msi_desc] = attrs.field(factory=dict)
    iter_idx: int = -1  # __iter_idx


def _msi_lock_descs(dev: device) -> None:
    from kernel.irq.msi import __msi_lock_descs  # kernel/irq/msi.c; imported late

    __msi_lock_descs(dev)


def _msi_unlock_descs(dev: device) -> None:
    from kernel.irq.msi import __msi_unlock_descs  # kernel/irq/msi.c; imported late

    __msi_unlock_descs(dev)


#: ``DEFINE_LOCK_GUARD_1(msi_descs_lock, struct device, __msi_lock_descs(_T->lock),
#: __msi_unlock_descs(_T->lock))``
msi_descs_lock: GuardType[device] = GuardType("msi_descs_lock", _msi_lock_descs, _msi_unlock_descs)


def msi_for_each_desc(dev: device, filter: int) -> Iterator[msi_desc]:
    """``msi_for_each_desc(desc, dev, filter)``: the default domain's descriptors in
    index order (``msi_first_desc()``/``msi_next_desc()``).  Only ``MSI_DESC_ALL`` is
    modelled.  The caller holds the descriptor mutex, as in C."""
    from kernel.irq.msi import msi_domain_first_desc, msi_next_desc  # imported late

    desc = msi_domain_first_desc(dev, 0, filter)
    while desc is not None:
        yield desc
        desc = msi_next_desc(dev, 0, filter)
