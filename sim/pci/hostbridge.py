"""A generic PCI host bridge: one root bus whose config accesses reach PciFunctions.

For tests of the PCI core outside s390 (where the zPCI firmware model plays this
part).  Functions sit at a devfn; a config read of an empty devfn ends in a master
abort, which hardware answers with all ones and success, as ECAM host bridges do.

API
---
``PciHostBridge(domain=0, busnr=0)``
``add_function(devfn, fn)`` / ``remove_function(devfn)``
    Plug or unplug a :class:`~sim.pci.function.PciFunction` (hardware only: the
    kernel learns of it by scanning).
``functions: dict[int, PciFunction]``
``ops: pci_ops``
    ``read(bus, devfn, where, size) -> (PCIBIOS_SUCCESSFUL, value)`` and
    ``write(bus, devfn, where, size, value) -> PCIBIOS_SUCCESSFUL``.
``domain_nr``
    The PCI domain (the kernel's ``pci_domain_nr()`` takes it from ``sysdata``).
``scan() -> pci_bus``
    ``pci_scan_root_bus(None, busnr, ops, self, [])`` then ``pci_bus_add_devices``
    (drivers bind to what matches); the bus is kept in ``bus``.
``remove()``
    ``pci_stop_root_bus`` + ``pci_remove_root_bus`` under the rescan lock.
"""

from __future__ import annotations

from kernel.include.linux.pci import PCIBIOS_SUCCESSFUL, pci_bus, pci_ops
from kernel.pci.bus import pci_bus_add_devices
from kernel.pci.probe import pci_lock_rescan_remove, pci_scan_root_bus, pci_unlock_rescan_remove
from kernel.pci.remove import pci_remove_root_bus, pci_stop_root_bus
from sim.pci.function import PciFunction

__all__ = ["PciHostBridge"]


class PciHostBridge:
    def __init__(self, domain: int = 0, busnr: int = 0) -> None:
        self.domain_nr = domain
        self.busnr = busnr
        self.functions: dict[int, PciFunction] = {}
        self.ops = pci_ops(read=self._read, write=self._write)
        self.bus: pci_bus | None = None

    def add_function(self, devfn: int, fn: PciFunction) -> None:
        if not 0 <= devfn <= 0xFF:
            raise ValueError(f"devfn {devfn:#x} out of range")
        if devfn in self.functions:
            raise ValueError(f"devfn {devfn:#04x} is occupied")
        self.functions[devfn] = fn

    def remove_function(self, devfn: int) -> PciFunction:
        return self.functions.pop(devfn)

    def _read(self, bus: pci_bus, devfn: int, where: int, size: int) -> tuple[int, int]:
        fn = self.functions.get(devfn)
        if fn is None:
            return PCIBIOS_SUCCESSFUL, (1 << (8 * size)) - 1  # master abort
        return PCIBIOS_SUCCESSFUL, fn.config_read(where, size)

    def _write(self, bus: pci_bus, devfn: int, where: int, size: int, value: int) -> int:
        fn = self.functions.get(devfn)
        if fn is not None:
            fn.config_write(where, size, value)
        return PCIBIOS_SUCCESSFUL

    def scan(self) -> pci_bus:
        """Make the root bus, find the functions and start their drivers."""
        pci_lock_rescan_remove()
        try:
            bus = pci_scan_root_bus(None, self.busnr, self.ops, self, [])
            if bus is None:
                raise RuntimeError(f"root bus {self.domain_nr:04x}:{self.busnr:02x} exists already")
            pci_bus_add_devices(bus)
        finally:
            pci_unlock_rescan_remove()
        self.bus = bus
        return bus

    def remove(self) -> None:
        """Remove the root bus and every device on it."""
        if self.bus is None:
            return
        pci_lock_rescan_remove()
        try:
            pci_stop_root_bus(self.bus)
            pci_remove_root_bus(self.bus)
        finally:
            pci_unlock_rescan_remove()
        self.bus = None
