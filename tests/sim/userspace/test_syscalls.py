"""sim/userspace/syscalls.py: open/ioctl/close behave as os.open/fcntl.ioctl/os.close
do on a real host: real descriptor numbers, OSError with the errno, fcntl.ioctl's
buffer rules."""

from __future__ import annotations

import ctypes
import errno
import os

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
