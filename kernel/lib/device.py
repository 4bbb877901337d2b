"""include/linux/device.h and drivers/base/core.c, as far as the ported code uses them.

``struct device`` carries the device lock (``device_lock()`` serialises driver
callbacks against removal), the driver-data pointer, the names ``dev_printk`` prints
and a reference count.  Only these parts are modelled: no sysfs, no driver core
matching; binding a driver is done by the bus code that uses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from kernel.lib.cleanup import GuardType
from kernel.lib.kobject import kobject
from kernel.lib.kref import kref as struct_kref
from kernel.lib.kref import kref_get, kref_put
from kernel.lib.mutex import (
    Mutex,
    lockdep_assert_held,
    mutex_lock,
    mutex_trylock,
    mutex_unlock,
)

__all__ = [
    "bus_type",
    "dev_get_drvdata",
    "dev_name",
    "dev_set_drvdata",
    "dev_set_name",
    "device",
    "dev_msi_info",
    "device_class",
    "device_driver",
    "device_lock",
    "device_lock_assert",
    "device_trylock",
    "device_unlock",
    "get_device",
    "put_device",
]


@attrs.define(eq=False)
class bus_type:
    name: str


@attrs.define(eq=False)
class device_class:
    """``struct class`` (a device class such as ``pci_bus``), as far as its name goes."""

    name: str


@attrs.define(eq=False)
class device_driver:
    name: str
    bus: bus_type | None = None
    #: The bus-specific driver this one is embedded in (``struct pci_driver`` for
    #: ``pdrv->driver``): what ``container_of()`` computes in C.
    container: Any = attrs.field(default=None, repr=False)


@attrs.define(eq=False)
class dev_msi_info:
    """``struct dev_msi_info``: the device's MSI data (``struct msi_device_data``,
    include/linux/msi.h), None until ``msi_setup_device_data()``.  The per-device
    irq domain is not modelled."""

    data: Any = None


@attrs.define(eq=False)
class device:
    """``struct device``.  Left out: sysfs, power management, DMA ops.  ``kobj`` is the
    embedded kobject as far as uevents need it (its name is the device's name, set by
    :func:`dev_set_name`)."""

    init_name: str = ""
    bus: bus_type | None = None
    #: ``dev->class`` (``class`` is a Python keyword).
    class_: device_class | None = None
    driver: device_driver | None = None
    parent: device | None = None
    driver_data: Any = None
    mutex: Mutex = attrs.field(factory=lambda: Mutex("&dev->mutex"))
    kref: struct_kref = attrs.field(factory=struct_kref)
    release: Callable[[device], None] | None = None
    #: The structure this device is embedded in (``struct pci_dev`` for ``pdev->dev``):
    #: what ``container_of()`` computes from the address in C, kept as a back-pointer.
    container: Any = attrs.field(default=None, repr=False)
    kobj: kobject = attrs.field(factory=kobject, repr=False)
    msi: dev_msi_info = attrs.field(factory=dev_msi_info, repr=False)

    def __attrs_post_init__(self) -> None:
        self.kobj.container = self
        if self.init_name and not self.kobj.name:
            self.kobj.name = self.init_name

    def dev_name(self) -> str:
        return self.init_name

    def dev_driver_string(self) -> str:
        """drivers/base/core.c: the bound driver's name, else ``dev_bus_name()``: the
        bus's name, else the class's, else ""."""
        if self.driver is not None:
            return self.driver.name
        if self.bus is not None:
            return self.bus.name
        if self.class_ is not None:
            return self.class_.name
        return ""


def dev_name(dev: device) -> str:
    return dev.init_name


def dev_set_name(dev: device, fmt: str, *args: object) -> int:
    """Name the device (and its kobject) from a printf-style format."""
    name = fmt % args if args else fmt
    dev.init_name = name
    dev.kobj.name = name
    return 0


def dev_get_drvdata(dev: device) -> Any:
    return dev.driver_data


def dev_set_drvdata(dev: device, data: Any) -> None:
    dev.driver_data = data


def device_lock(dev: device) -> None:
    mutex_lock(dev.mutex)


def device_trylock(dev: device) -> int:
    return mutex_trylock(dev.mutex)


def device_unlock(dev: device) -> None:
    mutex_unlock(dev.mutex)


def device_lock_assert(dev: device) -> None:
    lockdep_assert_held(dev.mutex)


def get_device(dev: device | None) -> device | None:
    if dev is not None:
        kref_get(dev.kref)
    return dev


def _device_release(k: struct_kref, dev: device) -> None:
    if dev.release is not None:
        dev.release(dev)


def put_device(dev: device | None) -> None:
    if dev is not None:
        kref_put(dev.kref, lambda k: _device_release(k, dev))


#: ``guard(device)(dev)``
device_guard: GuardType[device] = GuardType("device", device_lock, device_unlock)
