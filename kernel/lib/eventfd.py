"""include/linux/eventfd.h, fs/eventfd.c: the kernel side of an eventfd.

Userspace creates a real eventfd (``os.eventfd``) and hands its number to the
kernel (``VFIO_DEVICE_SET_IRQS``).  ``eventfd_ctx_fdget()`` takes the kernel's own
reference to that file, as ``fdget()`` does: here a ``dup`` of the descriptor, so the
context stays valid when userspace closes its number.  ``eventfd_signal()`` adds 1 to
the counter, which wakes a ``select``/``poll``/``read`` on the user's descriptor.
"""

from __future__ import annotations

import errno
import os
import threading

from kernel.lib import schedpoint
from kernel.lib.errno import ERR_PTR, ErrPtr
from kernel.lib.trace import trace_event

__all__ = ["eventfd_ctx", "eventfd_ctx_fdget", "eventfd_ctx_put", "eventfd_signal"]


class eventfd_ctx:
    """``struct eventfd_ctx``: a reference to an eventfd file."""

    __slots__ = ("_fd", "_lock", "_refs", "id")

    _next_id = 0

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._refs = 1
        self._lock = threading.Lock()
        eventfd_ctx._next_id += 1
        self.id = eventfd_ctx._next_id

    def __repr__(self) -> str:
        return f"<eventfd_ctx {self.id} fd={self._fd}>"


def _is_eventfd(fd: int) -> bool | None:
    """True/False for an open descriptor, None for a descriptor that is not open."""
    try:
        os.fstat(fd)
    except OSError:
        return None
    try:
        return os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:[eventfd]"
    except OSError:
        return False


def eventfd_ctx_fdget(fd: int) -> eventfd_ctx | ErrPtr:
    """-EBADF for a descriptor that is not open, -EINVAL for one that is no eventfd."""
    kind = _is_eventfd(fd) if fd >= 0 else None
    if kind is None:
        return ERR_PTR(-errno.EBADF)
    if not kind:
        return ERR_PTR(-errno.EINVAL)
    return eventfd_ctx(os.dup(fd))


def eventfd_signal(ctx: eventfd_ctx) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_SIGNAL, ctx)
    with ctx._lock:
        if ctx._refs <= 0:
            return
        os.eventfd_write(ctx._fd, 1)
    trace_event("eventfd_signal", ctx=ctx.id)


def eventfd_ctx_get(ctx: eventfd_ctx) -> eventfd_ctx:
    with ctx._lock:
        ctx._refs += 1
    return ctx


def eventfd_ctx_put(ctx: eventfd_ctx) -> None:
    with ctx._lock:
        ctx._refs -= 1
        if ctx._refs == 0:
            os.close(ctx._fd)
            ctx._fd = -1
