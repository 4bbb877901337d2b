"""Security properties of the zPCI error records (issue 9, item 5): a new opener never
sees the records of a previous one; a GET reply carries nothing but the record's
fields (no stale kernel or user bytes); a function not opened through vfio never
queues records, whatever driver it is bound to.

They hold on both trees, each on its uAPI, which the program learns from the kernel
(:func:`sim.userspace.zpci_err.reader_for`): on v17 the record comes back in the
72-byte struct of the ioctl's buffer, every byte outside its fields zero; as merged,
the kernel copies ``struct zpci_ccdf_err`` (``ccdf_err_length`` bytes) to the buffer
``data`` points to, byte for byte as the firmware wrote it, and writes nothing else:
not the ioctl's buffer, not past ``ccdf_err_length``."""

from __future__ import annotations

import ctypes
import errno
import struct
from collections.abc import Iterator

import attrs
import pytest

import uapi.linux.vfio as V
from kernel.lib.printk import KERN_INFO, dmesg
from kernel.pci.pci_driver import pci_register_driver
from kernel.s390.include.asm.pci import zpci_ccdf_pending
from sim.drivers.recording import RecordingDriver
from sim.host import Host, zdev_of
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from sim.userspace.zpci_err import (
    CCDF_ERR_LENGTH,
    VFIO_DEVICE_FEATURE_ZPCI_ERROR,
    ZpciErrorRecord,
    reader_for,
    vfio_device_feature_zpci_err,
    vfio_device_feature_zpci_err_v17,
    zpci_ccdf_err,
)

FID = 0x10
HDR = ctypes.sizeof(V.vfio_device_feature)
ERR = ctypes.sizeof(vfio_device_feature_zpci_err_v17)  # v17: the record in the ioctl's buffer
PTR = ctypes.sizeof(vfio_device_feature_zpci_err)  # merged: the data pointer
GET = V.VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_ZPCI_ERROR
#: bytes past the record in each buffer the program hands the kernel, to see that
#: nothing is written there
GUARD = 16


@pytest.fixture
def host() -> Iterator[Host]:
    h = Host.boot({FID: PciFunction(0x1AF4, 0x1041)})
    yield h
    h.shutdown()


@attrs.frozen
class Reply:
    """What one GET wrote: ``ioctl`` the whole buffer of the ioctl (header first), and
    on the merged uAPI ``data`` the whole buffer ``data`` pointed to (record first,
    then GUARD bytes); each was filled with 0xAA before the call."""

    ioctl: bytes
    data: bytes | None

    def raw(self) -> bytes:
        """The record's bytes: v17's 72-byte struct, or the merged ``zpci_ccdf_err``."""
        if self.data is None:
            return self.ioctl[HDR : HDR + ERR]
        return self.data[:CCDF_ERR_LENGTH]

    def record(self) -> ZpciErrorRecord:
        if self.data is None:
            return ZpciErrorRecord.decode(vfio_device_feature_zpci_err_v17.from_buffer_copy(self.raw()))
        return ZpciErrorRecord.decode(zpci_ccdf_err.from_buffer_copy(self.raw()))


class Program:
    """One userspace program: its own iommufd and device descriptor; once bound, it
    learns the kernel's uAPI of the error feature as a program does (GET_INFO)."""

    def __init__(self, node: str, bind: bool = True) -> None:
        self.iommufd = syscalls.open("/dev/iommu")
        self.fd = syscalls.open(node)
        if bind:
            b = V.vfio_device_bind_iommufd(
                argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=self.iommufd
            )
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_BIND_IOMMUFD, b)
            reader = reader_for(self.fd)
            self.kind, self.length = reader.kind, reader.length

    def get(self) -> Reply:
        """A GET into buffers filled with 0xAA, GUARD bytes longer than the kernel
        may write; raises OSError as ioctl(2) fails."""
        if self.kind == "v17":
            buf = bytearray(b"\xaa" * (HDR + ERR + GUARD))
            struct.pack_into(">II", buf, 0, HDR + ERR, GET)
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_FEATURE, buf)
            return Reply(bytes(buf), None)
        data = syscalls.alloc(self.length + GUARD)
        try:
            ctypes.memset(data, 0xAA, len(data))
            buf = bytearray(b"\xaa" * (HDR + PTR + GUARD))
            struct.pack_into(">IIQ", buf, 0, HDR + PTR, GET, ctypes.addressof(data))
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_FEATURE, buf)
            # the kernel reads the ioctl's buffer, never writes it
            assert bytes(buf) == struct.pack(">IIQ", HDR + PTR, GET, ctypes.addressof(data)) + b"\xaa" * GUARD
            return Reply(bytes(buf), bytes(data))
        finally:
            syscalls.free(data)

    def get_errno(self) -> int:
        with pytest.raises(OSError) as e:
            self.get()
        assert e.value.errno is not None
        return e.value.errno

    def close(self) -> None:
        syscalls.close(self.fd)
        syscalls.close(self.iommufd)


def inject(host: Host, *pecs: int, **fields: int) -> None:
    for pec in pecs:
        host.fw.inject_error(FID, pec=pec, **fields)
    assert host.fw.wait_events_handled()


def log() -> list[str]:
    """Every log line's text, whatever its level: for checks that a line is absent."""
    return [line.text for line in dmesg()]


def queue_is_pristine() -> bool:
    """Not under mediated recovery and not a byte of a record left behind."""
    return bytes(zdev_of(FID).pending_errs) == bytes(ctypes.sizeof(zpci_ccdf_pending))


# -- a new opener never sees the records of a previous opener --------------------------


@pytest.mark.parametrize("pending", [1, 4, 6])
def test_reopening_program_finds_no_records_of_its_previous_open(host: Host, pending: int) -> None:
    node = host.bind_vfio_pci(FID)
    first = Program(node)
    inject(host, *[0x3A] * pending)
    first.close()
    unhandled = f"zpci: Unhandled PCI error events count={min(pending, 4)} for PCI function 0x10"
    assert (KERN_INFO, unhandled) in [(line.level, line.text) for line in dmesg()]
    assert queue_is_pristine()

    again = Program(node)

    assert again.get_errno() == errno.ENOMSG
    again.close()


def test_second_program_finds_no_records_of_the_first(host: Host) -> None:
    node = host.bind_vfio_pci(FID)
    qemu = Program(node)
    inject(host, 0x3A, faddr=0x1111)
    inject(host, 0x3A, faddr=0x2222)
    qemu.close()

    other = Program(node)  # another program, its own iommufd
    assert other.get_errno() == errno.ENOMSG
    inject(host, 0x3A, faddr=0x3333)

    got = other.get().record()
    assert (got.faddr, got.pec, got.fid) == (0x3333, 0x3A, FID)  # its own record, and only that one
    assert other.get_errno() == errno.ENOMSG
    other.close()


def test_records_pending_when_the_function_is_not_open_stay_with_nobody(host: Host) -> None:
    """Errors while nobody has the device open are recovered by the host: the next
    opener finds nothing either."""
    node = host.bind_vfio_pci(FID)
    inject(host, 0x3A)
    opener = Program(node)
    assert opener.get_errno() == errno.ENOMSG
    opener.close()


# -- the GET reply carries nothing but the record ---------------------------------------


def test_get_reply_has_zero_in_every_byte_outside_the_fields(host: Host) -> None:
    """v17 copies the fields one by one into its struct: the firmware's reserved bits,
    the hole before ``faddr``, ``reserved5`` and the tail padding reach userspace as
    zeroes.  As merged the reply is the firmware's CCDF itself (its reserved fields are
    part of the record, 32 bytes with no hole), so every one of its bytes is what the
    firmware wrote, and nothing past ``ccdf_err_length`` nor in the ioctl's buffer is
    written."""
    node = host.bind_vfio_pci(FID)
    prog = Program(node)
    # firmware sets every reserved bit and every field to all ones
    inject(
        host,
        0x3A,
        faddr=0xFFFFFFFFFFFFFFFF,
        ett=0xF,
        mvn=0xFFF,
        dmaas=0xFF,
        q=1,
        rw=1,
        reserved1=0xFFFFFFFF,
        reserved2=0x3F,
        reserved3=0xFFFF,
        reserved4=0xFF,
    )
    fh = host.fw.fh(FID)

    reply = prog.get()

    raw = reply.raw()
    if reply.data is None:  # v17
        assert reply.ioctl[:HDR] == struct.pack(">II", HDR + ERR, GET)  # the header is not written back
        want = bytearray(ERR)  # copy_to_user wrote all 72 bytes
        struct.pack_into(">II", want, 8, fh, FID)  # fh, fid
        struct.pack_into(">I", want, 16, 0xFFFFFFFF & ~(0x3F << 2))  # ett|mvn|dmaas|reserved2=0|q|rw
        struct.pack_into(">Q", want, 24, 0xFFFFFFFFFFFFFFFF)  # faddr
        struct.pack_into(">H", want, 38, 0x3A)  # pec after reserved3 (32..35), reserved4 (36..37)
        assert raw == bytes(want)
        assert raw[0:8] == bytes(8)  # feature_flags, reserved1
        assert raw[20:24] == bytes(4)  # the hole before faddr
        assert raw[32:38] == bytes(6)  # reserved3, reserved4
        assert raw[40:68] == bytes(28)  # reserved5
        assert raw[68:72] == bytes(4)  # tail padding
        assert reply.ioctl[HDR + ERR :] == b"\xaa" * GUARD  # nothing beyond the record
    else:  # merged: the CCDF as the firmware wrote it, reserved bits included
        assert prog.length == CCDF_ERR_LENGTH == 32
        want = bytearray(CCDF_ERR_LENGTH)
        struct.pack_into(">III", want, 0, 0xFFFFFFFF, fh, FID)  # reserved1, fh, fid
        struct.pack_into(">I", want, 12, 0xFFFFFFFF)  # ett|mvn|dmaas|reserved2|q|rw
        struct.pack_into(">Q", want, 16, 0xFFFFFFFFFFFFFFFF)  # faddr
        struct.pack_into(">IHH", want, 24, 0xFFFF, 0xFF, 0x3A)  # reserved3, reserved4, pec
        assert raw == bytes(want)
        assert reply.data[CCDF_ERR_LENGTH:] == b"\xaa" * GUARD  # nothing past ccdf_err_length
    prog.close()


def test_get_reply_of_a_recycled_slot_has_no_bytes_of_the_older_record(host: Host) -> None:
    """The ring slots are reused (head/tail modulo 4): the fifth record through a slot
    replies with its own fields only -- on v17 every other byte zero, as merged the
    32 bytes of its own CCDF and nothing past them."""
    node = host.bind_vfio_pci(FID)
    prog = Program(node)
    inject(
        host, 0x3A, faddr=0xFFFFFFFFFFFFFFFF, ett=0xF, mvn=0xFFF, dmaas=0xFF, q=1, rw=1,
        reserved1=0xFFFFFFFF, reserved2=0x3F, reserved3=0xFFFF, reserved4=0xFF,
    )  # fmt: skip
    prog.get()
    for _ in range(3):
        inject(host, 0x3A)
        prog.get()
    assert zdev_of(FID).pending_errs.tail % 4 == 0  # the next record goes to slot 0 again
    inject(host, 0x3B, faddr=1)
    fh = host.fw.fh(FID)

    reply = prog.get()

    raw = reply.raw()
    err = reply.record()
    assert (err.fh, err.fid, err.faddr, err.ett, err.mvn, err.dmaas, err.q, err.rw, err.pec) == (
        fh, FID, 1, 0, 0, 0, 0, 0, 0x3B,
    )  # fmt: skip
    if reply.data is None:  # v17
        assert raw[0:8] == bytes(8) and raw[20:24] == bytes(4)
        assert raw[32:38] == bytes(6) and raw[40:72] == bytes(32)
    else:  # merged: the record is the whole CCDF; its reserved fields are the new record's
        assert raw == struct.pack(">IIIIQIHH", 0, fh, FID, 0, 1, 0, 0, 0x3B)
        assert reply.data[CCDF_ERR_LENGTH:] == b"\xaa" * GUARD
    prog.close()


# -- a function not opened through vfio never queues records ----------------------------


def overflow_and_check(host: Host) -> None:
    inject(host, 0x3A, 0x3A, 0x3A, 0x3A, 0x3A, 0x3A, 0x2A, 0x3B, 0x40)
    assert queue_is_pristine()
    # neither tree's full-queue line (v17: "zpci: ...", merged: "vfio-pci ...: ...")
    assert not any("Maximum number (4) of pending error events queued" in t for t in log())
    assert not any("Unhandled PCI error events" in t for t in log())


def test_bound_to_vfio_pci_but_never_opened_queues_nothing(host: Host) -> None:
    host.bind_vfio_pci(FID)
    overflow_and_check(host)


def test_device_file_open_but_not_bound_to_an_iommufd_queues_nothing(host: Host) -> None:
    prog = Program(host.bind_vfio_pci(FID), bind=False)
    overflow_and_check(host)
    prog.close()


def test_closed_device_queues_nothing(host: Host) -> None:
    prog = Program(host.bind_vfio_pci(FID))
    prog.close()
    overflow_and_check(host)


def test_bound_to_a_host_driver_queues_nothing(host: Host) -> None:
    drv = RecordingDriver("hostdrv", 0x1AF4, 0x1041)
    assert pci_register_driver(drv.driver) == 0
    assert drv.bound == [host.pdev(FID)]
    overflow_and_check(host)
    assert "error_detected" in drv.names()


def test_no_driver_queues_nothing(host: Host) -> None:
    overflow_and_check(host)
