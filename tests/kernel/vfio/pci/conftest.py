"""Fixtures for the vfio-pci tests: a zPCI machine, a function bound to vfio-pci the
way userspace does it (driver_override + drivers_probe), and the device opened
through the userspace entry (cdev + iommufd bind)."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator

import attrs
import pytest

import uapi.linux.vfio as V
from kernel.include.linux.pci import pci_dev
from kernel.include.linux.vfio_pci_core import vfio_pci_core_device
from kernel.pci.pci_driver import driver_override_store, drivers_probe_store
from kernel.vfio.pci.vfio_pci import vfio_pci_vdev
from sim.host import pdev_of
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from sim.zpci.firmware import ZpciFirmware

FID = 0x10



def bind_vfio_pci(pdev: pci_dev) -> vfio_pci_core_device:
    """echo vfio-pci > driver_override; echo <dev> > /sys/bus/pci/drivers_probe"""
    name = pdev.dev.init_name
    assert driver_override_store(pdev.dev, "vfio-pci\n", 9) == 9
    assert drivers_probe_store(name, len(name)) == len(name)
    vdev = vfio_pci_vdev(pdev)
    assert vdev is not None
    return vdev


@attrs.define
class Machine:
    fw: ZpciFirmware
    fds: list[int] = attrs.field(factory=list)

    def bound(self, fid: int = FID) -> tuple[pci_dev, vfio_pci_core_device]:
        pdev = pdev_of(fid)
        return pdev, bind_vfio_pci(pdev)

    def open_unbound(self, vdev: vfio_pci_core_device) -> tuple[int, int]:
        """open /dev/iommu and the device node (not yet bound: the device is closed)"""
        iommufd = syscalls.open("/dev/iommu")
        self.fds.append(iommufd)
        fd = syscalls.open("/dev/vfio/devices/" + vdev.vdev.device.init_name)
        self.fds.append(fd)
        return fd, iommufd

    def bind(self, fd: int, iommufd: int) -> None:
        b = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=iommufd)
        syscalls.ioctl(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b)

    def open(self, vdev: vfio_pci_core_device) -> int:
        fd, iommufd = self.open_unbound(vdev)
        self.bind(fd, iommufd)
        return fd

    def close(self, fd: int) -> None:
        self.fds.remove(fd)
        syscalls.close(fd)


@pytest.fixture
def machine() -> Iterator[Callable[..., Machine]]:
    """``machine(**functions)``: ``fid=PciFunction`` pairs (default: one PCIe
    virtio-net function at fid 0x10)."""
    made: list[Machine] = []

    def make(functions: dict[int, PciFunction] | None = None) -> Machine:
        fw = ZpciFirmware()
        for fid, fn in (functions or {FID: PciFunction(0x1AF4, 0x1041)}).items():
            fw.add_function(fid, fn, pchid=0x2C)
        fw.boot()
        m = Machine(fw)
        made.append(m)
        return m

    yield make
    for m in made:
        for fd in reversed(m.fds):
            try:
                syscalls.close(fd)
            except OSError:
                pass
        m.fw.shutdown()
