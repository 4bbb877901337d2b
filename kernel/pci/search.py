"""drivers/pci/search.c (Linux 7.1-rc4): the semaphore that protects the PCI bus
lists, and the device and bus look-ups.  Not changed by the v17 series.

Ported: ``pci_bus_sem``, ``pci_do_find_bus``, ``pci_find_bus``,
``pci_find_next_bus``, ``pci_get_slot``.  Left out: the ``pci_get_device``/
``pci_get_subsys``/``pci_get_class`` family (driver-core iteration over all PCI
devices, which nothing in the port calls), ``pci_for_each_dma_alias`` and
``pci_dev_present``.
"""

from __future__ import annotations

from kernel.include.linux.pci import pci_bus, pci_dev
from kernel.lib.init import static_init
from kernel.lib.rwsem import DECLARE_RWSEM, down_read, init_rwsem, rw_semaphore, up_read
from kernel.pci.pci_driver import pci_dev_get

__all__ = ["pci_bus_sem", "pci_find_bus", "pci_find_next_bus", "pci_get_slot"]

#: ``DECLARE_RWSEM(pci_bus_sem)``: protects every bus's ``devices`` list and the
#: list of root buses.
pci_bus_sem: rw_semaphore = DECLARE_RWSEM("pci_bus_sem")


@static_init
def search_static_init() -> None:
    init_rwsem(pci_bus_sem)


def pci_do_find_bus(bus: pci_bus, busnr: int) -> pci_bus | None:
    if bus.number == busnr & 0xFF:  # busnr is an unsigned char
        return bus

    for tmp in bus.children:
        child = pci_do_find_bus(tmp, busnr)
        if child is not None:
            return child
    return None


def pci_find_bus(domain: int, busnr: int) -> pci_bus | None:
    """The bus ``busnr`` in PCI domain ``domain``, or None.  Takes no reference."""
    from kernel.pci.slot import pci_domain_nr

    bus: pci_bus | None = None
    while (bus := pci_find_next_bus(bus)) is not None:
        if pci_domain_nr(bus) != domain:
            continue
        tmp_bus = pci_do_find_bus(bus, busnr)
        if tmp_bus is not None:
            return tmp_bus
    return None


def pci_find_next_bus(from_: pci_bus | None) -> pci_bus | None:
    """The root bus after ``from_`` (the first one for None) in ``pci_root_buses``."""
    from kernel.pci.probe import pci_root_buses  # defined in probe.c, as in C

    b = None
    down_read(pci_bus_sem)
    try:
        if from_ is None:
            idx = 0
        else:
            idx = pci_root_buses.index(from_) + 1 if from_ in pci_root_buses else len(pci_root_buses)
        if idx < len(pci_root_buses):
            b = pci_root_buses[idx]
    finally:
        up_read(pci_bus_sem)
    return b


def pci_get_slot(bus: pci_bus, devfn: int) -> pci_dev | None:
    """The device at ``devfn`` on ``bus`` with a reference taken (drop it with
    ``pci_dev_put()``), or None."""
    found: pci_dev | None = None
    down_read(pci_bus_sem)
    try:
        for dev in bus.devices:
            if dev.devfn == devfn:
                found = dev
                break
        pci_dev_get(found)
    finally:
        up_read(pci_bus_sem)
    return found
