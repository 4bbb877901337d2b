"""include/linux/delay.h: ``msleep``, ``usleep_range``, ``mdelay``, ``udelay``, over a
simulated clock.

The reset paths of the PCI core wait a lot: 100 ms after an FLR, ``d3hot_delay`` around
a D3hot round trip, doubling waits up to 60 s in ``pci_dev_wait()``.  In this model
time is simulated: a delay advances :data:`clock` by the time the kernel would sleep
and then yields the CPU for an instant (``time.sleep(0)``), so other threads run as
they would while the caller sleeps, and a test takes no wall-clock time.  A test can
read :func:`ktime_get_ms` before and after a call to see how long the kernel slept.

:func:`set_sleep_hook` replaces the yield (a scenario that wants real pacing can
install ``lambda ms: time.sleep(ms / 1000)``).  The clock is reset at boot.  Busy
waits (``mdelay``/``udelay``) advance the clock the same way; the model does not
distinguish sleeping from spinning.  Exists only in Python apart from the names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import attrs

from kernel.lib.init import static_init

__all__ = [
    "clock",
    "ktime_get_ms",
    "mdelay",
    "msleep",
    "set_sleep_hook",
    "udelay",
    "usleep_range",
]


def _yield(ms: float) -> None:
    time.sleep(0)


@attrs.define
class _SimClock:
    """Simulated time since boot, in microseconds; the sleep hook gets each delay
    in milliseconds."""

    now_us: int = 0
    sleep_hook: Callable[[float], None] = _yield
    lock: threading.Lock = attrs.field(factory=threading.Lock)


#: The simulated clock (a holder object: its fields change, the name does not).
clock = _SimClock()


@static_init
def delay_static_init() -> None:
    with clock.lock:
        clock.now_us = 0
    clock.sleep_hook = _yield


def set_sleep_hook(hook: Callable[[float], None] | None) -> None:
    """Install what a delay does besides advancing the clock (``None``: yield only)."""
    clock.sleep_hook = hook if hook is not None else _yield


def ktime_get_ms() -> float:
    """Simulated milliseconds since boot."""
    with clock.lock:
        return clock.now_us / 1000


def _advance(us: int) -> None:
    with clock.lock:
        clock.now_us += max(us, 0)
    clock.sleep_hook(us / 1000)


def msleep(msecs: int) -> None:
    _advance(msecs * 1000)


def usleep_range(min_us: int, max_us: int) -> None:
    """Sleeps ``min_us``: the kernel may wake anywhere in the range; the model takes
    the lower bound so that simulated time is deterministic."""
    _advance(min_us)


def mdelay(msecs: int) -> None:
    _advance(msecs * 1000)


def udelay(usecs: int) -> None:
    _advance(usecs)
