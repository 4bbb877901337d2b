"""include/asm-generic/bug.h: ``WARN``, ``WARN_ON``, ``WARN_ON_ONCE`` and ``BUG``.

A ``WARN`` prints a "WARNING:" line with the place it fired to the log ring and goes
on, as the kernel does; it is also remembered in :data:`warnings`, which the test
suite checks after every test, so an unexpected warning fails the test that caused
it, and handed to every function given to :func:`warn_subscribe` (a guest kernel
forwards its warnings to its VMM that way).  A boot does not forget
:data:`warnings`: whoever checks them clears them.

``BUG`` (and the lock-misuse checks of the lock primitives) raise :class:`KernelBug`:
where the kernel would stop, this model stops too, with a message that names what
went wrong, instead of hanging or going on silently.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

from kernel.lib.printk import KERN_WARNING, printk

__all__ = [
    "BUG",
    "WARN",
    "WARN_ON",
    "WARN_ON_ONCE",
    "KernelBug",
    "caller_site",
    "caller_where",
    "format_where",
    "warn_subscribe",
    "warn_unsubscribe",
    "warnings",
]


class KernelBug(RuntimeError):
    """A kernel bug the model detected (the kernel would oops or splat here)."""


_LIB_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_TOP_DIR = os.path.dirname(os.path.dirname(_LIB_DIR.rstrip(os.sep))) + os.sep

#: Every WARN that fired since the last clear (a boot does not clear it): where, and
#: its message.
warnings: list[str] = []
_warn_lock = threading.Lock()
_warned_once: set[tuple[str, int]] = set()
_warn_subscribers: list[Callable[[str], None]] = []


Where = tuple[str, int, str]


def caller_where(depth: int = 1) -> Where:
    """(file, line, function) of the frame ``depth`` levels above the caller, skipping
    frames of kernel/lib itself; cheap, for recording a site that is rarely printed.
    Exists only in Python."""
    f = sys._getframe(depth + 1)
    while f.f_back is not None and f.f_code.co_filename.startswith(_LIB_DIR):
        f = f.f_back
    return f.f_code.co_filename, f.f_lineno, f.f_code.co_name


def format_where(where: Where) -> str:
    """``file:line (function)``, the file relative to the project."""
    path, line, func = where
    if path.startswith(_TOP_DIR):
        path = path[len(_TOP_DIR) :]
    return f"{path}:{line} ({func})"


def caller_site(depth: int = 1) -> str:
    """``file:line (function)`` of the frame ``depth`` levels above the caller,
    skipping frames of kernel/lib itself.  Exists only in Python."""
    return format_where(caller_where(depth + 1))


def warn_subscribe(fn: Callable[[str], None]) -> None:
    """Call ``fn`` with each warning (as :data:`warnings` has it), after its line went
    to the log ring.  Survives a boot.  Exists only in Python."""
    with _warn_lock:
        _warn_subscribers.append(fn)


def warn_unsubscribe(fn: Callable[[str], None]) -> None:
    with _warn_lock:
        if fn in _warn_subscribers:
            _warn_subscribers.remove(fn)


def _warn(site: str, msg: str) -> None:
    """Remember, print and hand on one warning.  Exists only in Python."""
    entry = f"{site}: {msg}" if msg else site
    with _warn_lock:
        warnings.append(entry)
        subscribers = tuple(_warn_subscribers)
    printk(KERN_WARNING, "WARNING: at %s", entry)
    for fn in subscribers:
        fn(entry)


def WARN(condition: bool, fmt: str = "", *args: object) -> bool:
    if condition:
        _warn(caller_site(1), (fmt % args if args else fmt).rstrip("\n"))
    return condition


def WARN_ON(condition: bool) -> bool:
    if condition:
        _warn(caller_site(1), "")
    return condition


def WARN_ON_ONCE(condition: bool) -> bool:
    if condition:
        f = sys._getframe(1)
        key = (f.f_code.co_filename, f.f_lineno)
        with _warn_lock:
            first = key not in _warned_once
            _warned_once.add(key)
        if first:
            _warn(caller_site(1), "")
    return condition


def BUG(msg: str = "") -> None:
    raise KernelBug(f"kernel BUG at {caller_site(1)}" + (f": {msg}" if msg else ""))


def bug_reset() -> None:
    """Forget which WARN_ON_ONCE fired (boot), but not the :data:`warnings`.  Exists
    only in Python."""
    with _warn_lock:
        _warned_once.clear()
