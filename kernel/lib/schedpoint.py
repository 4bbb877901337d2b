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
threads do not commute.  ``SP_WAIT`` carries a ``ready`` predicate: the thread may
proceed once it is true.

Data operations say whether they read or write: ``SP_READ`` / ``SP_WRITE`` of one
object (a guarded field of :mod:`kernel.lib.context_analysis` is the pair
``(instance, field name)``), or :func:`sched_access` with an :class:`Access` naming
every object one atomic step reads and writes (a firmware instruction reads the
function's state and writes its config space, say).  Two reads of an object commute;
a write does not commute with any other access to the object.  Lock, eventfd and
hand-off operations count as writes of their object.

Nothing here imports the explorer: the kernel calls out through :class:`Scheduler`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Protocol

__all__ = [
    "SP_ACCESS",
    "SP_READ",
    "SP_WRITE",
    "MACHINE_EVENTS",
    "Access",
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
    "sched_access",
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
#: an access to shared data: with an :class:`Access` as its object, the objects it
#: reads and writes; with any other object, a write of that object (a test marking
#: an unlocked variant's accesses, as KCSAN instruments every access)
SP_ACCESS: Final = "access"
#: a read of one object (a guarded field: ``(instance, "field")``)
SP_READ: Final = "read"
#: a write of one object
SP_WRITE: Final = "write"


class _Token:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


#: The machine's events as the programs above the kernel can observe them: an error
#: or availability event the firmware raises *writes* it, and a program entering the
#: kernel (open, ioctl, read, write, close of a device file) *reads* it.  It orders
#: such an event against each entry of a program into the kernel, so the explorer
#: tries the event before and after every system call of a race's program (the
#: error after the open has completed, say) even where nothing the search sees
#: inside the call conflicts with it (a reset done through config space alone).
MACHINE_EVENTS: Final = _Token("machine events")


class Access:
    """What one atomic step reads and writes (objects, or ``(instance, field)``
    pairs); the object of an ``SP_ACCESS`` point."""

    __slots__ = ("reads", "writes")

    def __init__(self, reads: tuple[object, ...] = (), writes: tuple[object, ...] = ()) -> None:
        self.reads = reads
        self.writes = writes

    def __repr__(self) -> str:
        return f"Access(reads={self.reads!r}, writes={self.writes!r})"


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


def sched_access(reads: tuple[object, ...] = (), writes: tuple[object, ...] = ()) -> None:
    """A scheduling point before one atomic step that reads ``reads`` and writes
    ``writes``; returns at once when no explorer is installed."""
    s = active
    if s is not None:
        s.point(SP_ACCESS, Access(reads, writes))
