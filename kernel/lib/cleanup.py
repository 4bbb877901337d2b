"""include/linux/cleanup.h: ``guard()`` and ``scoped_guard()``.

C's ``guard(mutex)(&lock);`` holds the lock from that line to the end of the scope.
Python spells the scope out: ``with guard(mutex)(lock):``.  The lock is released
however the block is left, return and exception included, which is what the
compiler's cleanup attribute gives C.  ``scoped_guard(mutex, lock)`` is the same
with C's other spelling.

A guard type (``mutex``, ``spinlock``, ``rwsem_read``, ``device``) is a
:class:`GuardType` defined next to its lock, as ``DEFINE_GUARD()`` sits next to the
lock in C.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

__all__ = ["GuardType", "guard", "scoped_guard"]

L = TypeVar("L")


class GuardType(Generic[L]):
    """``DEFINE_GUARD(name, type, lock, unlock)``."""

    __slots__ = ("lock", "name", "unlock")

    def __init__(self, name: str, lock: Callable[[L], None], unlock: Callable[[L], None]):
        self.name = name
        self.lock = lock
        self.unlock = unlock


class _Guard(Generic[L]):
    __slots__ = ("_obj", "_type")

    def __init__(self, gtype: GuardType[L], obj: L) -> None:
        self._type = gtype
        self._obj = obj

    def __enter__(self) -> L:
        self._type.lock(self._obj)
        return self._obj

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._type.unlock(self._obj)


def guard(gtype: GuardType[L]) -> Callable[[L], _Guard[L]]:
    """``guard(mutex)(lock)``: a context manager that holds ``lock`` for its block."""

    def make(obj: L) -> _Guard[L]:
        return _Guard(gtype, obj)

    return make


def scoped_guard(gtype: GuardType[L], obj: L) -> _Guard[L]:
    return _Guard(gtype, obj)
