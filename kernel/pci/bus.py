"""drivers/pci/bus.c (Linux 7.1-rc4): starting drivers for scanned devices.  Not
changed by the v17 series.

Ported: ``pci_bus_add_device`` (save the config space for error recovery, allow
binding, ``device_attach``, mark added) and ``pci_bus_add_devices``.
``pci_bus_get``/``pci_bus_put`` of this file live in kernel/pci/slot.py.

Left out: bus resources (``pci_bus_add_resource`` and friends, no resources are
modelled), ``pci_walk_bus``, fixups, sysfs/proc files, OF nodes and pwrctrl device
links; ``pcibios_bus_add_device`` is empty on every arch the port covers.
"""

from __future__ import annotations

from kernel.include.linux.pci import (
    pci_bus,
    pci_dev,
    pci_dev_allow_binding,
    pci_dev_assign_added,
    pci_dev_is_added,
)
from kernel.lib.printk import pci_warn
from kernel.pci.pci_driver import device_attach

__all__ = ["pci_bus_add_device", "pci_bus_add_devices"]

EPROBE_DEFER = 517  # include/linux/errno.h (kernel-internal)


def pci_bus_add_device(dev: pci_dev) -> None:
    """Start a driver for a single, scanned device."""
    from kernel.pci.pci import pci_save_state  # drivers/pci/pci.c

    # Save the config space so that error recovery can always restore it.
    pci_save_state(dev)

    pci_dev_allow_binding(dev)
    retval = device_attach(dev.dev)
    if retval < 0 and retval != -EPROBE_DEFER:
        pci_warn(dev, "device attach failed (%d)\n", retval)

    pci_dev_assign_added(dev)


def pci_bus_add_devices(bus: pci_bus) -> None:
    """Start drivers for every device on ``bus`` that is not added yet (child buses
    are not modelled)."""
    for dev in list(bus.devices):
        # Skip already-added devices.
        if pci_dev_is_added(dev):
            continue
        pci_bus_add_device(dev)
