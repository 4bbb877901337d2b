"""sim/userspace/syscalls.py: open/ioctl/close behave as os.open/fcntl.ioctl/os.close
do on a real host: real descriptor numbers, OSError with the errno, fcntl.ioctl's
buffer rules."""

from __future__ import annotations

import array
import ctypes
import errno
import fcntl
import os
import sys
import termios
from collections.abc import Callable

import pytest

from kernel.lib import fs
from kernel.lib.fs import file, file_operations, inode
from kernel.lib.uaccess import copy_from_user, copy_to_user
from sim.userspace import syscalls

REQ_ECHO = 1  # doubles the u32 at arg in place, returns 5
REQ_INT = 2  # returns the integer arg
REQ_FAIL = 3  # -ENOMSG
released: list[file] = []


def echo_ioctl(filp: file, cmd: int, arg: int) -> int:
    if cmd == REQ_INT:
        return arg
    if cmd == REQ_FAIL:
        return -errno.ENOMSG
    if cmd != REQ_ECHO:
        return -errno.ENOTTY
    v = ctypes.c_uint32()
    if copy_from_user(v, arg, 4):
        return -errno.EFAULT
    v.value *= 2
    if copy_to_user(arg, v, 4):
        return -errno.EFAULT
    return 5


def echo_release(ino: inode, filp: file) -> int:
    released.append(filp)
    return 0


def echo_open(ino: inode, filp: file) -> int:
    return -errno.EBUSY if ino.i_cdev == "busy" else 0


@pytest.fixture
def node() -> str:
    released.clear()
    fops = file_operations(open=echo_open, release=echo_release, unlocked_ioctl=echo_ioctl)
    assert fs.devnode_add("/dev/echo", fops, None) == 0
    assert fs.devnode_add("/dev/busy", fops, "busy") == 0
    return "/dev/echo"


def test_open_gives_real_descriptor_numbers_and_close_releases(node: str) -> None:
    fd = syscalls.open(node)
    efd = os.eventfd(0)
    try:
        assert efd != fd
        assert os.fstat(fd)  # a real, open descriptor
    finally:
        os.close(efd)
    syscalls.close(fd)
    assert len(released) == 1
    with pytest.raises(OSError) as e:
        os.fstat(fd)
    assert e.value.errno == errno.EBADF


def test_open_of_missing_node_is_file_not_found() -> None:
    with pytest.raises(FileNotFoundError) as e:
        syscalls.open("/dev/vfio/devices/vfio42")
    assert e.value.errno == errno.ENOENT
    assert e.value.filename == "/dev/vfio/devices/vfio42"


def test_open_refused_by_driver_raises_its_errno(node: str) -> None:
    with pytest.raises(OSError) as e:
        syscalls.open("/dev/busy")
    assert e.value.errno == errno.EBUSY


def test_ioctl_mutable_buffer_is_changed_in_place_and_result_returned(node: str) -> None:
    fd = syscalls.open(node)
    try:
        v = ctypes.c_uint32(21)
        assert syscalls.ioctl(fd, REQ_ECHO, v) == 5
        assert v.value == 42
        b = bytearray((7).to_bytes(4, "little"))
        assert syscalls.ioctl(fd, REQ_ECHO, b) == 5
        assert int.from_bytes(b, "little") == 14
    finally:
        syscalls.close(fd)


def test_ioctl_bytes_and_mutate_false_return_a_copy(node: str) -> None:
    fd = syscalls.open(node)
    try:
        raw = (3).to_bytes(4, "little")
        assert syscalls.ioctl(fd, REQ_ECHO, raw) == (6).to_bytes(4, "little")
        b = bytearray(raw)
        assert syscalls.ioctl(fd, REQ_ECHO, b, False) == (6).to_bytes(4, "little")
        assert b == bytearray(raw)
    finally:
        syscalls.close(fd)


def test_ioctl_int_argument_and_negative_result_raises_oserror(node: str) -> None:
    fd = syscalls.open(node)
    try:
        assert syscalls.ioctl(fd, REQ_INT, 1234) == 1234
        with pytest.raises(OSError) as e:
            syscalls.ioctl(fd, REQ_FAIL)
        assert e.value.errno == errno.ENOMSG
        assert e.value.strerror == os.strerror(errno.ENOMSG)
    finally:
        syscalls.close(fd)


def test_buffer_is_mapped_only_during_the_call(node: str) -> None:
    fd = syscalls.open(node)
    try:
        v = ctypes.c_uint32(1)
        syscalls.ioctl(fd, REQ_ECHO, v)
        # after the call the kernel cannot reach the buffer any more
        assert copy_to_user(ctypes.addressof(v), b"\xff\xff\xff\xff", 4) == 4
        assert v.value == 2
    finally:
        syscalls.close(fd)


def test_real_descriptors_go_to_fcntl_ioctl() -> None:
    fd = os.open("/dev/null", os.O_RDWR)
    try:
        with pytest.raises(OSError) as e:
            syscalls.ioctl(fd, 0x3B75, bytearray(8))
        assert e.value.errno == errno.ENOTTY
    finally:
        syscalls.close(fd)


# -- fcntl.ioctl parity (CPython 3.11's Modules/fcntlmodule.c, fcntl_ioctl_impl) -----------

#: The outcomes below are CPython 3.11's; on 3.11 each is also checked against the
#: real fcntl.ioctl on /dev/null (the conversions happen before the system call).
CPYTHON_311 = sys.version_info[:2] == (3, 11)


def outcome(fn: Callable[[], object]) -> tuple[str, str]:
    try:
        return "ok", repr(fn())
    except Exception as e:
        return type(e).__name__, str(e)


class FileLike:
    def __init__(self, fd: object) -> None:
        self.fd = fd

    def fileno(self) -> object:
        return self.fd


ARG_CASES = [
    # (c) a read-only buffer of more than IOCTL_BUFSZ (1024) bytes
    (b"\0" * 1025, True, ("ValueError", "ioctl string arg too long")),
    ("x" * 1025, True, ("ValueError", "ioctl string arg too long")),
    (memoryview(b"\0" * 1025), True, ("ValueError", "ioctl string arg too long")),
    # ... and a writable one that is not to be mutated
    (bytearray(1025), False, ("ValueError", "ioctl string arg too long")),
    # (d) an int argument is a C int
    (2**31, True, ("OverflowError", "signed integer is greater than maximum")),
    (2**63 - 1, True, ("OverflowError", "signed integer is greater than maximum")),
    (-(2**31) - 1, True, ("OverflowError", "signed integer is less than minimum")),
    (2**63, True, ("OverflowError", "Python int too large to convert to C long")),
    (2**64 + 1, True, ("OverflowError", "Python int too large to convert to C long")),
    (-(2**63) - 1, True, ("OverflowError", "Python int too large to convert to C long")),
    (1.5, True, ("TypeError", "'float' object cannot be interpreted as an integer")),
    (None, True, ("TypeError", "'NoneType' object cannot be interpreted as an integer")),
    # a non-contiguous buffer is neither "w*" nor "s*"
    (
        memoryview(bytearray(8))[::2],
        True,
        ("TypeError", "'memoryview' object cannot be interpreted as an integer"),
    ),
    ("\udc80", True, ("TypeError", "'str' object cannot be interpreted as an integer")),
]


@pytest.mark.parametrize(("arg", "mutate", "expected"), ARG_CASES)
def test_ioctl_refuses_arguments_as_fcntl_does(
    node: str, arg: object, mutate: bool, expected: tuple[str, str]
) -> None:
    fd = syscalls.open(node)
    try:
        assert outcome(lambda: syscalls.ioctl(fd, REQ_ECHO, arg, mutate)) == expected  # type: ignore[arg-type]
    finally:
        syscalls.close(fd)
    assert fs.fget(fd) is None  # the reference the refused call took is dropped
    if CPYTHON_311:
        real = os.open("/dev/null", os.O_RDONLY)
        try:
            assert outcome(lambda: fcntl.ioctl(real, REQ_ECHO, arg, mutate)) == expected  # type: ignore[arg-type]
        finally:
            os.close(real)


FD_CASES = [
    (-1, ("ValueError", "file descriptor cannot be a negative integer (-1)")),
    (2**40, ("OverflowError", "Python int too large to convert to C int")),
    ("3", ("TypeError", "argument must be an int, or have a fileno() method.")),
    (FileLike("3"), ("TypeError", "fileno() returned a non-integer")),
    (FileLike(-2), ("ValueError", "file descriptor cannot be a negative integer (-2)")),
]


@pytest.mark.parametrize(("fd", "expected"), FD_CASES)
def test_ioctl_refuses_descriptors_as_fcntl_does(fd: object, expected: tuple[str, str]) -> None:
    assert outcome(lambda: syscalls.ioctl(fd, REQ_ECHO)) == expected  # type: ignore[arg-type]
    if CPYTHON_311:
        assert outcome(lambda: fcntl.ioctl(fd, REQ_ECHO)) == expected  # type: ignore[arg-type]


def test_ioctl_takes_an_object_with_fileno(node: str) -> None:
    fd = syscalls.open(node)
    try:
        v = ctypes.c_uint32(4)
        assert syscalls.ioctl(FileLike(fd), REQ_ECHO, v) == 5  # type: ignore[arg-type]
        assert v.value == 8
    finally:
        syscalls.close(fd)


@pytest.mark.parametrize("high", [1 << 32, 0xFFFF_FFFF << 32, 1 << 200, -(1 << 32)])
def test_ioctl_request_is_masked_to_32_bits(node: str, high: int) -> None:
    fd = syscalls.open(node)
    try:
        v = ctypes.c_uint32(3)
        assert syscalls.ioctl(fd, REQ_ECHO + high, v) == 5
        assert v.value == 6
        assert syscalls.ioctl(fd, REQ_INT + high, 77) == 77
    finally:
        syscalls.close(fd)


def test_the_real_fcntl_masks_the_request_too() -> None:
    r, w = os.pipe()
    try:
        os.write(w, b"hello")
        for high in (1 << 32, 1 << 200, -(1 << 32)):
            assert fcntl.ioctl(r, termios.FIONREAD + high, b"\0" * 4) == (5).to_bytes(4, sys.byteorder)
    finally:
        os.close(r)
        os.close(w)


def test_ioctl_request_that_is_not_an_integer_is_a_type_error(node: str) -> None:
    fd = syscalls.open(node)
    try:
        assert outcome(lambda: syscalls.ioctl(fd, 1.0, 0)) == (  # type: ignore[arg-type]
            "TypeError",
            "'float' object cannot be interpreted as an integer",
        )
    finally:
        syscalls.close(fd)
    if CPYTHON_311:
        assert outcome(lambda: fcntl.ioctl(0, 1.0, 0)) == (  # type: ignore[arg-type]
            "TypeError",
            "'float' object cannot be interpreted as an integer",
        )


@pytest.mark.parametrize(
    "arg",
    [
        memoryview((3).to_bytes(4, "little")),
        memoryview(bytearray((3).to_bytes(4, "little"))).toreadonly(),
        "\x03\x00\x00\x00",
        (3).to_bytes(4, "little") + b"\0" * 1020,  # exactly IOCTL_BUFSZ
    ],
    ids=["memoryview-of-bytes", "read-only-view", "str", "1024-bytes"],
)
def test_ioctl_copies_a_read_only_buffer_and_returns_the_copy(node: str, arg: object) -> None:
    fd = syscalls.open(node)
    try:
        before = bytes(arg.encode() if isinstance(arg, str) else arg)  # type: ignore[arg-type]
        res = syscalls.ioctl(fd, REQ_ECHO, arg)  # type: ignore[arg-type]
        assert res == (6).to_bytes(4, "little") + before[4:]
        assert bytes(arg.encode() if isinstance(arg, str) else arg) == before  # type: ignore[arg-type]
    finally:
        syscalls.close(fd)


def test_ioctl_mutates_a_writable_buffer_of_any_size_in_place(node: str) -> None:
    fd = syscalls.open(node)
    try:
        big = bytearray((9).to_bytes(4, "little") + b"\0" * 2000)
        assert syscalls.ioctl(fd, REQ_ECHO, big) == 5
        assert big[:4] == (18).to_bytes(4, "little")
        arr = array.array("I", [10, 0])
        assert syscalls.ioctl(fd, REQ_ECHO, arr) == 5
        assert arr.tolist() == [20, 0]
        assert syscalls.ioctl(fd, REQ_ECHO, arr, False) == (40).to_bytes(4, sys.byteorder) + bytes(4)
        assert arr.tolist() == [20, 0]
    finally:
        syscalls.close(fd)
