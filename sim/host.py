"""The host as its administrator sees it: a zPCI machine booted under the ported
kernel, and the sysfs writes an administrator types to hand a function to vfio-pci.

This is the set-up a program like QEMU finds when it starts: the firmware model
(:mod:`sim.zpci.firmware`) with its functions, the kernel booted on it, and chosen
functions bound to vfio-pci the way ``driverctl`` or a shell does it::

    echo vfio-pci > /sys/bus/pci/devices/0001:00:00.0/driver_override
    echo 0001:00:00.0 > /sys/bus/pci/drivers_probe

Nothing here is kernel code, and nothing here is what the userspace program itself
does: that program only opens ``/dev/vfio/devices/vfioN`` and ``/dev/iommu`` and calls
``ioctl`` through :mod:`sim.userspace.syscalls`.
"""

from __future__ import annotations

import errno

import attrs

from kernel.include.linux.pci import pci_dev, pci_name
from kernel.pci.pci_driver import driver_override_store, drivers_probe_store, pci_dev_put, unbind_store
from kernel.pci.search import pci_get_slot
from kernel.s390.include.asm.pci import zpci_dev
from kernel.s390.pci.pci import get_zdev_by_fid
from kernel.s390.pci.pci_bus import zpci_zdev_put
from kernel.vfio.pci.vfio_pci import vfio_pci_vdev
from sim import timeline
from sim.pci.function import PciFunction
from sim.zpci.firmware import ZpciFirmware

__all__ = ["Host", "pdev_of", "zdev_of"]


def zdev_of(fid: int) -> zpci_dev:
    """The ``zpci_dev`` the booted kernel holds for function ``fid`` (the lookup's
    reference is dropped again: the kernel's own keeps it alive while it is listed)."""
    zdev = get_zdev_by_fid(fid)
    if zdev is None:
        raise LookupError(f"no zPCI function 0x{fid:x} in the kernel")
    zpci_zdev_put(zdev)
    return zdev


def pdev_of(fid: int) -> pci_dev:
    """The ``pci_dev`` the kernel made for function ``fid``."""
    zdev = zdev_of(fid)
    if zdev.zbus is None or zdev.zbus.bus is None:
        raise LookupError(f"zPCI function 0x{fid:x} has no PCI bus (not scanned)")
    pdev = pci_get_slot(zdev.zbus.bus, zdev.devfn)
    if pdev is None:
        raise LookupError(f"zPCI function 0x{fid:x} has no pci_dev")
    pci_dev_put(pdev)
    return pdev


@attrs.define
class Host:
    """A booted host.  ``Host.boot({0x10: PciFunction(...)})`` builds the firmware with
    these functions (fid -> function), installs it and boots the kernel."""

    fw: ZpciFirmware

    @classmethod
    def boot(cls, functions: dict[int, PciFunction], pchid: int = 0x2C, **config: bool) -> Host:
        fw = ZpciFirmware()
        for fid, fn in functions.items():
            fw.add_function(fid, fn, pchid=pchid)
        fw.boot(**config)
        return cls(fw)

    def shutdown(self, wait: bool = True) -> None:
        """Take the kernel off the machine; ``wait=False``: without waiting for the
        kernel to handle the events raised so far (a run a schedule explorer unwound
        half-way, whose event thread will never handle them)."""
        self.fw.shutdown(wait)

    def pdev(self, fid: int) -> pci_dev:
        """The ``pci_dev`` the kernel made for function ``fid``."""
        return pdev_of(fid)

    def bind_vfio_pci(self, fid: int) -> str:
        """Hand function ``fid`` to vfio-pci; returns its device node's path."""
        pdev = self.pdev(fid)
        name = pci_name(pdev)
        rc = driver_override_store(pdev.dev, "vfio-pci\n", 9)
        if rc < 0:
            raise OSError(-rc, f"driver_override of {name}")
        rc = drivers_probe_store(name, len(name))
        if rc < 0:
            raise OSError(-rc, f"drivers_probe of {name}")
        vdev = vfio_pci_vdev(pdev)
        if vdev is None:
            raise LookupError(f"{name} is not bound to vfio-pci")
        return "/dev/vfio/devices/" + vdev.vdev.device.init_name

    def unbind(self, fid: int) -> None:
        """Unbind function ``fid`` from its driver, as ``echo NAME >
        /sys/bus/pci/drivers/DRIVER/unbind`` does (the driver's ``remove`` runs; for
        vfio-pci it waits until every user has closed the device).  Recorded, when a
        timeline is current, as a ``sysfs`` step of the ``admin`` before the write, so
        that what the kernel does follows it.  ``OSError`` if the kernel refuses."""
        pdev = self.pdev(fid)
        name = pci_name(pdev)
        drv = pdev.dev.driver
        if drv is None:
            raise OSError(errno.ENODEV, f"{name} has no driver to unbind")
        tl = timeline.current()
        if tl is not None:
            tl.record("admin", "sysfs", f"echo {name} > /sys/bus/pci/drivers/{drv.name}/unbind", fid=fid)
        rc = unbind_store(drv, name + "\n", len(name) + 1)
        if rc < 0:
            raise OSError(-rc, f"unbind of {name} from {drv.name}")
