"""include/linux/mutex.h (and ``lockdep_assert_held`` of include/linux/lockdep.h).

``struct mutex`` is :class:`Mutex`, a ``threading.Lock`` that knows its owner (the
task, :mod:`~kernel.lib.sched`) and its lockdep class.  The C calls keep their
names: ``mutex_lock(&m)`` is ``mutex_lock(m)``.  ``guard(mutex)(m)`` (include/linux/cleanup.h) is
``with guard(mutex)(m):`` with :data:`mutex` from this module as the guard's type.

Misuse raises :class:`~kernel.lib.bug.KernelBug` naming the lock: a second
``mutex_lock`` on a thread that holds the mutex (the kernel would deadlock), and a
``mutex_unlock`` by a thread that does not own it (the kernel's
``DEBUG_LOCKS_WARN_ON(owner != current)``).
"""

from __future__ import annotations

import threading

from kernel.lib import lockdep, schedpoint
from kernel.lib.bug import WARN, KernelBug
from kernel.lib.cleanup import GuardType
from kernel.lib.sched import Task, get_current

__all__ = [
    "DEFINE_MUTEX",
    "Mutex",
    "lockdep_assert_held",
    "lockdep_assert_not_held",
    "mutex",
    "mutex_init",
    "mutex_is_locked",
    "mutex_lock",
    "mutex_trylock",
    "mutex_unlock",
]


class Mutex:
    """``struct mutex``.  ``name`` is its lockdep class (``"zdev->state_lock"``)."""

    __slots__ = ("_lock", "lockdep_class", "owner")

    def __init__(self, name: str) -> None:
        self.lockdep_class = name
        self._lock = threading.Lock()
        self.owner: Task | None = None

    def __repr__(self) -> str:
        state = f"held by {self.owner.name}" if self.owner is not None else "unlocked"
        return f"<mutex {self.lockdep_class} {state}>"


def DEFINE_MUTEX(name: str) -> Mutex:
    """``static DEFINE_MUTEX(name);``"""
    return Mutex(name)


def mutex_init(lock: Mutex) -> None:
    """Initialise a mutex that is not in use; the C calls it on freshly allocated
    structures.  Re-initialising a held mutex is a bug."""
    if lock.owner is not None:
        raise KernelBug(f"mutex_init() of {lock.lockdep_class}, held by {lock.owner.name}")
    lock._lock = threading.Lock()


def mutex_lock(lock: Mutex) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_ACQUIRE, lock)
    lockdep.lock_acquire(lock)
    lock._lock.acquire()
    lock.owner = get_current()


def mutex_trylock(lock: Mutex) -> int:
    """1 if the mutex was taken, 0 if it is held (by anyone, this thread included)."""
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_TRYLOCK, lock)
    if lock.owner is get_current():
        return 0
    if not lock._lock.acquire(blocking=False):
        return 0
    lockdep.lock_acquire(lock, trylock=True)
    lock.owner = get_current()
    return 1


def mutex_unlock(lock: Mutex) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_RELEASE, lock)
    me = get_current()
    if lock.owner is not me:
        who = lock.owner.name if lock.owner is not None else "nobody"
        raise KernelBug(
            f"mutex_unlock() of {lock.lockdep_class} by {me.name}, which does not own it (owner: {who})"
        )
    lockdep.lock_release(lock)
    lock.owner = None
    lock._lock.release()


def mutex_is_locked(lock: Mutex) -> bool:
    return lock._lock.locked()


def lockdep_assert_held(lock: object) -> None:
    """WARNs unless this thread holds ``lock`` (any lock type of kernel/lib)."""
    WARN(
        not lockdep.lock_is_held(lock),
        "lockdep_assert_held(%s) failed",
        getattr(lock, "lockdep_class", repr(lock)),
    )


def lockdep_assert_not_held(lock: object) -> None:
    WARN(
        lockdep.lock_is_held(lock),
        "lockdep_assert_not_held(%s) failed",
        getattr(lock, "lockdep_class", repr(lock)),
    )


#: The guard type: ``with guard(mutex)(lock):``.
mutex: GuardType[Mutex] = GuardType("mutex", mutex_lock, mutex_unlock)
