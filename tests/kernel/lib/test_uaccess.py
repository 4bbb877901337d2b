import ctypes
import errno

import pytest

from kernel.lib.uaccess import (
    copy_from_user,
    copy_to_user,
    make_fault,
    map_user,
    unmap_user,
)


class Rec(ctypes.BigEndianStructure):
    _fields_ = [("a", ctypes.c_uint32), ("b", ctypes.c_uint32)]


def fetch_into_user(uptr: int, value: Rec) -> int:
    """How the kernel turns copy_to_user's result into an errno."""
    if copy_to_user(uptr, value, ctypes.sizeof(value)):
        return -errno.EFAULT
    return 0


def test_copy_to_user_writes_the_user_buffer() -> None:
    ubuf = Rec()
    addr = map_user(ubuf)
    assert fetch_into_user(addr, Rec(1, 2)) == 0
    assert (ubuf.a, ubuf.b) == (1, 2)
    unmap_user(ubuf)


def test_copy_to_faulting_address_returns_bytes_not_copied() -> None:
    ubuf = Rec()
    addr = map_user(ubuf)
    make_fault(addr + 4, 4)
    assert copy_to_user(addr, Rec(7, 8), 8) == 4
    assert ubuf.a == 7 and ubuf.b == 0  # the part before the fault was written
    assert fetch_into_user(addr, Rec(7, 8)) == -errno.EFAULT
    unmap_user(ubuf)


def test_unmapped_address_faults_entirely() -> None:
    ubuf = Rec()
    addr = ctypes.addressof(ubuf)  # a real address, but not part of the user mapping
    assert copy_to_user(addr, Rec(1, 1), 8) == 8
    assert copy_to_user(0, b"\0" * 8, 8) == 8
    assert (ubuf.a, ubuf.b) == (0, 0)


def test_copy_from_user_and_zero_fill_on_partial_copy() -> None:
    ubuf = bytearray(b"\x11" * 6)
    addr = map_user(ubuf)
    kbuf = bytearray(b"\xff" * 8)
    assert copy_from_user(kbuf, addr, 8) == 2  # only 6 bytes are mapped
    assert kbuf == bytearray(b"\x11" * 6 + b"\0\0")
    unmap_user(ubuf)
    assert copy_from_user(kbuf, addr, 4) == 4


def test_copy_larger_than_kernel_object_is_a_bug() -> None:
    with pytest.raises(ValueError):
        copy_to_user(0, Rec(), 9)
