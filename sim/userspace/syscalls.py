"""The system-call entry of the model: ``open``, ``ioctl``, ``pread``, ``pwrite`` and ``close`` as a
userspace program calls them.

Drop-in for the real calls: code written against this module runs unchanged on a
real host when ``open``/``close`` are ``os.open``/``os.close`` and ``ioctl`` is
``fcntl.ioctl``.  The same signatures, the same results, the same errors:

* ``open(path, flags=os.O_RDWR, mode=0o777) -> int``: a device node the kernel has
  created (``/dev/vfio/devices/vfio<N>``, ``/dev/iommu``); a failure raises
  ``OSError(errno, strerror, path)`` (``FileNotFoundError`` for a missing node).
  Every descriptor is a real descriptor number, reserved with
  ``os.open("/dev/null")``, so it never collides with the program's real
  descriptors (eventfds, files).
* ``ioctl(fd, request, arg=0, mutate_flag=True)``: as ``fcntl.ioctl``.  ``arg`` is
  an ``int`` (passed as is), an immutable ``bytes`` (copied into a temporary
  buffer; the call returns the buffer's bytes afterwards), or a mutable buffer
  (``bytearray``, ``ctypes`` structure or array), which the kernel reads and writes
  in place; the call then returns the kernel's non-negative result.  The buffer is
  mapped into the user address space for the duration of the call
  (:func:`kernel.lib.uaccess.map_user`), so the kernel reaches it only through
  ``copy_from_user``/``copy_to_user``.  A negative result raises
  ``OSError(errno, os.strerror(errno))``.  A descriptor that is not one of the
  model's files is a real one: the call goes to ``fcntl.ioctl``.
* ``pread(fd, n, offset) -> bytes`` and ``pwrite(fd, data, offset) -> int``: as
  ``os.pread``/``os.pwrite``: the file's ``read``/``write`` with ``*ppos = offset``
  and a mapped buffer; a negative result raises ``OSError``; a file without
  ``read``/``write`` gives ``EINVAL`` (``vfs_read()``), a negative offset
  ``EINVAL``, a negative ``n`` ``ValueError``.  Real descriptors go to ``os``.
* ``close(fd)``: releases the kernel file (its last reference calls the driver's
  ``release``) and the reserved descriptor.
* ``eventfd_read(fd) -> int``: ``os.eventfd_read`` (a program waiting for an
  interrupt), here so that a run's timeline sees the read.

When a timeline is being recorded (:func:`sim.timeline.current`), every ``ioctl`` on
a kernel file and every ``eventfd_read`` is recorded in it under the program's actor
(:mod:`sim.record`); without one, nothing is.

``mutate_flag=False`` with a mutable buffer copies it as ``fcntl.ioctl`` does, and
returns the resulting bytes.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
from typing import Any

from kernel.lib import fs
from kernel.lib.errno import IS_ERR
from kernel.lib.uaccess import map_user, unmap_user
from sim import timeline

__all__ = ["close", "eventfd_read", "ioctl", "open", "pread", "pwrite"]

Buffer = bytearray | ctypes.Structure | ctypes.Array[Any] | memoryview


def _raise(err: int, path: str | None = None) -> None:
    if path is None:
        raise OSError(err, os.strerror(err))
    raise OSError(err, os.strerror(err), path)


def open(path: str, flags: int = os.O_RDWR, mode: int = 0o777) -> int:
    """open(2) of a kernel device node; returns a descriptor number."""
    filp = fs.filp_open(path)
    if IS_ERR(filp):
        _raise(-filp.err, path)
    assert isinstance(filp, fs.file)
    fd = os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)
    fs.fd_install(fd, filp)
    return fd


def _kernel_file(fd: int) -> fs.file | None:
    filp = fs.fget(fd)
    if filp is not None:
        fs.fput(filp)
    return filp


def ioctl(fd: int, request: int, arg: int | bytes | Buffer = 0, mutate_flag: bool = True) -> Any:
    """ioctl(2) with ``fcntl.ioctl``'s signature and results."""
    filp = fs.fget(fd)
    if filp is None:
        return fcntl.ioctl(fd, request, arg, mutate_flag)
    if timeline.current() is None:
        return _ioctl(filp, request, arg, mutate_flag)
    from sim.record import KernelWatch, record_ioctl

    watch = KernelWatch(arg)
    try:
        with watch:
            res = _ioctl(filp, request, arg, mutate_flag)
    except OSError as e:
        record_ioctl(request, arg, -(e.errno or 0), watch)
        raise
    record_ioctl(request, res if isinstance(res, bytes) else arg, res if isinstance(res, int) else 0, watch)
    return res


def _ioctl(filp: fs.file, request: int, arg: int | bytes | Buffer, mutate_flag: bool) -> Any:
    """The kernel side of :func:`ioctl`; drops the reference ``ioctl`` took."""
    try:
        if isinstance(arg, int):
            ret = fs.vfs_ioctl(filp, request, arg)
            if ret < 0:
                _raise(-ret)
            return ret
        copy_back = isinstance(arg, bytes) or not mutate_flag
        buf: Buffer
        if isinstance(arg, bytes) or not mutate_flag:
            buf = bytearray(bytes(arg))
        else:
            buf = arg
        addr = map_user(buf)
        try:
            ret = fs.vfs_ioctl(filp, request, addr)
        finally:
            unmap_user(buf)
        if ret < 0:
            _raise(-ret)
        return bytes(buf) if copy_back else ret
    finally:
        fs.fput(filp)


def pread(fd: int, n: int, offset: int) -> bytes:
    """pread(2) with ``os.pread``'s signature and results."""
    filp = fs.fget(fd)
    if filp is None:
        return os.pread(fd, n, offset)
    try:
        if n < 0:
            raise ValueError("negative buffersize in pread")
        if offset < 0 or filp.f_op.read is None:
            _raise(errno.EINVAL)
        assert filp.f_op.read is not None
        buf = bytearray(n)
        addr = map_user(buf)
        try:
            ret = filp.f_op.read(filp, addr, n, [offset])
        finally:
            unmap_user(buf)
        if ret < 0:
            _raise(-ret)
        return bytes(buf[:ret])
    finally:
        fs.fput(filp)


def pwrite(fd: int, data: bytes | Buffer, offset: int) -> int:
    """pwrite(2) with ``os.pwrite``'s signature and results."""
    filp = fs.fget(fd)
    if filp is None:
        return os.pwrite(fd, data, offset)
    try:
        if offset < 0 or filp.f_op.write is None:
            _raise(errno.EINVAL)
        assert filp.f_op.write is not None
        buf = bytearray(bytes(data))
        addr = map_user(buf)
        try:
            ret = filp.f_op.write(filp, addr, len(buf), [offset])
        finally:
            unmap_user(buf)
        if ret < 0:
            _raise(-ret)
        return ret
    finally:
        fs.fput(filp)


def eventfd_read(fd: int) -> int:
    """``os.eventfd_read``: read (and reset) an eventfd's counter."""
    if timeline.current() is None:
        return os.eventfd_read(fd)
    from sim.record import record_eventfd_read

    try:
        value = os.eventfd_read(fd)
    except OSError as e:
        record_eventfd_read(fd, None, e.errno or 0)
        raise
    record_eventfd_read(fd, value)
    return value


def close(fd: int) -> None:
    """close(2)."""
    if _kernel_file(fd) is None:
        os.close(fd)
        return
    ret = fs.close_fd(fd)
    os.close(fd)
    if ret < 0:
        _raise(-ret)
