"""A plain userspace driver of a vfio-pci device (no KVM): the program the
passthrough-userspace scenario runs, actor ``user-driver``.

It reaches the kernel only through the userspace entry (:mod:`sim.userspace.syscalls`:
``open``/``ioctl``/``pread``/``close``, and a real ``os.eventfd``), as a program on a
real s390x host would through ``os``/``fcntl``:

* :meth:`UserDriver.open`: opens ``/dev/iommu`` and the device's cdev and binds it
  (``VFIO_DEVICE_BIND_IOMMUFD``), which opens the device: from now on the host
  leaves the recovery of its errors to this program;
* :meth:`register_err_eventfd`: an eventfd on ``VFIO_PCI_ERR_IRQ_INDEX`` with
  ``VFIO_DEVICE_SET_IRQS`` (TRIGGER, DATA_EVENTFD);
* :meth:`probe_zpci_error`: ``VFIO_DEVICE_FEATURE(PROBE|ZPCI_ERROR)``;
* :meth:`wait_error`: ``select`` on the eventfd with a timeout, then reads it;
* :meth:`get_error` / :meth:`drain`: ``VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)`` until
  ``ENOMSG``;
* :meth:`reset`: ``VFIO_DEVICE_RESET``;
* :meth:`read_config`: ``pread`` of the config region (offset from
  ``VFIO_DEVICE_GET_REGION_INFO``);
* :meth:`recover`: wait, drain, reset -- what the program does on each error;
* :meth:`close`.

Every call runs as actor ``user-driver`` (:func:`sim.timeline.acting_as`), so a
recorded run shows each ioctl under that name.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
from typing import Final

import uapi.linux.vfio as V
from sim.record import record_close
from sim.timeline import acting_as
from sim.userspace import syscalls
from sim.userspace.zpci_err import (
    VFIO_DEVICE_FEATURE_ZPCI_ERROR,
    ZpciErrorRecord,
    ZpciErrReader,
    reader_for,
    vfio_device_feature_zpci_err_v17,
)

__all__ = ["ACTOR", "UserDriver", "ZpciErrFeature"]

ACTOR: Final = "user-driver"


class _ErrIrqSet(ctypes.BigEndianStructure):
    """``struct vfio_irq_set`` followed by one ``__s32`` eventfd in ``data[]``."""

    _fields_ = [("hdr", V.vfio_irq_set), ("fd", ctypes.c_int32)]


class ZpciErrFeature(ctypes.BigEndianStructure):
    """``struct vfio_device_feature`` followed by v17's ``struct
    vfio_device_feature_zpci_err`` (what PROBE is sized with)."""

    _fields_ = [("hdr", V.vfio_device_feature), ("err", vfio_device_feature_zpci_err_v17)]


class UserDriver:
    """A userspace driver of one vfio-pci device node (module docstring)."""

    def __init__(self, path: str, *, iommu: str = "/dev/iommu") -> None:
        self.path = path
        self.iommu = iommu
        self.fd = -1
        self.iommufd = -1
        self.efd = -1
        self.records: list[ZpciErrorRecord] = []
        self._config_offset: int | None = None
        self._err_reader: ZpciErrReader | None = None

    def open(self) -> None:
        with acting_as(ACTOR):
            self.iommufd = syscalls.open(self.iommu)
            self.fd = syscalls.open(self.path)
            bind = V.vfio_device_bind_iommufd(
                argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=self.iommufd
            )
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_BIND_IOMMUFD, bind)

    def register_err_eventfd(self) -> None:
        """An eventfd on the error IRQ (``OSError`` if the kernel refuses it)."""
        with acting_as(ACTOR):
            self.efd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            s = _ErrIrqSet()
            s.hdr.argsz = ctypes.sizeof(_ErrIrqSet)
            s.hdr.flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER
            s.hdr.index = V.VFIO_PCI_ERR_IRQ_INDEX
            s.hdr.start = 0
            s.hdr.count = 1
            s.fd = self.efd
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_SET_IRQS, s)

    def err_irq_count(self) -> int:
        """``VFIO_DEVICE_GET_IRQ_INFO`` of the error IRQ: how many it has (0 or 1)."""
        with acting_as(ACTOR):
            irq = V.vfio_irq_info(argsz=ctypes.sizeof(V.vfio_irq_info), index=V.VFIO_PCI_ERR_IRQ_INDEX)
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_GET_IRQ_INFO, irq)
            return int(irq.count)

    def probe_zpci_error(self) -> bool:
        """Whether the kernel offers VFIO_DEVICE_FEATURE_ZPCI_ERROR."""
        with acting_as(ACTOR):
            f = V.vfio_device_feature(
                argsz=ctypes.sizeof(ZpciErrFeature),
                flags=V.VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_ZPCI_ERROR,
            )
            try:
                syscalls.ioctl(self.fd, V.VFIO_DEVICE_FEATURE, f)
            except OSError as e:
                if e.errno == errno.ENOTTY:
                    return False
                raise
            return True

    def wait_error(self, timeout: float = 5.0) -> bool:
        """Wait for the error eventfd; True (and the counter read) when it fired."""
        with acting_as(ACTOR):
            readable, _, _ = select.select([self.efd], [], [], timeout)
            if not readable:
                return False
            syscalls.eventfd_read(self.efd)
            return True

    def zpci_err_reader(self) -> ZpciErrReader:
        """How this kernel hands out error records: the zPCI base capability of
        ``VFIO_DEVICE_GET_INFO`` says (version 3: an opaque buffer of
        ``ccdf_err_length`` bytes, as merged for Linux 7.3; older: v17's struct).
        Asked once, at the first GET."""
        if self._err_reader is None:
            with acting_as(ACTOR):
                self._err_reader = reader_for(self.fd)
        return self._err_reader

    def get_error(self, fault: bool = False) -> ZpciErrorRecord | None:
        """One GET: the oldest pending record, or None on ENOMSG; other errors raise.
        ``fault``: the buffer the record would go to faults (``mprotect(PROT_NONE)``)."""
        reader = self.zpci_err_reader()
        with acting_as(ACTOR):
            rec = reader.get(fault=fault)
            if rec is not None:
                self.records.append(rec)
            return rec

    def drain(self) -> list[ZpciErrorRecord]:
        """GET until ENOMSG; the records, oldest first."""
        out: list[ZpciErrorRecord] = []
        while (rec := self.get_error()) is not None:
            out.append(rec)
        return out

    def reset(self) -> int:
        """``VFIO_DEVICE_RESET``; 0, or ``OSError``."""
        with acting_as(ACTOR):
            return int(syscalls.ioctl(self.fd, V.VFIO_DEVICE_RESET, 0))

    def recover(self, timeout: float = 5.0) -> list[ZpciErrorRecord]:
        """What the program does when told of an error: wait for the eventfd, fetch
        every record, reset the device.  The records (empty if none came)."""
        if not self.wait_error(timeout):
            return []
        records = self.drain()
        self.reset()
        return records

    def read_config(self, where: int, size: int = 4) -> int:
        """Read the device's config space through the config region."""
        with acting_as(ACTOR):
            if self._config_offset is None:
                info = V.vfio_region_info(
                    argsz=ctypes.sizeof(V.vfio_region_info), index=V.VFIO_PCI_CONFIG_REGION_INDEX
                )
                syscalls.ioctl(self.fd, V.VFIO_DEVICE_GET_REGION_INFO, info)
                self._config_offset = int(info.offset)
            data = syscalls.pread(self.fd, size, self._config_offset + where)
            return int.from_bytes(data, "little")

    def close(self) -> None:
        with acting_as(ACTOR):
            if self.fd >= 0:
                record_close(self.path)
            for fd in (self.fd, self.iommufd):
                if fd >= 0:
                    syscalls.close(fd)
            if self.efd >= 0:
                os.close(self.efd)
            self.fd = self.iommufd = self.efd = -1
