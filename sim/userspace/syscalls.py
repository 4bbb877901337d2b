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

  The arguments are converted as CPython 3.11's ``fcntl_ioctl_impl()``
  (Modules/fcntlmodule.c) converts them, with its exceptions and messages: ``fd``
  is an ``int`` or has ``fileno()``; ``request`` goes to the kernel as an
  ``unsigned int`` -- any integer, masked to 32 bits; ``arg`` is tried as a
  writable buffer, then as a read-only one (``bytes``, a read-only
  ``memoryview``, a ``str`` as UTF-8) -- copied, at most 1024 bytes
  (``IOCTL_BUFSZ``; longer is ``ValueError("ioctl string arg too long")``, as is
  a longer writable buffer with ``mutate_flag=False``) -- then as a C ``int``
  (``OverflowError`` out of its range, ``TypeError`` for anything else).
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
import operator
import os
from typing import Any, Final

from kernel.lib import fs, schedpoint
from kernel.lib.errno import IS_ERR
from kernel.lib.uaccess import clear_faults, make_fault, map_user, unmap_user
from sim import timeline

__all__ = ["alloc", "close", "eventfd_read", "free", "ioctl", "open", "pread", "protect_none", "pwrite"]

Buffer = bytearray | ctypes.Structure | ctypes.Array[Any] | memoryview


def _raise(err: int, path: str | None = None) -> None:
    if path is None:
        raise OSError(err, os.strerror(err))
    raise OSError(err, os.strerror(err), path)


def _enter_kernel() -> None:
    """A program enters the kernel: under a schedule explorer a scheduling point that
    reads :data:`~kernel.lib.schedpoint.MACHINE_EVENTS`, so the machine's events are
    tried before and after each system call (nothing when no explorer runs)."""
    if schedpoint.active is not None:
        schedpoint.sched_access((schedpoint.MACHINE_EVENTS,), ())


def open(path: str, flags: int = os.O_RDWR, mode: int = 0o777) -> int:
    """open(2) of a kernel device node; returns a descriptor number."""
    _enter_kernel()
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


#: The size of ``fcntl.ioctl``'s own buffer (``IOCTL_BUFSZ`` in Modules/fcntlmodule.c).
IOCTL_BUFSZ: Final = 1024
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1


def _c_int(v: int) -> int:
    """``_PyLong_AsInt()``.  Exists only in Python."""
    if not _INT_MIN <= v <= _INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return v


def _fildes(fd: object) -> int:
    """fcntl's descriptor argument (``PyObject_AsFileDescriptor()``): an int, or an
    object with ``fileno()``.  Exists only in Python."""
    if isinstance(fd, int):
        v = _c_int(int(fd))
    else:
        fileno = getattr(fd, "fileno", None)
        if fileno is None:
            raise TypeError("argument must be an int, or have a fileno() method.")
        res = fileno()
        if not isinstance(res, int):
            raise TypeError("fileno() returned a non-integer")
        v = _c_int(int(res))
    if v < 0:
        raise ValueError(f"file descriptor cannot be a negative integer ({v})")
    return v


def _int_arg(arg: object) -> int:
    """The ``"i"`` conversion of an ioctl argument: a C ``int``.  Exists only in Python."""
    v = operator.index(arg)  # type: ignore[arg-type]
    if not _LONG_MIN <= v <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    if v > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if v < _INT_MIN:
        raise OverflowError("signed integer is less than minimum")
    return int(v)


def _ioctl_arg(arg: object, mutate_flag: bool) -> tuple[int | Buffer, bool]:
    """``fcntl_ioctl_impl()``'s reading of ``arg``: what the kernel gets (an int, the
    caller's writable buffer itself, or a copy) and whether the call returns the
    copy's bytes.  Exists only in Python."""
    try:
        view = memoryview(arg)  # type: ignore[arg-type]
    except TypeError:
        view = None
    if view is not None and view.contiguous:  # "w*", then "s*"
        n = view.nbytes
        if not view.readonly and mutate_flag:
            if isinstance(arg, bytearray | ctypes.Structure | ctypes.Array):
                return arg, False
            return view, False
        if n > IOCTL_BUFSZ:
            raise ValueError("ioctl string arg too long")
        return bytearray(view.tobytes()), True
    if isinstance(arg, str):  # "s*" of a str: its UTF-8 bytes
        try:
            data = arg.encode()
        except UnicodeEncodeError:
            pass  # as PyArg_Parse's "s*" failing: on to "i"
        else:
            if len(data) > IOCTL_BUFSZ:
                raise ValueError("ioctl string arg too long")
            return bytearray(data), True
    return _int_arg(arg), False


def ioctl(fd: int, request: int, arg: int | bytes | Buffer = 0, mutate_flag: bool = True) -> Any:
    """ioctl(2) with ``fcntl.ioctl``'s signature, conversions and results."""
    fd = _fildes(fd)
    _enter_kernel()
    filp = fs.fget(fd)
    if filp is None:
        return fcntl.ioctl(fd, request, arg, mutate_flag)
    try:
        request = operator.index(request) & 0xFFFFFFFF  # "I": unsigned int, not checked
        kernel_arg, copy_back = _ioctl_arg(arg, bool(mutate_flag))
    except BaseException:
        fs.fput(filp)
        raise
    if timeline.current() is None:
        return _ioctl(filp, request, kernel_arg, copy_back)
    from sim.record import KernelWatch, record_ioctl

    watch = KernelWatch(arg)
    try:
        with watch:
            res = _ioctl(filp, request, kernel_arg, copy_back)
    except OSError as e:
        record_ioctl(request, arg, -(e.errno or 0), watch)
        raise
    record_ioctl(request, res if isinstance(res, bytes) else arg, res if isinstance(res, int) else 0, watch)
    return res


def _ioctl(filp: fs.file, request: int, arg: int | Buffer, copy_back: bool) -> Any:
    """The kernel side of :func:`ioctl`; drops the reference ``ioctl`` took.  ``arg``
    is what the kernel gets; ``copy_back``: return its bytes (``arg`` is a copy)."""
    try:
        if isinstance(arg, int):
            ret = fs.vfs_ioctl(filp, request, arg)
            if ret < 0:
                _raise(-ret)
            return ret
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
    _enter_kernel()
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
    _enter_kernel()
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
    _enter_kernel()
    if _kernel_file(fd) is None:
        os.close(fd)
        return
    ret = fs.close_fd(fd)
    os.close(fd)
    if ret < 0:
        _raise(-ret)


def alloc(size: int) -> ctypes.Array[ctypes.c_uint8]:
    """Memory the program owns, as ``malloc(size)`` gives it: zeroed, and mapped in the
    model's user address space until :func:`free`, so the kernel may copy to or from
    its address (``ctypes.addressof``) -- the buffer behind a pointer in a uAPI struct,
    such as the ``data`` of ``struct vfio_device_feature_zpci_err``."""
    if size <= 0:
        raise ValueError(f"alloc() of {size} bytes")
    buf = (ctypes.c_uint8 * size)()
    map_user(buf)
    return buf


def free(buf: ctypes.Array[ctypes.c_uint8]) -> None:
    """Give back memory from :func:`alloc` (the kernel can no longer reach it)."""
    if id(buf) in _protected:
        _protected.discard(id(buf))
        clear_faults()
    unmap_user(buf)


_protected: set[int] = set()


def protect_none(buf: ctypes.Array[ctypes.c_uint8], offset: int = 0) -> None:
    """``mprotect(PROT_NONE)`` of ``buf`` from ``offset`` on (memory from :func:`alloc`):
    the kernel's copies to or from it fault until :func:`free`."""
    _protected.add(id(buf))
    make_fault(ctypes.addressof(buf) + offset, len(buf) - offset)
