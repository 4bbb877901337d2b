"""drivers/vfio/pci/vfio_pci_zdev.c (kernel/vfio/pci/vfio_pci_zdev.py): the v17 5/7
device feature VFIO_DEVICE_FEATURE_ZPCI_ERROR, through the userspace entry -- the
way the RFC vfio_pci_dsn_test.c selftest tests a feature: probe, get, the
unsupported direction and a short argsz."""

from __future__ import annotations

import ctypes
import errno
import struct
from collections.abc import Callable

import pytest

import uapi.linux.vfio as V
from kernel.lib import lockdep
from kernel.lib.mutex import Mutex, mutex_lock, mutex_unlock
from kernel.lib.uaccess import make_fault, user_addr
from kernel.s390.include.asm.pci import zpci_ccdf_err
from kernel.s390.pci.pci import get_zdev_by_fid
from kernel.s390.pci.pci_bus import zpci_zdev_put
from kernel.s390.pci.pci_event import zpci_get_pending_error
from kernel.vfio.pci.vfio_pci_zdev import vfio_pci_zdev_feature_err
from sim.host import zdev_of
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from tests.kernel.vfio.pci.conftest import FID, Machine

MachineFactory = Callable[..., Machine]

HDR = ctypes.sizeof(V.vfio_device_feature)
ERR = ctypes.sizeof(V.vfio_device_feature_zpci_err)
GET = V.VFIO_DEVICE_FEATURE_GET | V.VFIO_DEVICE_FEATURE_ZPCI_ERROR


def feature(flags: int, argsz: int = HDR + ERR, size: int | None = None) -> bytearray:
    buf = bytearray(HDR + ERR if size is None else size)
    struct.pack_into(">II", buf, 0, argsz, flags)
    return buf


def get_error(fd: int) -> V.vfio_device_feature_zpci_err:
    buf = feature(GET)
    assert syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, buf) == 0
    return V.vfio_device_feature_zpci_err.from_buffer_copy(buf, HDR)


def errno_of(fd: int, buf: bytearray) -> int:
    with pytest.raises(OSError) as e:
        syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, buf)
    assert e.value.errno is not None
    return e.value.errno


def opened(machine: MachineFactory) -> tuple[Machine, int]:
    m = machine()
    _, vdev = m.bound()
    return m, m.open(vdev)


def test_get_returns_the_records_in_fifo_order_then_enomsg(machine: MachineFactory) -> None:
    m, fd = opened(machine)
    fh = m.fw.fh(FID)
    m.fw.inject_error(FID, pec=0x3A, faddr=0x1000, ett=0xA, mvn=0x123, dmaas=0x5C, q=1, rw=1)
    m.fw.inject_error(FID, pec=0x3B, faddr=0x2000)
    assert m.fw.wait_events_handled()

    first, second = get_error(fd), get_error(fd)

    assert (first.fh, first.fid, first.pec, first.faddr) == (fh, FID, 0x3A, 0x1000)
    assert (first.ett, first.mvn, first.dmaas, first.q, first.rw) == (0xA, 0x123, 0x5C, 1, 1)
    assert (second.pec, second.faddr) == (0x3B, 0x2000)
    assert errno_of(fd, feature(GET)) == errno.ENOMSG


def test_reserved_fields_are_zero_even_when_firmware_sets_them(machine: MachineFactory) -> None:
    """The record is copied field by field: firmware's reserved bits stay behind."""
    m, fd = opened(machine)
    m.fw.inject_error(FID, pec=0x3A, reserved1=0xFFFFFFFF, reserved2=0x3F, reserved3=0xFFFF, reserved4=0xFF)
    assert m.fw.wait_events_handled()

    err = get_error(fd)

    assert (err.feature_flags, err.reserved1, err.reserved2, err.reserved3, err.reserved4) == (0,) * 5
    assert bytes(err.reserved5) == bytes(28)
    raw = bytes(err)
    assert raw[20:24] == bytes(4) and raw[68:72] == bytes(4)  # the hole and the tail padding


def test_probe_succeeds_and_dequeues_nothing(machine: MachineFactory) -> None:
    m, fd = opened(machine)
    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()
    for flags in (V.VFIO_DEVICE_FEATURE_PROBE | GET, V.VFIO_DEVICE_FEATURE_PROBE | 13):
        assert syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, feature(flags)) == 0
    assert get_error(fd).pec == 0x3A


def test_set_and_neither_get_nor_set_are_einval(machine: MachineFactory) -> None:
    _, fd = opened(machine)
    assert errno_of(fd, feature(V.VFIO_DEVICE_FEATURE_SET | 13)) == errno.EINVAL
    assert errno_of(fd, feature(V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_SET | 13)) == errno.EINVAL
    assert errno_of(fd, feature(13)) == errno.EINVAL


def test_argsz_below_header_plus_struct_is_einval(machine: MachineFactory) -> None:
    m, fd = opened(machine)
    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()
    assert errno_of(fd, feature(GET, argsz=HDR + ERR - 1)) == errno.EINVAL
    assert get_error(fd).pec == 0x3A  # nothing was dequeued


def test_faulting_user_buffer_is_efault_and_the_record_is_lost(machine: MachineFactory) -> None:
    """The reviewers' concern (Alex Williamson on v17 5/7): the record is dequeued
    before copy_to_user(); when the copy faults the ioctl fails with EFAULT and the
    record is gone -- the next GET returns the one after it."""
    m, fd = opened(machine)
    m.fw.inject_error(FID, pec=0x3A, faddr=1)
    m.fw.inject_error(FID, pec=0x3A, faddr=2)
    assert m.fw.wait_events_handled()
    buf = feature(GET)
    addr, _ = user_addr(buf)
    make_fault(addr + HDR, ERR)  # the data part of the user's buffer is not writable

    assert errno_of(fd, buf) == errno.EFAULT

    assert get_error(fd).faddr == 2
    assert errno_of(fd, feature(GET)) == errno.ENOMSG


def test_records_survive_until_close_and_are_dropped_by_it(machine: MachineFactory) -> None:
    m, fd = opened(machine)
    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()
    m.close(fd)
    _, vdev = m.bound()
    fd = m.open(vdev)
    assert errno_of(fd, feature(GET)) == errno.ENOMSG


def test_function_without_zdev_is_enodev_even_for_probe() -> None:
    """The zdev check comes before vfio_check_feature(): even PROBE gets -ENODEV on a
    function no zPCI bus holds (reachable only from inside: such a function cannot
    be opened with CONFIG_VFIO_PCI_ZDEV_KVM on)."""
    from sim.pci.hostbridge import PciHostBridge
    from tests.kernel.vfio.pci.conftest import bind_vfio_pci

    hb = PciHostBridge(domain=0x42)
    hb.add_function(0, PciFunction(0x1AF4, 0x1041))
    vdev = bind_vfio_pci(hb.scan().devices[0])
    try:
        flags = V.VFIO_DEVICE_FEATURE_PROBE | GET
        assert vfio_pci_zdev_feature_err(vdev.vdev, flags, 0, ERR) == -errno.ENODEV
    finally:
        hb.remove()


def test_queue_is_read_without_mediated_recovery_check(machine: MachineFactory) -> None:
    """zpci_get_pending_error() looks at the queue only."""
    m, fd = opened(machine)
    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()
    zdev = get_zdev_by_fid(FID)
    assert zdev is not None
    zpci_zdev_put(zdev)
    zdev.pending_errs.mediated_recovery = 0
    assert get_error(fd).pec == 0x3A
    zdev.pending_errs.mediated_recovery = 1

def test_get_pending_error_holds_pending_errs_lock_even_on_an_empty_queue(machine: MachineFactory) -> None:
    """v17 5/7: the queue is looked at under pending_errs_lock, the answer -ENOMSG
    included; lockdep records the dependency on an outer lock held around it."""
    opened(machine)
    zdev = zdev_of(FID)
    outer = Mutex("test_outer")
    mutex_lock(outer)
    try:
        assert zpci_get_pending_error(zdev, zpci_ccdf_err()) == -errno.ENOMSG
    finally:
        mutex_unlock(outer)
    assert ("test_outer", "zdev->pending_errs_lock") in {(e.held, e.taken) for e in lockdep.lockdep_edges()}

def test_get_pending_error_returns_0_with_the_oldest_record(machine: MachineFactory) -> None:
    """zpci_get_pending_error() answers 0 (an int, as the C) with the record copied
    out, then -ENOMSG."""
    m, _ = opened(machine)
    m.fw.inject_error(FID, pec=0x3A, faddr=0x1000)
    assert m.fw.wait_events_handled()
    ccdf = zpci_ccdf_err()

    rc = zpci_get_pending_error(zdev_of(FID), ccdf)

    assert (type(rc), rc, ccdf.pec, ccdf.faddr) == (int, 0, 0x3A, 0x1000)
    assert zpci_get_pending_error(zdev_of(FID), ccdf) == -errno.ENOMSG
