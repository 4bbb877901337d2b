"""drivers/pci/search.c (Linux 7.1-rc4): the semaphore that protects the PCI bus
lists, and the device look-ups.  Not changed by the v17 series."""

from __future__ import annotations

from kernel.lib.init import static_init
from kernel.lib.rwsem import DECLARE_RWSEM, init_rwsem, rw_semaphore

__all__ = ["pci_bus_sem"]

#: ``DECLARE_RWSEM(pci_bus_sem)``: protects every bus's ``devices`` list.
pci_bus_sem: rw_semaphore = DECLARE_RWSEM("pci_bus_sem")


@static_init
def search_static_init() -> None:
    init_rwsem(pci_bus_sem)
