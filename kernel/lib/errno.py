"""include/uapi/asm-generic/errno-base.h, errno.h and include/linux/err.h.

The values are Linux's, taken from Python's :mod:`errno` module (this project runs on
Linux, where they are the same numbers the kernel uses).  The ported code writes
``return -errno.ENOMSG`` exactly as C writes ``return -ENOMSG``.

``ERR_PTR``/``IS_ERR``/``PTR_ERR`` stand for the pointer-encoded errors of
include/linux/err.h: a function that returns "a pointer or an error" in C returns
either the object or an :class:`ErrPtr` here.
"""

from __future__ import annotations

import errno
from typing import Any, Final, TypeGuard

import attrs

__all__ = [
    "ERR_PTR",
    "IS_ERR",
    "IS_ERR_OR_NULL",
    "PTR_ERR",
    "MAX_ERRNO",
    "ErrPtr",
    "errname",
]

#: include/linux/err.h: the largest errno an error pointer can carry.
MAX_ERRNO: Final = 4095

#: Kernel-internal errno values that userspace never sees and Python does not know.
_KERNEL_ONLY: Final[dict[int, str]] = {
    512: "ERESTARTSYS",
    513: "ERESTARTNOINTR",
    514: "ERESTARTNOHAND",
    515: "ENOIOCTLCMD",
    516: "ERESTART_RESTARTBLOCK",
    517: "EPROBE_DEFER",
    518: "EOPENSTALE",
    519: "ENOPARAM",
    524: "ENOTSUPP",
}


def errname(err: int) -> str:
    """Name of an errno, given either sign: ``errname(-errno.ENOMSG) == "ENOMSG"``.

    Exists only in Python (the kernel's ``%pe`` printk format does this job).  Zero is
    ``"0"``; a value with no name is printed as a number, as ``%pe`` does.
    """
    n = -err if err < 0 else err
    if n == 0:
        return "0"
    name = errno.errorcode.get(n) or _KERNEL_ONLY.get(n)
    return name if name is not None else str(err)


@attrs.frozen
class ErrPtr:
    """An error encoded in a pointer (``ERR_PTR(-ENOMEM)``)."""

    err: int

    def __bool__(self) -> bool:  # an error pointer is not NULL
        return True


def ERR_PTR(error: int) -> ErrPtr:
    if not -MAX_ERRNO <= error < 0:
        raise ValueError(f"ERR_PTR({error}) is not a negative errno")
    return ErrPtr(error)


def IS_ERR(ptr: object) -> TypeGuard[ErrPtr]:
    return isinstance(ptr, ErrPtr)


def IS_ERR_OR_NULL(ptr: object) -> bool:
    return ptr is None or isinstance(ptr, ErrPtr)


def PTR_ERR(ptr: Any) -> int:
    if isinstance(ptr, ErrPtr):
        return ptr.err
    raise TypeError(f"PTR_ERR() of a valid pointer {ptr!r}")
