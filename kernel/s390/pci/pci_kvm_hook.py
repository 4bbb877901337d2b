"""arch/s390/pci/pci_kvm_hook.c: the ``zpci_kvm_hook`` variable through which the KVM
module registers its pass-through callbacks (arch/s390/kvm/pci.c sets them at
``kvm_s390_pci_init()``; vfio-pci's zPCI code calls them).  Not changed by the v17
series.  The object stays the same across boots (importers keep it); booting clears
its callbacks in place."""

from __future__ import annotations

from kernel.lib.init import static_init
from kernel.s390.include.asm.kvm_host import struct_zpci_kvm_hook

__all__ = ["zpci_kvm_hook"]

zpci_kvm_hook = struct_zpci_kvm_hook()


@static_init
def pci_kvm_hook_static_init() -> None:
    zpci_kvm_hook.kvm_register = None
    zpci_kvm_hook.kvm_unregister = None
