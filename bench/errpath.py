"""The host error path, per record, against its floor.

Model: a firmware error event on a function opened through vfio-pci (mediated
recovery) -- from ``inject_error`` on the firmware model, through the kernel's event
thread (``__zpci_event_error`` -> store -> vfio-pci's error_detected -> eventfd), to
the record in a userspace buffer (the eventfd read and a ``VFIO_DEVICE_FEATURE`` GET
through the userspace entry).

Floor: the same data movement with the least Python can do: a deque push and pop
of a 32-byte ctypes record, one lock acquire/release, one eventfd write and read,
one copy into a user buffer.
"""

from __future__ import annotations

import collections
import ctypes
import os
import struct
import threading
import time

import uapi.linux.vfio as V
from kernel.s390.include.asm.pci import zpci_ccdf_err
from sim.host import Host
from sim.pci.function import PciFunction
from sim.userspace import syscalls

HDR = ctypes.sizeof(V.vfio_device_feature)
ERR = ctypes.sizeof(V.vfio_device_feature_zpci_err)
GET = V.VFIO_DEVICE_FEATURE_GET | V.VFIO_DEVICE_FEATURE_ZPCI_ERROR


def _irq_set_err(efd: int) -> bytearray:
    buf = bytearray(24)
    flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER
    struct.pack_into(">IIIIIi", buf, 0, 24, flags, V.VFIO_PCI_ERR_IRQ_INDEX, 0, 1, efd)
    return buf


class OpenFunctions:
    """A booted host with ``n`` functions, each opened by a userspace program with an
    error eventfd registered."""

    def __init__(self, n: int) -> None:
        self.fids = [0x10 + i for i in range(n)]
        self.host = Host.boot({fid: PciFunction(0x1AF4, 0x1041) for fid in self.fids})
        self.iommufd = syscalls.open("/dev/iommu")
        self.fds: dict[int, int] = {}
        self.efds: dict[int, int] = {}
        for fid in self.fids:
            fd = syscalls.open(self.host.bind_vfio_pci(fid))
            bind = V.vfio_device_bind_iommufd(
                argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=self.iommufd
            )
            syscalls.ioctl(fd, V.VFIO_DEVICE_BIND_IOMMUFD, bind)
            efd = os.eventfd(0)
            syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, _irq_set_err(efd))
            self.fds[fid], self.efds[fid] = fd, efd
        self.buf = bytearray(HDR + ERR)
        struct.pack_into(">II", self.buf, 0, HDR + ERR, GET)

    def one_record(self, fid: int) -> int:
        self.host.fw.inject_error(fid, pec=0x3A)
        os.eventfd_read(self.efds[fid])  # wakes when vfio-pci signalled
        syscalls.ioctl(self.fds[fid], V.VFIO_DEVICE_FEATURE, self.buf)
        return int.from_bytes(self.buf[HDR + 38 : HDR + 40], "big")  # pec

    def close(self) -> None:
        self.host.fw.wait_events_handled()
        for fd in self.fds.values():
            syscalls.close(fd)
        for efd in self.efds.values():
            os.close(efd)
        syscalls.close(self.iommufd)
        self.host.shutdown()


def model_records_per_s(records: int, functions: int = 1) -> float:
    m = OpenFunctions(functions)
    try:
        m.one_record(m.fids[0])  # warm up
        t0 = time.perf_counter()
        for i in range(records):
            pec = m.one_record(m.fids[i % functions])
            if pec != 0x3A:
                raise RuntimeError(f"record {i}: PEC {pec:#x}")
        return records / (time.perf_counter() - t0)
    finally:
        m.close()


def floor_records_per_s(records: int) -> float:
    q: collections.deque[zpci_ccdf_err] = collections.deque()
    lock = threading.Lock()
    efd = os.eventfd(0)
    user = (ctypes.c_char * ERR)()
    rec = zpci_ccdf_err(fid=0x10, pec=0x3A)
    try:
        t0 = time.perf_counter()
        for _ in range(records):
            with lock:
                q.append(zpci_ccdf_err.from_buffer_copy(rec))
            os.eventfd_write(efd, 1)
            os.eventfd_read(efd)
            with lock:
                got = q.popleft()
            ctypes.memmove(user, ctypes.addressof(got), ctypes.sizeof(got))
        return records / (time.perf_counter() - t0)
    finally:
        os.close(efd)
