"""include/linux/sched.h and asm/current.h: ``current``, the task running this code.

In the kernel a lock's owner, lockdep's list of held locks and a WARN's "CPU: 0 PID:
1 Comm: kmcheck" are all per *task*.  In this model a task is normally an OS thread
(``threading.current_thread()``).  A schedule explorer (:mod:`sim.explore`) runs the
threads it interleaves as green threads of one OS thread instead (switching
between them costs a function call, not an OS wake-up); each of them is then a
:class:`task_struct` of its own, made current with :func:`set_current` inside it.
Green threads keep their own :mod:`contextvars` context, which is where the current
task is kept, so :func:`get_current` costs one context-variable read.

What depends on the task: the owner of a mutex, spinlock or rwsem
(:mod:`~kernel.lib.mutex`, :mod:`~kernel.lib.spinlock`, :mod:`~kernel.lib.rwsem`)
and lockdep's held-lock list (:func:`task_storage`).  Exists only in Python apart
from the names ``current``/``get_current`` and ``task_struct``, of which only
``comm`` is modelled (as ``name``, the name ``threading.Thread`` uses).
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import TypeAlias

__all__ = [
    "Task",
    "get_current",
    "set_current",
    "task_storage",
    "task_struct",
]


class task_struct:
    """A task that is not an OS thread (a schedule explorer's green thread).  Its
    attributes other than ``name`` are per-task storage (:func:`task_storage`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<task {self.name}>"


#: A task: the OS thread running the code, or a :class:`task_struct`.
Task: TypeAlias = threading.Thread | task_struct

_current: ContextVar[task_struct | None] = ContextVar("current", default=None)
_tls = threading.local()


def get_current() -> Task:
    """``current``: the running task."""
    t = _current.get()
    return threading.current_thread() if t is None else t


def set_current(task: task_struct | None) -> None:
    """Make ``task`` the current task of the running context (a green thread's own
    context: call it inside the green thread).  ``None``: the OS thread again."""
    _current.set(task)


def task_storage() -> object:
    """An object whose attributes are private to the running task (a
    ``threading.local`` for an OS thread, the :class:`task_struct` itself else)."""
    t = _current.get()
    return _tls if t is None else t
