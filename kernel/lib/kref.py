"""include/linux/kref.h over include/linux/refcount.h.

``kref_put()`` calls the release function when the count drops to zero and returns
1, else 0.  Taking a reference on a freed object or dropping one too many are the
use-after-free bugs refcount_t warns about; they WARN here with the kernel's text
and leave the count saturated, as refcount_t does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from kernel.lib.bug import WARN

__all__ = ["kref", "kref_get", "kref_get_unless_zero", "kref_init", "kref_put", "kref_read"]

#: include/linux/refcount.h: REFCOUNT_SATURATED.
REFCOUNT_SATURATED = 0xC0000000

T = TypeVar("T")
_refcount_lock = threading.Lock()


class kref:
    __slots__ = ("refcount",)

    def __init__(self) -> None:
        self.refcount = 1

    def __repr__(self) -> str:
        return f"<kref {self.refcount}>"


def kref_init(k: kref) -> None:
    k.refcount = 1


def kref_read(k: kref) -> int:
    return k.refcount


def kref_get(k: kref) -> None:
    with _refcount_lock:
        old = k.refcount
        k.refcount = REFCOUNT_SATURATED if old == 0 else old + 1
    WARN(old == 0, "refcount_t: addition on 0; use-after-free.")


def kref_get_unless_zero(k: kref) -> int:
    with _refcount_lock:
        if k.refcount == 0:
            return 0
        k.refcount += 1
        return 1


def kref_put(k: kref, release: Callable[[kref], None]) -> int:
    with _refcount_lock:
        old = k.refcount
        if old <= 0 or old == REFCOUNT_SATURATED:
            k.refcount = REFCOUNT_SATURATED
            dead = False
            bad = True
        else:
            k.refcount = old - 1
            dead = old == 1
            bad = False
    if bad:
        WARN(True, "refcount_t: underflow; use-after-free.")
        return 0
    if dead:
        release(k)
        return 1
    return 0
