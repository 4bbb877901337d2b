"""include/linux/spinlock.h.

``spinlock_t`` behaves like a mutex in this model (there is no preemption or
interrupt masking to model): a ``threading.Lock`` with an owner and a lockdep class.
The ``_irqsave`` variants return a ``flags`` value that the ``_irqrestore`` variants
take back, so the C reads the same.
"""

from __future__ import annotations

import threading

from kernel.lib import lockdep, schedpoint
from kernel.lib.bug import KernelBug
from kernel.lib.cleanup import GuardType
from kernel.lib.sched import Task, get_current

__all__ = [
    "DEFINE_SPINLOCK",
    "spin_lock",
    "spin_lock_init",
    "spin_lock_irqsave",
    "spin_trylock",
    "spin_unlock",
    "spin_unlock_irqrestore",
    "spinlock",
    "spinlock_t",
]


class spinlock_t:
    __slots__ = ("_lock", "lockdep_class", "owner")

    def __init__(self, name: str) -> None:
        self.lockdep_class = name
        self._lock = threading.Lock()
        self.owner: Task | None = None

    def __repr__(self) -> str:
        return f"<spinlock {self.lockdep_class}>"


def DEFINE_SPINLOCK(name: str) -> spinlock_t:
    return spinlock_t(name)


def spin_lock_init(lock: spinlock_t) -> None:
    if lock.owner is not None:
        raise KernelBug(f"spin_lock_init() of {lock.lockdep_class}, held by {lock.owner.name}")
    lock._lock = threading.Lock()


def spin_lock(lock: spinlock_t) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_ACQUIRE, lock)
    lockdep.lock_acquire(lock)
    lock._lock.acquire()
    lock.owner = get_current()


def spin_trylock(lock: spinlock_t) -> int:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_TRYLOCK, lock)
    if lock.owner is get_current() or not lock._lock.acquire(blocking=False):
        return 0
    lockdep.lock_acquire(lock, trylock=True)
    lock.owner = get_current()
    return 1


def spin_unlock(lock: spinlock_t) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_RELEASE, lock)
    me = get_current()
    if lock.owner is not me:
        raise KernelBug(f"spin_unlock() of {lock.lockdep_class} by {me.name}, which does not hold it")
    lockdep.lock_release(lock)
    lock.owner = None
    lock._lock.release()


def spin_lock_irqsave(lock: spinlock_t) -> int:
    """``spin_lock_irqsave(lock, flags)``: returns the flags."""
    spin_lock(lock)
    return 0


def spin_unlock_irqrestore(lock: spinlock_t, flags: int) -> None:
    spin_unlock(lock)


spinlock: GuardType[spinlock_t] = GuardType("spinlock", spin_lock, spin_unlock)
