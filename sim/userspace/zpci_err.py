"""Reading zPCI error records from userspace, on whichever uAPI the kernel offers.

``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` (13) exists in two shapes, and a program that wants
to run on both kernels must tell them apart, as a real VMM has to:

* **v17** (the posted series, May 2026): ``struct vfio_device_feature_zpci_err`` is 72
  bytes of decoded CCDF fields that the kernel fills in;
* **as merged** (Linux 7.3, mainline fa63a2e3f947): the struct is one
  ``__aligned_u64 data``, a pointer to a buffer of the program's; the kernel copies the
  firmware's ``struct zpci_ccdf_err`` there, and says how big it is in the
  ``ccdf_err_length`` field that version 3 of the zPCI base capability
  (``VFIO_DEVICE_INFO_CAP_ZPCI_BASE``) adds after ``fh``.

:func:`zpci_err_uapi` decides from the base capability: version 3 or later with a
``ccdf_err_length`` of at least the 32 bytes of the record is the opaque buffer;
anything older is v17's struct (and a kernel without the feature at all answers the
PROBE with ENOTTY, which the callers check first).  :class:`ZpciErrReader` does one
GET in either shape and returns the record decoded into :class:`ZpciErrorRecord`, so
the rest of the program does not care which kernel it runs on.

The programs carry their own copy of these definitions (QEMU's ``linux-headers/``):
nothing here imports the model kernel.  tests/abi checks the layouts against the
s390x compiler.
"""

from __future__ import annotations

import ctypes
import errno
import struct
from typing import Final, Literal

import attrs

import uapi.linux.vfio as V
from sim.userspace import syscalls

__all__ = [
    "CCDF_ERR_LENGTH",
    "VFIO_DEVICE_FEATURE_ZPCI_ERROR",
    "UapiKind",
    "ZpciErrReader",
    "ZpciErrorRecord",
    "vfio_device_feature_zpci_err",
    "vfio_device_feature_zpci_err_v17",
    "vfio_device_info_cap_zpci_base_v3",
    "zpci_ccdf_err",
    "read_zpci_base",
    "reader_for",
    "zpci_err_uapi",
]

VFIO_DEVICE_FEATURE_ZPCI_ERROR: Final = 13

UapiKind = Literal["v17", "opaque"]


class vfio_device_feature_zpci_err_v17(ctypes.BigEndianStructure):
    """v17's ``struct vfio_device_feature_zpci_err`` (72 bytes; a 4-byte hole before
    ``faddr``)."""

    _fields_ = [
        ("feature_flags", ctypes.c_uint32),
        ("reserved1", ctypes.c_uint32),
        ("fh", ctypes.c_uint32),
        ("fid", ctypes.c_uint32),
        ("ett", ctypes.c_uint32, 4),
        ("mvn", ctypes.c_uint32, 12),
        ("dmaas", ctypes.c_uint32, 8),
        ("reserved2", ctypes.c_uint32, 6),
        ("q", ctypes.c_uint32, 1),
        ("rw", ctypes.c_uint32, 1),
        ("faddr", ctypes.c_uint64),
        ("reserved3", ctypes.c_uint32),
        ("reserved4", ctypes.c_uint16),
        ("pec", ctypes.c_uint16),
        ("reserved5", ctypes.c_uint8 * 28),
    ]


class vfio_device_feature_zpci_err(ctypes.BigEndianStructure):
    """The merged ``struct vfio_device_feature_zpci_err``: a pointer to the buffer the
    record goes to (8 bytes, 8-byte aligned)."""

    _fields_ = [("data", ctypes.c_uint64)]


class zpci_ccdf_err(ctypes.BigEndianStructure):
    """The record the merged kernel copies out: the firmware's Content Code Description
    for a PCI Function Error (arch/s390/include/asm/pci.h, ``__packed``, 32 bytes).
    Big-endian bit-fields are laid out from the most significant bit, as on s390x."""

    _pack_ = 1
    _fields_ = [
        ("reserved1", ctypes.c_uint32),
        ("fh", ctypes.c_uint32),  # function handle
        ("fid", ctypes.c_uint32),  # function id
        ("ett", ctypes.c_uint32, 4),  # expected table type
        ("mvn", ctypes.c_uint32, 12),  # MSI vector number
        ("dmaas", ctypes.c_uint32, 8),  # DMA address space
        ("reserved2", ctypes.c_uint32, 6),
        ("q", ctypes.c_uint32, 1),  # event qualifier
        ("rw", ctypes.c_uint32, 1),  # read/write
        ("faddr", ctypes.c_uint64),  # failing address
        ("reserved3", ctypes.c_uint32),
        ("reserved4", ctypes.c_uint16),
        ("pec", ctypes.c_uint16),  # PCI event code
    ]


#: sizeof(struct zpci_ccdf_err): what ``ccdf_err_length`` reports on a merged kernel.
CCDF_ERR_LENGTH: Final = ctypes.sizeof(zpci_ccdf_err)


class vfio_device_info_cap_zpci_base_v3(ctypes.BigEndianStructure):
    """``struct vfio_device_info_cap_zpci_base`` up to version 3 (40 bytes)."""

    _fields_ = [
        ("header", V.vfio_info_cap_header),
        ("start_dma", ctypes.c_uint64),
        ("end_dma", ctypes.c_uint64),
        ("pchid", ctypes.c_uint16),
        ("vfn", ctypes.c_uint16),
        ("fmb_length", ctypes.c_uint16),
        ("pft", ctypes.c_uint8),
        ("gid", ctypes.c_uint8),
        ("fh", ctypes.c_uint32),  # version 2
        ("ccdf_err_length", ctypes.c_uint32),  # version 3
    ]


@attrs.frozen
class ZpciErrorRecord:
    """One error record, whichever uAPI it came through."""

    fh: int
    fid: int
    ett: int
    mvn: int
    dmaas: int
    q: int
    rw: int
    faddr: int
    pec: int

    @classmethod
    def decode(cls, rec: vfio_device_feature_zpci_err_v17 | zpci_ccdf_err) -> ZpciErrorRecord:
        return cls(
            fh=rec.fh, fid=rec.fid, ett=rec.ett, mvn=rec.mvn, dmaas=rec.dmaas,
            q=rec.q, rw=rec.rw, faddr=rec.faddr, pec=rec.pec,
        )  # fmt: skip


def zpci_err_uapi(base: vfio_device_info_cap_zpci_base_v3 | None) -> tuple[UapiKind, int]:
    """Which shape of the feature this kernel has, from its zPCI base capability (None:
    the device has none), and the record length: ("opaque", ccdf_err_length) for
    version 3 or later, ("v17", 72) otherwise.  A version-3 capability whose
    ``ccdf_err_length`` is shorter than the record this program knows is refused
    (``ValueError``): the program cannot decode what it would get."""
    if base is not None and base.header.version >= 3:
        if base.ccdf_err_length < CCDF_ERR_LENGTH:
            raise ValueError(
                f"zPCI base capability version {base.header.version} reports ccdf_err_length "
                f"{base.ccdf_err_length}, shorter than struct zpci_ccdf_err ({CCDF_ERR_LENGTH} bytes)"
            )
        return "opaque", int(base.ccdf_err_length)
    return "v17", ctypes.sizeof(vfio_device_feature_zpci_err_v17)


def reader_for(fd: int) -> ZpciErrReader:
    """What a program does once after opening the device, to read error records on
    whichever uAPI the kernel has: ``VFIO_DEVICE_GET_INFO`` and its zPCI base
    capability (:func:`zpci_err_uapi`)."""
    buf = bytearray(4096)
    struct.pack_into(">I", buf, 0, len(buf))
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, buf)
    info = V.vfio_device_info.from_buffer_copy(buf)
    base = None
    off = info.cap_offset if info.flags & V.VFIO_DEVICE_FLAGS_CAPS else 0
    while off and off + ctypes.sizeof(V.vfio_info_cap_header) <= len(buf):
        cap = V.vfio_info_cap_header.from_buffer_copy(buf, off)
        if cap.id == V.VFIO_DEVICE_INFO_CAP_ZPCI_BASE:
            base = read_zpci_base(buf, off)
            break
        off = cap.next
    kind, length = zpci_err_uapi(base)
    return ZpciErrReader(fd, kind, length)


def read_zpci_base(buf: bytes | bytearray, offset: int) -> vfio_device_info_cap_zpci_base_v3:
    """The base capability at ``offset`` of a ``VFIO_DEVICE_GET_INFO`` buffer; fields a
    shorter (older) capability does not have read as 0."""
    size = ctypes.sizeof(vfio_device_info_cap_zpci_base_v3)
    hdr = V.vfio_info_cap_header.from_buffer_copy(bytes(buf), offset)
    raw = bytes(buf[offset : offset + size])
    cap = vfio_device_info_cap_zpci_base_v3.from_buffer_copy(raw.ljust(size, b"\0"))
    if hdr.version < 3:
        cap.ccdf_err_length = 0  # past the end of a version-2 capability (padding)
    return cap


@attrs.define
class ZpciErrReader:
    """GETs of ``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` on one device descriptor ``fd``."""

    fd: int
    kind: UapiKind
    length: int

    def get(self, fault: bool = False) -> ZpciErrorRecord | None:
        """The oldest pending record, or None on ENOMSG; other errors raise ``OSError``.
        ``fault``: the buffer the record goes to faults (as after ``mprotect(PROT_NONE)``),
        to show what the kernel does then."""
        hdr = V.vfio_device_feature(flags=V.VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_ZPCI_ERROR)
        if self.kind == "v17":
            return self._get_v17(hdr, fault)
        data = syscalls.alloc(self.length)
        try:
            arg = vfio_device_feature_zpci_err(data=ctypes.addressof(data))
            hdr.argsz = ctypes.sizeof(hdr) + ctypes.sizeof(arg)
            buf = bytearray(bytes(hdr) + bytes(arg))
            if fault:
                syscalls.protect_none(data)
            if not self._ioctl(buf):
                return None
            return ZpciErrorRecord.decode(zpci_ccdf_err.from_buffer_copy(bytes(data)[:CCDF_ERR_LENGTH]))
        finally:
            syscalls.free(data)

    def _get_v17(self, hdr: V.vfio_device_feature, fault: bool) -> ZpciErrorRecord | None:
        size = ctypes.sizeof(hdr) + self.length
        mem = syscalls.alloc(size)
        try:
            hdr.argsz = size
            ctypes.memmove(mem, bytes(hdr), ctypes.sizeof(hdr))
            if fault:
                # the record part of the buffer faults, the header is readable
                syscalls.protect_none(mem, ctypes.sizeof(hdr))
            if not self._ioctl(mem):
                return None
            rec = vfio_device_feature_zpci_err_v17.from_buffer_copy(bytes(mem)[ctypes.sizeof(hdr) :])
            return ZpciErrorRecord.decode(rec)
        finally:
            syscalls.free(mem)

    def _ioctl(self, buf: bytearray | ctypes.Array[ctypes.c_uint8]) -> bool:
        try:
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_FEATURE, buf)
        except OSError as e:
            if e.errno == errno.ENOMSG:
                return False
            raise
        return True
