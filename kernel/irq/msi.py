"""kernel/irq/msi.c (Linux 7.1-rc4): the MSI descriptor store, as far as the PCI
MSI-X code of kernel/pci/msi/ uses it.

Not changed by the v17 series.  Ported: ``msi_setup_device_data`` (the devres
allocation becomes a plain one: the data lives as long as the device),
``__msi_lock_descs``/``__msi_unlock_descs``, ``msi_insert_msi_desc`` (the
default domain's ``msi_domain_insert_msi_desc``: -EBUSY when the index is taken),
``msi_domain_first_desc``/``msi_next_desc`` (the iterator behind
``msi_for_each_desc``; ``__iter_idx`` is kept per device as in C) and
``msi_device_data_release``.  Left out: irq domains, virq allocation and
activation (see kernel/pci/msi/msi.py for the model's stand-in), sysfs.
"""

from __future__ import annotations

import errno

from kernel.include.linux.msi import MSI_DESC_ALL, msi_desc, msi_device_data
from kernel.lib.bug import WARN_ON_ONCE
from kernel.lib.device import device
from kernel.lib.mutex import lockdep_assert_held, mutex_lock, mutex_unlock

__all__ = [
    "__msi_lock_descs",
    "__msi_unlock_descs",
    "msi_device_data_release",
    "msi_domain_first_desc",
    "msi_insert_msi_desc",
    "msi_next_desc",
    "msi_setup_device_data",
]

#: ``MSI_XA_DOMAIN_SIZE``-style end marker for the iterator (Python only)
_ITER_DONE = -1


def msi_alloc_desc(dev: device, nvec: int) -> msi_desc:
    return msi_desc(dev=dev, nvec_used=nvec)


def msi_insert_desc(dev: device, desc: msi_desc, domid: int, index: int) -> int:
    md: msi_device_data = dev.msi.data
    if index in md.store:
        return -errno.EBUSY
    desc.msi_index = index
    md.store[index] = desc
    return 0


def msi_domain_insert_msi_desc(dev: device, domid: int, init_desc: msi_desc) -> int:
    lockdep_assert_held(dev.msi.data.mutex)

    desc = msi_alloc_desc(dev, init_desc.nvec_used)

    # Copy type specific data to the new descriptor.
    desc.pci = init_desc.pci
    return msi_insert_desc(dev, desc, domid, init_desc.msi_index)


def msi_insert_msi_desc(dev: device, init_desc: msi_desc) -> int:
    """include/linux/msi.h: the default domain's insert."""
    return msi_domain_insert_msi_desc(dev, 0, init_desc)


def msi_device_data_release(dev: device) -> None:
    dev.msi.data = None


def msi_setup_device_data(dev: device) -> int:
    """Allocates ``dev->msi.data`` once; 0."""
    if dev.msi.data is not None:
        return 0

    dev.msi.data = msi_device_data()
    return 0


def __msi_lock_descs(dev: device) -> None:
    mutex_lock(dev.msi.data.mutex)


def __msi_unlock_descs(dev: device) -> None:
    # Invalidate the index which was cached by the iterator
    dev.msi.data.iter_idx = _ITER_DONE
    mutex_unlock(dev.msi.data.mutex)


def msi_find_desc(md: msi_device_data, domid: int, filter: int) -> msi_desc | None:
    for index in sorted(md.store):
        if index < md.iter_idx:
            continue
        md.iter_idx = index
        if filter == MSI_DESC_ALL:
            return md.store[index]
    md.iter_idx = _ITER_DONE
    return None


def msi_domain_first_desc(dev: device, domid: int, filter: int) -> msi_desc | None:
    md: msi_device_data | None = dev.msi.data
    if WARN_ON_ONCE(md is None):
        return None
    assert md is not None

    lockdep_assert_held(md.mutex)

    md.iter_idx = 0
    return msi_find_desc(md, domid, filter)


def msi_next_desc(dev: device, domid: int, filter: int) -> msi_desc | None:
    md: msi_device_data | None = dev.msi.data
    if WARN_ON_ONCE(md is None):
        return None
    assert md is not None

    lockdep_assert_held(md.mutex)

    if md.iter_idx < 0:
        return None

    md.iter_idx += 1
    return msi_find_desc(md, domid, filter)
