"""arch/s390/kvm/pci.c: the KVM side of zPCI pass-through, reduced to what the error
path depends on (Linux 7.1-rc4; not changed by the v17 series).

Source read: Kingxukai/linux @ 0291023e.  ``kvm_s390_pci_register_kvm()`` attaches a
zPCI function to a guest: under ``zdev->kzdev_lock`` and ``kvm->lock`` it allocates the
``struct kvm_zdev``, sets ``zdev->kzdev`` (what ``is_passed_through()`` in pci_event.c
tests) and links it on the guest's ``kzdev_list``; ``kvm_s390_pci_unregister_kvm()``
undoes it.  ``kvm_s390_pci_init()`` installs both in ``zpci_kvm_hook`` (a
``module_init`` here, as loading kvm.ko does).

``kvm_s390_pci_interp_allowed()`` is false in this model: the machine offers no zPCI
interpretation facilities (and no SIE), so the interpretation branches (GISA, AIF
forwarding, ``zpci_reenable_device`` with a GISA, ``kvm_s390_pci_zpci_op``) are not
taken and are left out, with the adapter-interrupt forwarding table (``aift``).
"""

from __future__ import annotations

import errno
from typing import Any, cast

import attrs

from kernel.lib.bug import WARN_ON
from kernel.lib.init import module_init
from kernel.lib.mutex import mutex_lock, mutex_unlock
from kernel.lib.spinlock import spin_lock, spin_unlock
from kernel.s390.include.asm.kvm_host import kvm, kvm_get_kvm, kvm_put_kvm
from kernel.s390.include.asm.pci import zpci_dev
from kernel.s390.pci.pci_kvm_hook import zpci_kvm_hook

__all__ = [
    "kvm_s390_pci_clear_list",
    "kvm_s390_pci_exit",
    "kvm_s390_pci_init",
    "kvm_s390_pci_init_list",
    "kvm_s390_pci_interp_allowed",
    "kvm_s390_pci_register_kvm",
    "kvm_s390_pci_unregister_kvm",
    "kvm_zdev",
]


@attrs.define(eq=False)
class kvm_zdev:
    """arch/s390/kvm/pci.h ``struct kvm_zdev``.  Left out: the saved FIB (no AIF)."""

    zdev: zpci_dev | None = None
    kvm: kvm | None = None


def kvm_s390_pci_interp_allowed() -> bool:
    """arch/s390/kvm/pci.h: needs the zPCI interpretation facilities and SIE features,
    which the modelled machine does not offer."""
    return False


def kvm_s390_pci_dev_open(zdev: zpci_dev) -> int:
    kzdev = kvm_zdev()

    kzdev.zdev = zdev
    zdev.kzdev = kzdev

    return 0


def kvm_s390_pci_dev_release(zdev: zpci_dev) -> None:
    kzdev = zdev.kzdev
    WARN_ON(kzdev.zdev is not zdev)
    zdev.kzdev = None


def kvm_s390_pci_register_kvm(opaque: Any, k: kvm | None) -> int:
    """Register the function with the given KVM."""
    zdev: zpci_dev | None = opaque

    if zdev is None:
        return -errno.EINVAL

    mutex_lock(zdev.kzdev_lock)

    if zdev.kzdev is not None or zdev.gisa != 0 or k is None:
        mutex_unlock(zdev.kzdev_lock)
        return -errno.EINVAL

    kvm_get_kvm(k)

    mutex_lock(k.lock)

    rc = kvm_s390_pci_dev_open(zdev)
    if rc:
        # err:
        if zdev.kzdev is not None:
            kvm_s390_pci_dev_release(zdev)
        mutex_unlock(k.lock)
        mutex_unlock(zdev.kzdev_lock)
        kvm_put_kvm(k)
        return rc

    # If interpretation facilities aren't available, add the device to the kzdev list
    # but don't enable for interpretation (always the case in this model).
    assert not kvm_s390_pci_interp_allowed()

    # out:
    kzdev = cast(kvm_zdev, zdev.kzdev)  # set by kvm_s390_pci_dev_open()
    kzdev.kvm = k

    spin_lock(k.arch.kzdev_list_lock)
    k.arch.kzdev_list.append(kzdev)
    spin_unlock(k.arch.kzdev_list_lock)

    mutex_unlock(k.lock)
    mutex_unlock(zdev.kzdev_lock)
    return 0


def kvm_s390_pci_unregister_kvm(opaque: Any) -> None:
    zdev: zpci_dev | None = opaque

    if zdev is None:
        return

    mutex_lock(zdev.kzdev_lock)

    if WARN_ON(zdev.kzdev is None):
        mutex_unlock(zdev.kzdev_lock)
        return

    k: kvm = zdev.kzdev.kvm
    mutex_lock(k.lock)

    # A 0 gisa means interpretation was never enabled, just remove the device from the
    # list (always the case in this model).

    # out:
    spin_lock(k.arch.kzdev_list_lock)
    if zdev.kzdev in k.arch.kzdev_list:
        k.arch.kzdev_list.remove(zdev.kzdev)
    spin_unlock(k.arch.kzdev_list_lock)
    kvm_s390_pci_dev_release(zdev)

    mutex_unlock(k.lock)
    mutex_unlock(zdev.kzdev_lock)

    kvm_put_kvm(k)


def kvm_s390_pci_init_list(k: kvm) -> None:
    k.arch.kzdev_list.clear()


def kvm_s390_pci_clear_list(k: kvm) -> None:
    """This list should already be empty, either via vfio device closures or kvm fd
    cleanup."""
    from kernel.lib.bug import WARN_ON_ONCE

    spin_lock(k.arch.kzdev_list_lock)
    WARN_ON_ONCE(bool(k.arch.kzdev_list))
    spin_unlock(k.arch.kzdev_list_lock)


@module_init
def kvm_s390_pci_init() -> int:
    zpci_kvm_hook.kvm_register = kvm_s390_pci_register_kvm
    zpci_kvm_hook.kvm_unregister = kvm_s390_pci_unregister_kvm

    if not kvm_s390_pci_interp_allowed():
        return 0

    return 0  # the aift would be allocated here (interpretation is not modelled)


def kvm_s390_pci_exit() -> None:
    zpci_kvm_hook.kvm_register = None
    zpci_kvm_hook.kvm_unregister = None
