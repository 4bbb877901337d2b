"""include/linux/uaccess.h: ``copy_to_user()`` and ``copy_from_user()``.

A ``__user`` pointer is an integer address in the user address space of the
process.  In this model userspace buffers are real objects (ctypes structures,
``bytearray``\\ s) at their real addresses: the userspace entry *maps* a buffer while
the program owns it (:func:`map_user`), and the kernel may only touch addresses
inside a mapping.  Anything else faults, as an unmapped page would.  A test or a
scenario can also make part of a mapped buffer fault (:func:`make_fault`), as
``mprotect(PROT_NONE)`` would, to walk the kernel's ``-EFAULT`` paths.

Both copies return the number of bytes *not* copied (0 on success), exactly as in C;
the caller turns a non-zero result into ``-EFAULT``.  A partial
``copy_from_user()`` zero-fills the rest of the kernel buffer, as the kernel does.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, TypeAlias

import attrs
from sortedcontainers import SortedDict

__all__ = [
    "clear_faults",
    "copy_from_user",
    "copy_to_user",
    "make_fault",
    "map_user",
    "u64_to_user_ptr",
    "unmap_user",
    "user_address_space_reset",
    "user_addr",
]

#: What a buffer on either side of a copy may be.
Buffer: TypeAlias = ctypes.Structure | ctypes.Array[Any] | bytearray | memoryview


@attrs.define
class _Mapping:
    end: int
    owner: object  # keeps the buffer alive while it is mapped
    refs: int = 1


_lock = threading.Lock()
_maps: SortedDict[int, _Mapping] = SortedDict()
_faults: SortedDict[int, int] = SortedDict()  # start -> end of faulting ranges


def user_addr(buf: Buffer) -> tuple[int, int]:
    """(address, size) of a buffer.  Exists only in Python."""
    if isinstance(buf, bytearray | memoryview):
        n = len(buf) if isinstance(buf, bytearray) else buf.nbytes
        if n == 0:
            return 0, 0
        arr = (ctypes.c_char * n).from_buffer(buf)
        return ctypes.addressof(arr), n
    return ctypes.addressof(buf), ctypes.sizeof(buf)


def map_user(buf: Buffer) -> int:
    """Make ``buf`` part of the user address space; returns its address.  A buffer
    may be mapped more than once (nested calls); each map needs an unmap."""
    addr, size = user_addr(buf)
    if size == 0:
        return addr
    with _lock:
        m = _maps.get(addr)
        if m is not None and m.end == addr + size:
            m.refs += 1
        else:
            _maps[addr] = _Mapping(addr + size, buf)
    return addr


def unmap_user(buf: Buffer) -> None:
    addr, size = user_addr(buf)
    if size == 0:
        return
    with _lock:
        m = _maps.get(addr)
        if m is None:
            return
        m.refs -= 1
        if m.refs == 0:
            del _maps[addr]


def make_fault(addr: int, length: int) -> None:
    """Make ``[addr, addr + length)`` fault on access, like ``mprotect(PROT_NONE)``."""
    with _lock:
        _faults[addr] = max(addr + length, _faults.get(addr, addr))


def clear_faults() -> None:
    with _lock:
        _faults.clear()


def user_address_space_reset() -> None:
    """A fresh process: nothing mapped, nothing faulting.  Exists only in Python."""
    with _lock:
        _maps.clear()
        _faults.clear()


def _accessible(addr: int, n: int) -> int:
    """How many bytes from ``addr`` on (at most ``n``) can be accessed."""
    with _lock:
        done = 0
        cur = addr
        while done < n:
            i = _maps.bisect_right(cur) - 1
            if i < 0:
                break
            start = _maps.keys()[i]
            m = _maps[start]
            if not start <= cur < m.end:
                break
            limit = min(m.end, addr + n)
            j = _faults.bisect_right(cur) - 1
            if j >= 0:
                fstart = _faults.keys()[j]
                if fstart <= cur < _faults[fstart]:
                    break
            k = _faults.bisect_right(cur)
            if k < len(_faults):
                limit = min(limit, _faults.keys()[k])
            done += limit - cur
            cur = limit
        return done


def _kaddr(buf: Buffer | bytes) -> tuple[int, int, Any]:
    if isinstance(buf, bytes):
        keep = ctypes.create_string_buffer(buf, len(buf))
        return ctypes.addressof(keep), len(buf), keep
    addr, size = user_addr(buf)
    return addr, size, buf


def u64_to_user_ptr(x: int) -> int:
    """include/linux/kernel.h: a ``__u64`` from a uAPI struct as a ``__user`` pointer.
    Addresses are plain integers here, so it only keeps the value to 64 bits."""
    return x & 0xFFFF_FFFF_FFFF_FFFF


def copy_to_user(to: int, frm: Buffer | bytes, n: int) -> int:
    """Copy ``n`` bytes of the kernel buffer ``frm`` to user address ``to``."""
    src, size, _keep = _kaddr(frm)
    if n > size:
        raise ValueError(f"copy_to_user() of {n} bytes from a {size}-byte kernel object")
    ok = _accessible(to, n) if n else 0
    if ok:
        ctypes.memmove(to, src, ok)
    return n - ok


def copy_from_user(to: Buffer, frm: int, n: int) -> int:
    """Copy ``n`` bytes from user address ``frm`` into the kernel buffer ``to``."""
    dst, size, _keep = _kaddr(to)
    if n > size:
        raise ValueError(f"copy_from_user() of {n} bytes into a {size}-byte kernel object")
    ok = _accessible(frm, n) if n else 0
    if ok:
        ctypes.memmove(dst, frm, ok)
    if ok < n:
        ctypes.memset(dst + ok, 0, n - ok)
    return n - ok
