"""Scheduling points: where a schedule explorer may switch threads.  Exists only in
Python (the kernel has no such thing; KCSAN and lockdep are its nearest relatives).

The lock primitives of this directory (:mod:`~kernel.lib.mutex`,
:mod:`~kernel.lib.spinlock`, :mod:`~kernel.lib.rwsem`), :func:`eventfd_signal
<kernel.lib.eventfd.eventfd_signal>` and the hand-off of a channel report to the
``kmcheck`` thread (:mod:`kernel.s390.cio.chsc`) call :func:`sched_point` just before
they act.  With no explorer installed that costs one attribute check (``active is
None``).  A schedule explorer (:mod:`sim.explore`) installs itself with
:func:`sched_install`; it then decides, at every such point of the threads it
controls, which thread runs next, so that the interleavings of a scenario can be
enumerated deterministically instead of being left to the OS scheduler.

An operation names what the thread is about to do (``SP_ACQUIRE`` of a mutex, say)
and the object it does it on; the explorer uses the pair to know whether the thread
could proceed (a mutex that is held blocks it) and which operations of different
threads do not commute (two operations on the same object).  ``SP_WAIT`` carries a
``ready`` predicate: the thread may proceed once it is true.

Nothing here imports the explorer: the kernel calls out through :class:`Scheduler`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

__all__ = [
    "SP_ACCESS",
    "SP_ACQUIRE",
    "SP_DOWN_READ",
    "SP_DOWN_WRITE",
    "SP_HANDOFF",
    "SP_RELEASE",
    "SP_SIGNAL",
    "SP_TRYLOCK",
    "SP_WAIT",
    "Scheduler",
    "active",
    "sched_install",
    "sched_point",
    "sched_remove",
]

#: a blocking exclusive acquisition (mutex_lock, spin_lock): needs the lock free
SP_ACQUIRE: Final = "acquire"
#: any trylock (mutex, spinlock, rwsem read or write): never blocks
SP_TRYLOCK: Final = "trylock"
#: any release (mutex_unlock, spin_unlock, up_read, up_write)
SP_RELEASE: Final = "release"
#: down_read: needs no writer
SP_DOWN_READ: Final = "down_read"
#: down_write: needs no writer and no reader
SP_DOWN_WRITE: Final = "down_write"
#: eventfd_signal on an eventfd context
SP_SIGNAL: Final = "signal"
#: a channel report handed to the kmcheck thread
SP_HANDOFF: Final = "handoff"
#: waiting until ``ready()`` holds (the kmcheck thread waiting for a report)
SP_WAIT: Final = "wait"
#: a plain access to shared data outside any lock.  Nothing in the kernel calls it:
#: code that is *meant* to run without a lock is explored as atomic between the
#: points around it; a test that wants to see an unlocked variant race marks its
#: accesses with it (as KCSAN instruments every access)
SP_ACCESS: Final = "access"


class Scheduler(Protocol):
    """What the kernel needs of a schedule explorer."""

    def point(self, op: str, obj: object, ready: Callable[[], bool] | None = None) -> None:
        """The calling thread is about to do ``op`` on ``obj``; return when it may."""


#: The installed explorer, or None.  Read as ``schedpoint.active`` (never imported
#: by name: it changes).
active: Scheduler | None = None


def sched_install(s: Scheduler) -> None:
    global active
    if active is not None and active is not s:
        raise RuntimeError("a schedule explorer is already installed")
    active = s


def sched_remove(s: Scheduler) -> None:
    global active
    if active is s:
        active = None


def sched_point(op: str, obj: object, ready: Callable[[], bool] | None = None) -> None:
    """A scheduling point; returns at once when no explorer is installed."""
    s = active
    if s is not None:
        s.point(op, obj, ready)
