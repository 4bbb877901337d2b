"""kernel/lib/sched.py: ``current``.  Two tasks on one OS thread (each in a context
of its own, as a schedule explorer's green threads are) own locks separately."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from kernel.lib import lockdep
from kernel.lib.bug import KernelBug
from kernel.lib.mutex import DEFINE_MUTEX, mutex_lock, mutex_trylock, mutex_unlock
from kernel.lib.rwsem import DECLARE_RWSEM, down_read, down_write_trylock, up_read
from kernel.lib.sched import get_current, set_current, task_storage, task_struct
from kernel.lib.spinlock import DEFINE_SPINLOCK, spin_lock, spin_trylock, spin_unlock

R = TypeVar("R")


def as_task(task: task_struct) -> Callable[[Callable[[], R]], R]:
    """Run a function as ``task``: in a context of its own on this OS thread."""
    ctx = contextvars.Context()
    ctx.run(set_current, task)
    return lambda fn: ctx.run(fn)


def test_current_is_the_thread_unless_a_task_is_set() -> None:
    assert get_current() is threading.current_thread()
    a = task_struct("a")
    run_a = as_task(a)
    assert run_a(get_current) is a
    assert get_current() is threading.current_thread()  # the context is a's own
    assert run_a(task_storage) is a
    assert task_storage() is not a


def test_two_tasks_on_one_thread_own_a_mutex_separately() -> None:
    m = DEFINE_MUTEX("test_mutex")
    a, b = task_struct("a"), task_struct("b")
    run_a, run_b = as_task(a), as_task(b)
    run_a(lambda: mutex_lock(m))
    assert m.owner is a
    assert run_b(lambda: mutex_trylock(m)) == 0
    msg = r"^mutex_unlock\(\) of test_mutex by b, which does not own it \(owner: a\)$"
    with pytest.raises(KernelBug, match=msg):
        run_b(lambda: mutex_unlock(m))
    assert run_a(lambda: lockdep.lock_is_held(m))
    assert not run_b(lambda: lockdep.lock_is_held(m))
    assert not lockdep.lock_is_held(m)  # nor the OS thread's own task
    run_a(lambda: mutex_unlock(m))
    assert m.owner is None


def test_two_tasks_on_one_thread_spinlock_and_rwsem() -> None:
    s = DEFINE_SPINLOCK("test_spin")
    sem = DECLARE_RWSEM("test_rwsem")
    a, b = task_struct("a"), task_struct("b")
    run_a, run_b = as_task(a), as_task(b)
    run_a(lambda: spin_lock(s))
    assert run_b(lambda: spin_trylock(s)) == 0
    with pytest.raises(KernelBug, match=r"^spin_unlock\(\) of test_spin by b, which does not hold it$"):
        run_b(lambda: spin_unlock(s))
    run_a(lambda: spin_unlock(s))
    run_a(lambda: down_read(sem))
    assert sem._readers == {a: 1}
    assert run_b(lambda: down_write_trylock(sem)) == 0
    with pytest.raises(KernelBug, match=r"^up_read\(\) of test_rwsem by a thread that has no read hold$"):
        run_b(lambda: up_read(sem))
    run_a(lambda: up_read(sem))
    assert sem._readers == {}
