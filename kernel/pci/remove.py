"""drivers/pci/remove.c (Linux 7.1-rc4): removing PCI devices and root buses.  Not
changed by the v17 series.

Ported: ``pci_stop_dev``, ``pci_destroy_dev``, ``pci_remove_bus``,
``pci_stop_bus_device``, ``pci_remove_bus_device``,
``pci_stop_and_remove_bus_device``, ``pci_stop_and_remove_bus_device_locked``,
``pci_stop_root_bus``, ``pci_remove_root_bus``.  Removal unbinds the driver, takes
the device off its bus's list under ``pci_bus_sem`` and drops the reference the
scan gave it (the last put releases it).

Left out: PME, DOE, NPEM, ASPM link state, bridge D3, OF nodes, pwrctrl, resources
and sysfs/proc files (not modelled); ``pci_bus_release_busn_res`` (bus-number
resources are not modelled).
"""

from __future__ import annotations

from kernel.include.linux.pci import (
    pci_bus,
    pci_dev,
    pci_dev_test_and_clear_added,
    pci_dev_test_and_set_removed,
    pci_is_root_bus,
    to_pci_host_bridge,
)
from kernel.lib.device import device, put_device
from kernel.lib.rwsem import down_write, up_write
from kernel.pci.pci_driver import bus_remove_device, device_release_driver
from kernel.pci.search import pci_bus_sem

__all__ = [
    "pci_remove_bus",
    "pci_remove_root_bus",
    "pci_stop_and_remove_bus_device",
    "pci_stop_and_remove_bus_device_locked",
    "pci_stop_root_bus",
]


def device_del(dev: device) -> None:
    """drivers/base/core.c, reduced: leave the bus (unbinding) and the hierarchy."""
    bus_remove_device(dev)
    dev.kobj.parent = None


def pci_stop_dev(dev: pci_dev) -> None:
    if not pci_dev_test_and_clear_added(dev):
        return

    device_release_driver(dev.dev)


def pci_destroy_dev(dev: pci_dev) -> None:
    if pci_dev_test_and_set_removed(dev):
        return

    device_del(dev.dev)

    down_write(pci_bus_sem)
    if dev in dev.bus.devices:
        dev.bus.devices.remove(dev)
    up_write(pci_bus_sem)

    put_device(dev.dev)


def pci_remove_bus(bus: pci_bus) -> None:
    from kernel.pci.probe import pci_root_buses

    down_write(pci_bus_sem)
    if bus in pci_root_buses:  # list_del(&bus->node)
        pci_root_buses.remove(bus)
    elif bus.parent is not None and bus in bus.parent.children:
        bus.parent.children.remove(bus)
    up_write(pci_bus_sem)

    if bus.ops is not None and bus.ops.remove_bus is not None:
        bus.ops.remove_bus(bus)

    # device_unregister(&bus->dev)
    device_del(bus.dev)
    put_device(bus.dev)


def pci_stop_bus_device(dev: pci_dev) -> None:
    bus = dev.subordinate

    # Children first, in reverse (an SR-IOV PF's VFs go before the PF).
    if bus is not None:
        for child in reversed(list(bus.devices)):
            pci_stop_bus_device(child)

    pci_stop_dev(dev)


def pci_remove_bus_device(dev: pci_dev) -> None:
    bus = dev.subordinate

    if bus is not None:
        for child in list(bus.devices):
            pci_remove_bus_device(child)

        pci_remove_bus(bus)
        dev.subordinate = None

    pci_destroy_dev(dev)


def pci_stop_and_remove_bus_device(dev: pci_dev) -> None:
    """Remove ``dev`` and whatever is below it: drivers are unbound first, then the
    devices leave their bus lists, depth first."""
    pci_stop_bus_device(dev)
    pci_remove_bus_device(dev)


def pci_stop_and_remove_bus_device_locked(dev: pci_dev) -> None:
    from kernel.pci.probe import pci_lock_rescan_remove, pci_unlock_rescan_remove

    pci_lock_rescan_remove()
    try:
        pci_stop_and_remove_bus_device(dev)
    finally:
        pci_unlock_rescan_remove()


def pci_stop_root_bus(bus: pci_bus) -> None:
    if not pci_is_root_bus(bus):
        return

    for child in reversed(list(bus.devices)):
        pci_stop_bus_device(child)

    # (Stopping the host bridge: it has no driver here.)


def pci_remove_root_bus(bus: pci_bus) -> None:
    if not pci_is_root_bus(bus):
        return

    assert bus.bridge is not None
    host_bridge = to_pci_host_bridge(bus.bridge)
    for child in list(bus.devices):
        pci_remove_bus_device(child)

    pci_remove_bus(bus)
    host_bridge.bus = None

    # Remove the host bridge.
    device_del(host_bridge.dev)
