"""A userspace program that opens a vfio-pci device and reads its info and the
error IRQ's info -- through ioctl only, as it would on a real s390x host.

Run it from a checkout:  python examples/vfio_info.py
"""

from __future__ import annotations

import ctypes

import uapi.linux.vfio as V
from sim.host import Host
from sim.pci.function import PciFunction
from sim.userspace import syscalls as os_  # open/ioctl/close with fcntl.ioctl's behaviour


def show_device(path: str) -> None:
    iommufd = os_.open("/dev/iommu")
    fd = os_.open(path)
    bind = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=iommufd)
    os_.ioctl(fd, V.VFIO_DEVICE_BIND_IOMMUFD, bind)  # opens the device

    info = V.vfio_device_info(argsz=ctypes.sizeof(V.vfio_device_info))
    os_.ioctl(fd, V.VFIO_DEVICE_GET_INFO, info)
    print(f"{path}: flags={info.flags:#x} regions={info.num_regions} irqs={info.num_irqs}")

    irq = V.vfio_irq_info(argsz=ctypes.sizeof(V.vfio_irq_info), index=V.VFIO_PCI_ERR_IRQ_INDEX)
    os_.ioctl(fd, V.VFIO_DEVICE_GET_IRQ_INFO, irq)
    print(f"error IRQ: count={irq.count} flags={irq.flags:#x}")

    os_.close(fd)
    os_.close(iommufd)


if __name__ == "__main__":
    host = Host.boot({0x10: PciFunction(0x1AF4, 0x1041)})  # one PCIe function, fid 0x10
    show_device(host.bind_vfio_pci(0x10))
    host.shutdown()
