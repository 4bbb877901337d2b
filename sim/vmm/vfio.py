"""The VMM's vfio-pci device: what QEMU's hw/vfio/pci.c and hw/s390x/s390-pci-vfio.c
do with a host function through its device file, written against the userspace entry
(:mod:`sim.userspace.syscalls`) and real eventfds only.

* :meth:`VfioPciDevice.realize` -- open ``/dev/iommu`` and the device node, link the
  VM to the file (``KVM_DEV_VFIO_FILE_ADD``, before the bind, which opens the device),
  bind to the iommufd, read the device, config-region and zPCI information, and
  register the error eventfd the way ``vfio_populate_device()`` and
  ``vfio_register_err_notifier()`` do: ``VFIO_DEVICE_GET_IRQ_INFO`` for
  ``VFIO_PCI_ERR_IRQ_INDEX`` must report ``count == 1``, then
  ``VFIO_DEVICE_SET_IRQS`` with ``DATA_EVENTFD | ACTION_TRIGGER``.
* :meth:`VfioPciDevice.probe_zpci_error` -- ``VFIO_DEVICE_FEATURE_PROBE`` of
  ``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` (QEMU's ``s390_pci_setup_err_handler()``).
* :meth:`VfioPciDevice.get_zpci_error` -- one ``VFIO_DEVICE_FEATURE_GET`` (QEMU's
  ``s390_pci_get_feature_err()``): a record, or -ENOMSG when none is pending (v17).
* :meth:`VfioPciDevice.reset` -- ``VFIO_DEVICE_RESET`` (QEMU's ``s390_pci_reset()``).
* :meth:`VfioPciDevice.config_read` / :meth:`config_write` -- ``pread``/``pwrite`` at
  the config region's offset.

Every ioctl and eventfd read goes through the userspace entry, which records it in
the run's timeline under the current actor (``qemu``); ``KVM_DEV_VFIO_FILE_ADD``,
which the model calls directly, is recorded here.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
from typing import Any

import uapi.linux.vfio as V
from kernel.lib.errno import errname
from kernel.s390.include.asm.kvm_host import kvm
from kernel.virt.kvm.vfio import kvm_vfio_file_add
from sim import timeline
from sim.userspace import syscalls
from sim.userspace.zpci_err import (
    VFIO_DEVICE_FEATURE_ZPCI_ERROR,
    ZpciErrorRecord,
    ZpciErrReader,
    read_zpci_base,
    vfio_device_info_cap_zpci_base_v3,
    zpci_err_uapi,
)
from uapi.linux.vfio_zdev import vfio_device_info_cap_zpci_group

__all__ = ["VfioPciDevice", "record"]

ACTOR = "qemu"


def record(kind: str, text: str, **fields: Any) -> None:
    """Record a step of the VMM in the current timeline (if one is being recorded)."""
    tl = timeline.current()
    if tl is not None:
        tl.record(ACTOR, kind, text, **fields)


def _ret_text(ret: int) -> str:
    return str(ret) if ret >= 0 else f"-{errname(ret)}"


class VfioPciDevice:
    """One host function handed to the VM through its vfio device file."""

    def __init__(self, path: str, vm: kvm | None) -> None:
        self.path = path
        self.vm = vm
        self.iommufd = -1
        self.fd = -1
        self.err_eventfd = -1
        self.pci_aer = False
        self.info = V.vfio_device_info()
        self.config_offset = 0
        self.config_size = 0
        self.zpci_base: vfio_device_info_cap_zpci_base_v3 | None = None
        self.zpci_group: vfio_device_info_cap_zpci_group | None = None

    # -- ioctls -----------------------------------------------------------------------

    def ioctl(self, request: int, arg: Any = 0) -> int:
        """ioctl on the device file: 0/positive result or a negative errno (the
        userspace entry records it in the timeline)."""
        try:
            return int(syscalls.ioctl(self.fd, request, arg))
        except OSError as e:
            return -(e.errno or 0)

    # -- plug -------------------------------------------------------------------------

    def realize(self) -> None:
        """Open, attach to the VM, bind; read the device; register the error eventfd.
        Raises OSError when the device cannot be opened or bound."""
        self.iommufd = syscalls.open("/dev/iommu")
        self.fd = syscalls.open(self.path)
        record("note", f"open {self.path} and /dev/iommu")  # no fd numbers: they vary
        if self.vm is not None:
            rc = kvm_vfio_file_add(self.vm, self.fd)
            record(
                "ioctl",
                f"KVM_DEV_VFIO_FILE_ADD {self.path} = {_ret_text(rc)}",
                request="KVM_DEV_VFIO_FILE_ADD",
                ret=rc,
            )
            if rc:
                raise OSError(-rc, os.strerror(-rc), "KVM_DEV_VFIO_FILE_ADD")
        bind = V.vfio_device_bind_iommufd(
            argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=self.iommufd
        )
        rc = self.ioctl(V.VFIO_DEVICE_BIND_IOMMUFD, bind)
        if rc:
            raise OSError(-rc, os.strerror(-rc), "VFIO_DEVICE_BIND_IOMMUFD")
        self.populate_device()
        self.register_err_notifier()

    def populate_device(self) -> None:
        """Device info with its zPCI capabilities, the config region, and whether the
        error IRQ is there (``vfio_populate_device()``, ``s390_pci_get_clp_info()``)."""
        buf = bytearray(4096)
        hdr = V.vfio_device_info.from_buffer(buf)
        hdr.argsz = len(buf)
        del hdr
        if self.ioctl(V.VFIO_DEVICE_GET_INFO, buf) == 0:
            self.info = V.vfio_device_info.from_buffer_copy(buf)
            self._read_caps(buf)
        region = V.vfio_region_info(
            argsz=ctypes.sizeof(V.vfio_region_info), index=V.VFIO_PCI_CONFIG_REGION_INDEX
        )
        if self.ioctl(V.VFIO_DEVICE_GET_REGION_INFO, region) == 0:
            self.config_offset = region.offset
            self.config_size = region.size
        irq = V.vfio_irq_info(argsz=ctypes.sizeof(V.vfio_irq_info), index=V.VFIO_PCI_ERR_IRQ_INDEX)
        rc = self.ioctl(V.VFIO_DEVICE_GET_IRQ_INFO, irq)
        if rc == 0 and irq.count == 1:
            self.pci_aer = True
        elif rc == 0:
            record("note", f"{self.path}: Could not enable error recovery for the device")

    def _read_caps(self, buf: bytearray) -> None:
        if not self.info.flags & V.VFIO_DEVICE_FLAGS_CAPS:
            return
        off = self.info.cap_offset
        seen = 0
        while off and off + ctypes.sizeof(V.vfio_info_cap_header) <= len(buf) and seen < 64:
            cap = V.vfio_info_cap_header.from_buffer_copy(buf, off)
            if cap.id == V.VFIO_DEVICE_INFO_CAP_ZPCI_BASE:
                self.zpci_base = read_zpci_base(buf, off)
            elif cap.id == V.VFIO_DEVICE_INFO_CAP_ZPCI_GROUP:
                self.zpci_group = vfio_device_info_cap_zpci_group.from_buffer_copy(
                    buf[off : off + ctypes.sizeof(vfio_device_info_cap_zpci_group)].ljust(
                        ctypes.sizeof(vfio_device_info_cap_zpci_group), b"\0"
                    )
                )
            off = cap.next
            seen += 1

    def register_err_notifier(self) -> None:
        """``vfio_register_err_notifier()``: an eventfd triggered on errors."""
        if not self.pci_aer:
            return
        efd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        hdr = V.vfio_irq_set(
            argsz=ctypes.sizeof(V.vfio_irq_set) + 4,
            flags=V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER,
            index=V.VFIO_PCI_ERR_IRQ_INDEX,
            start=0,
            count=1,
        )
        buf = bytearray(bytes(hdr) + struct.pack(">i", efd))
        rc = self.ioctl(V.VFIO_DEVICE_SET_IRQS, buf)
        if rc:
            os.close(efd)
            self.pci_aer = False
            return
        self.err_eventfd = efd

    # -- the error feature --------------------------------------------------------------

    def probe_zpci_error(self) -> int:
        feature = V.vfio_device_feature(
            argsz=ctypes.sizeof(V.vfio_device_feature),
            flags=V.VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_ZPCI_ERROR,
        )
        return self.ioctl(V.VFIO_DEVICE_FEATURE, feature)

    def get_zpci_error(self) -> tuple[int, ZpciErrorRecord | None]:
        """(0, record) or (-errno, None); -ENOMSG: nothing (more) pending.  The record
        comes through the uAPI the kernel offers: an opaque buffer of
        ``ccdf_err_length`` bytes where the zPCI base capability is version 3 (as
        merged), v17's struct otherwise (:mod:`sim.userspace.zpci_err`)."""
        try:
            kind, length = zpci_err_uapi(self.zpci_base)
        except ValueError as e:
            record("note", f"cannot read error records: {e}")
            return -errno.EPROTO, None
        try:
            rec = ZpciErrReader(self.fd, kind, length).get()
        except OSError as e:
            return -(e.errno or errno.EIO), None
        if rec is None:
            return -errno.ENOMSG, None
        return 0, rec

    # -- reset and config space ------------------------------------------------------------

    def reset(self) -> int:
        return self.ioctl(V.VFIO_DEVICE_RESET)

    def config_read(self, where: int, size: int) -> bytes | None:
        """``size`` bytes of config space (little-endian, as stored), None on error."""
        try:
            data = syscalls.pread(self.fd, size, self.config_offset + where)
        except OSError:
            return None
        return data if len(data) == size else None

    def config_write(self, where: int, data: bytes) -> bool:
        try:
            return syscalls.pwrite(self.fd, data, self.config_offset + where) == len(data)
        except OSError:
            return False

    # -- the error eventfd ---------------------------------------------------------------

    def err_notifier_readable(self) -> bool:
        """Whether the main loop's poll sees the error eventfd readable."""
        if self.err_eventfd < 0:
            return False
        readable, _, _ = select.select([self.err_eventfd], [], [], 0)
        return bool(readable)

    def err_notifier_test_and_clear(self) -> bool:
        """``event_notifier_test_and_clear()`` on the error eventfd."""
        if self.err_eventfd < 0:
            return False
        try:
            return syscalls.eventfd_read(self.err_eventfd) > 0
        except BlockingIOError:
            return False

    def close(self) -> None:
        if self.fd >= 0:
            record("close", self.path, path=self.path)
        if self.err_eventfd >= 0:
            os.close(self.err_eventfd)
            self.err_eventfd = -1
        for fd in (self.fd, self.iommufd):
            if fd >= 0:
                try:
                    syscalls.close(fd)
                except OSError:
                    pass
        self.fd = self.iommufd = -1
