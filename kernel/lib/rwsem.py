"""include/linux/rwsem.h: ``struct rw_semaphore``.

Many readers or one writer.  A waiting writer holds back new readers, as the
kernel's rwsem does, so writers are not starved.  Owners are tracked per task (:mod:`~kernel.lib.sched`):
releasing a hold this thread does not have, or taking the semaphore again on a
thread that holds it (which deadlocks the kernel as soon as a writer waits), raises
:class:`~kernel.lib.bug.KernelBug`.
"""

from __future__ import annotations

import threading

from kernel.lib import lockdep, schedpoint
from kernel.lib.bug import KernelBug
from kernel.lib.cleanup import GuardType
from kernel.lib.sched import Task, get_current

__all__ = [
    "DECLARE_RWSEM",
    "down_read",
    "down_read_trylock",
    "down_write",
    "down_write_trylock",
    "init_rwsem",
    "rw_semaphore",
    "rwsem_is_locked",
    "rwsem_read",
    "rwsem_write",
    "up_read",
    "up_write",
]


class rw_semaphore:
    __slots__ = ("_cond", "_readers", "_waiting_writers", "_writer", "lockdep_class")

    def __init__(self, name: str) -> None:
        self.lockdep_class = name
        self._cond = threading.Condition(threading.Lock())
        self._readers: dict[Task, int] = {}
        self._writer: Task | None = None
        self._waiting_writers = 0

    def __repr__(self) -> str:
        return f"<rw_semaphore {self.lockdep_class}>"


def DECLARE_RWSEM(name: str) -> rw_semaphore:
    return rw_semaphore(name)


def init_rwsem(sem: rw_semaphore) -> None:
    if sem._writer is not None or sem._readers:
        raise KernelBug(f"init_rwsem() of {sem.lockdep_class} while it is held")
    sem._cond = threading.Condition(threading.Lock())
    sem._waiting_writers = 0


def down_read(sem: rw_semaphore) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_DOWN_READ, sem)
    lockdep.lock_acquire(sem, read=True)
    me = get_current()
    with sem._cond:
        while sem._writer is not None or sem._waiting_writers:
            sem._cond.wait()
        sem._readers[me] = sem._readers.get(me, 0) + 1


def down_read_trylock(sem: rw_semaphore) -> int:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_TRYLOCK, sem)
    me = get_current()
    with sem._cond:
        if sem._writer is not None or sem._waiting_writers or me in sem._readers:
            return 0
        sem._readers[me] = 1
    lockdep.lock_acquire(sem, trylock=True, read=True)
    return 1


def up_read(sem: rw_semaphore) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_RELEASE, sem)
    me = get_current()
    with sem._cond:
        if me not in sem._readers:
            raise KernelBug(f"up_read() of {sem.lockdep_class} by a thread that has no read hold")
        sem._readers[me] -= 1
        if not sem._readers[me]:
            del sem._readers[me]
        sem._cond.notify_all()
    lockdep.lock_release(sem)


def down_write(sem: rw_semaphore) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_DOWN_WRITE, sem)
    lockdep.lock_acquire(sem)
    with sem._cond:
        sem._waiting_writers += 1
        try:
            while sem._writer is not None or sem._readers:
                sem._cond.wait()
        finally:
            sem._waiting_writers -= 1
        sem._writer = get_current()


def down_write_trylock(sem: rw_semaphore) -> int:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_TRYLOCK, sem)
    with sem._cond:
        if sem._writer is not None or sem._readers:
            return 0
        sem._writer = get_current()
    lockdep.lock_acquire(sem, trylock=True)
    return 1


def up_write(sem: rw_semaphore) -> None:
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_RELEASE, sem)
    me = get_current()
    with sem._cond:
        if sem._writer is not me:
            raise KernelBug(f"up_write() of {sem.lockdep_class} by {me.name}, which does not hold it")
        sem._writer = None
        sem._cond.notify_all()
    lockdep.lock_release(sem)


def rwsem_is_locked(sem: rw_semaphore) -> bool:
    return sem._writer is not None or bool(sem._readers)


rwsem_read: GuardType[rw_semaphore] = GuardType("rwsem_read", down_read, up_read)
rwsem_write: GuardType[rw_semaphore] = GuardType("rwsem_write", down_write, up_write)
