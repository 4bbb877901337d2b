"""arch/s390/include/asm/kvm_host.h and include/linux/kvm_host.h, as far as the zPCI
pass-through code uses them: ``struct zpci_kvm_hook`` (the two callbacks the KVM module
installs and vfio-pci's zPCI code calls), a minimal ``struct kvm`` and
``kvm_get_kvm``/``kvm_put_kvm``.

``struct kvm`` keeps only what arch/s390/kvm/pci.c touches: ``lock``
(``"&kvm->lock"``), the users count, and ``arch.kzdev_list`` with its spinlock.  The
zPCI interpretation state (``use_zpci_interp``, the GISA) is not modelled: this
model's machine offers no interpretation facilities (see :mod:`kernel.s390.kvm.pci`).

Python needs two names where C has one (``struct zpci_kvm_hook`` and the variable
``zpci_kvm_hook``): the type is :class:`struct_zpci_kvm_hook`; the variable is
:data:`kernel.s390.pci.pci_kvm_hook.zpci_kvm_hook`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from kernel.lib.kref import kref, kref_get, kref_put
from kernel.lib.mutex import Mutex
from kernel.lib.spinlock import spinlock_t

__all__ = ["kvm", "kvm_arch", "kvm_get_kvm", "kvm_put_kvm", "struct_zpci_kvm_hook"]


@attrs.define(eq=False)
class struct_zpci_kvm_hook:
    """``struct zpci_kvm_hook { int (*kvm_register)(void *opaque, struct kvm *kvm);
    void (*kvm_unregister)(void *opaque); }``"""

    kvm_register: Callable[[Any, kvm], int] | None = None
    kvm_unregister: Callable[[Any], None] | None = None


@attrs.define(eq=False)
class kvm_arch:
    kzdev_list: list[Any] = attrs.field(factory=list)
    kzdev_list_lock: spinlock_t = attrs.field(factory=lambda: spinlock_t("&kvm->arch.kzdev_list_lock"))


@attrs.define(eq=False)
class kvm:
    """``struct kvm``: one virtual machine.  ``users_count`` is the reference count
    ``kvm_get_kvm``/``kvm_put_kvm`` move; ``destroyed`` tells that the last reference
    went away (kvm_destroy_vm)."""

    lock: Mutex = attrs.field(factory=lambda: Mutex("&kvm->lock"))
    users_count: kref = attrs.field(factory=kref)
    arch: kvm_arch = attrs.field(factory=kvm_arch)
    destroyed: bool = False


def kvm_get_kvm(k: kvm) -> None:
    kref_get(k.users_count)


def _kvm_destroy_vm(k: kvm) -> None:
    k.destroyed = True


def kvm_put_kvm(k: kvm) -> None:
    kref_put(k.users_count, lambda _r: _kvm_destroy_vm(k))
