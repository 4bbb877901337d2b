"""include/uapi/asm-generic/ioctl.h: how an ioctl number is built.

s390 uses the generic layout: 8 bits of number, 8 bits of type, 14 bits of argument
size and 2 bits of direction, from the least significant bit up.  ``type`` may be
given as a one-character string (``_IO(';', 100)``) as the C character literal is,
and ``size`` as a ctypes type, whose ``sizeof`` is taken as the C ``_IOR`` macro
does with ``sizeof(type)``.
"""

from __future__ import annotations

import ctypes
from typing import Any, Final

__all__ = [
    "IOCSIZE_MASK",
    "IOCSIZE_SHIFT",
    "IOC_IN",
    "IOC_INOUT",
    "IOC_OUT",
    "_IO",
    "_IOC",
    "_IOC_DIR",
    "_IOC_NONE",
    "_IOC_NR",
    "_IOC_READ",
    "_IOC_SIZE",
    "_IOC_TYPE",
    "_IOC_WRITE",
    "_IOR",
    "_IOW",
    "_IOWR",
]

_IOC_NRBITS: Final = 8
_IOC_TYPEBITS: Final = 8
_IOC_SIZEBITS: Final = 14
_IOC_DIRBITS: Final = 2

_IOC_NRMASK: Final = (1 << _IOC_NRBITS) - 1
_IOC_TYPEMASK: Final = (1 << _IOC_TYPEBITS) - 1
_IOC_SIZEMASK: Final = (1 << _IOC_SIZEBITS) - 1
_IOC_DIRMASK: Final = (1 << _IOC_DIRBITS) - 1

_IOC_NRSHIFT: Final = 0
_IOC_TYPESHIFT: Final = _IOC_NRSHIFT + _IOC_NRBITS
_IOC_SIZESHIFT: Final = _IOC_TYPESHIFT + _IOC_TYPEBITS
_IOC_DIRSHIFT: Final = _IOC_SIZESHIFT + _IOC_SIZEBITS

_IOC_NONE: Final = 0
_IOC_WRITE: Final = 1
_IOC_READ: Final = 2


def _type(t: int | str) -> int:
    return ord(t) if isinstance(t, str) else t


def _size(s: int | type[Any]) -> int:
    return s if isinstance(s, int) else ctypes.sizeof(s)


def _IOC(dir: int, type: int | str, nr: int, size: int) -> int:
    t = _type(type)
    for name, value, mask in (
        ("dir", dir, _IOC_DIRMASK),
        ("type", t, _IOC_TYPEMASK),
        ("nr", nr, _IOC_NRMASK),
        ("size", size, _IOC_SIZEMASK),
    ):
        if not 0 <= value <= mask:
            raise ValueError(f"_IOC {name} {value} does not fit its field")
    return (dir << _IOC_DIRSHIFT) | (t << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)


def _IO(type: int | str, nr: int) -> int:
    return _IOC(_IOC_NONE, type, nr, 0)


def _IOR(type: int | str, nr: int, size: int | type[Any]) -> int:
    return _IOC(_IOC_READ, type, nr, _size(size))


def _IOW(type: int | str, nr: int, size: int | type[Any]) -> int:
    return _IOC(_IOC_WRITE, type, nr, _size(size))


def _IOWR(type: int | str, nr: int, size: int | type[Any]) -> int:
    return _IOC(_IOC_READ | _IOC_WRITE, type, nr, _size(size))


def _IOC_DIR(nr: int) -> int:
    return (nr >> _IOC_DIRSHIFT) & _IOC_DIRMASK


def _IOC_TYPE(nr: int) -> int:
    return (nr >> _IOC_TYPESHIFT) & _IOC_TYPEMASK


def _IOC_NR(nr: int) -> int:
    return (nr >> _IOC_NRSHIFT) & _IOC_NRMASK


def _IOC_SIZE(nr: int) -> int:
    return (nr >> _IOC_SIZESHIFT) & _IOC_SIZEMASK


IOC_IN: Final = _IOC_WRITE << _IOC_DIRSHIFT
IOC_OUT: Final = _IOC_READ << _IOC_DIRSHIFT
IOC_INOUT: Final = (_IOC_WRITE | _IOC_READ) << _IOC_DIRSHIFT
IOCSIZE_MASK: Final = _IOC_SIZEMASK << _IOC_SIZESHIFT
IOCSIZE_SHIFT: Final = _IOC_SIZESHIFT
