"""include/asm-generic/bug.h: ``WARN``, ``WARN_ON``, ``WARN_ON_ONCE`` and ``BUG``.

A ``WARN`` prints a "WARNING:" line with the place it fired to the log ring and goes
on, as the kernel does; it is also remembered in :data:`warnings`, which the test
suite checks after every test, so an unexpected warning fails the test that caused
it.  ``BUG`` (and the lock-misuse checks of the lock primitives) raise
:class:`KernelBug`: where the kernel would stop, this model stops too, with a
message that names what went wrong, instead of hanging or going on silently.
"""

from __future__ import annotations

import os
import sys
import threading

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
    "warnings",
]


class KernelBug(RuntimeError):
    """A kernel bug the model detected (the kernel would oops or splat here)."""


_LIB_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_TOP_DIR = os.path.dirname(os.path.dirname(_LIB_DIR.rstrip(os.sep))) + os.sep

#: Every WARN that fired since boot: its message and where.
warnings: list[str] = []
_warn_lock = threading.Lock()
_warned_once: set[tuple[str, int]] = set()


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


def WARN(condition: bool, fmt: str = "", *args: object) -> bool:
    if condition:
        site = caller_site(1)
        msg = (fmt % args if args else fmt).rstrip("\n")
        with _warn_lock:
            warnings.append(f"{site}: {msg}" if msg else site)
        printk(KERN_WARNING, "WARNING: at %s%s", site, f": {msg}" if msg else "")
    return condition


def WARN_ON(condition: bool) -> bool:
    if condition:
        site = caller_site(1)
        with _warn_lock:
            warnings.append(site)
        printk(KERN_WARNING, "WARNING: at %s", site)
    return condition


def WARN_ON_ONCE(condition: bool) -> bool:
    if condition:
        f = sys._getframe(1)
        key = (f.f_code.co_filename, f.f_lineno)
        with _warn_lock:
            first = key not in _warned_once
            _warned_once.add(key)
        if first:
            site = caller_site(1)
            with _warn_lock:
                warnings.append(site)
            printk(KERN_WARNING, "WARNING: at %s", site)
    return condition


def BUG(msg: str = "") -> None:
    raise KernelBug(f"kernel BUG at {caller_site(1)}" + (f": {msg}" if msg else ""))


def bug_reset() -> None:
    """Forget the warnings (boot).  Exists only in Python."""
    with _warn_lock:
        warnings.clear()
        _warned_once.clear()
