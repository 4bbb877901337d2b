"""include/linux/printk.h, include/linux/dev_printk.h and the ``pci_*`` print macros of
include/linux/pci.h.

Every message goes to the kernel's log ring, which :func:`dmesg` reads (tests and the
scenario timeline use it), and to the Python logger ``"kernel"`` (or
``"kernel.<module>"``), so a user can route it like any other Python log.

Format strings are the C ones.  Python's ``%`` operator does what printf does for the
conversions the ported code uses (``%d %u %x %s %04x %#010x``); the C length modifiers
(``%lx``, ``%llx``, ``%zu``) are dropped before formatting since Python integers have
no width.

``pr_fmt``: a C file that ``#define``\\ s ``pr_fmt(fmt)`` gets its prefix on every
``pr_*`` call it makes.  Here a module defines a function ``pr_fmt(fmt)`` at module
level, reading the same as the C macro, and the ``pr_*`` functions apply the caller
module's ``pr_fmt`` (found from the calling frame, as the preprocessor finds the
macro in the calling file).

``dev_*`` messages carry the driver name (or the bus name when no driver is bound)
and the device name, as ``dev_printk`` does: ``"vfio-pci 0000:00:00.0: ..."``.

Debug messages (``pr_debug``, ``dev_dbg``, ``pci_dbg``) are dynamic debug in the
kernel and silent unless enabled; here they are always kept in the ring at level 7
(``KERN_DEBUG``) so a reader can see them, and :func:`dmesg` filters by level.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Final, Protocol

import attrs

from kernel.lib import callsite

__all__ = [
    "KERN_ALERT",
    "KERN_CRIT",
    "KERN_DEBUG",
    "KERN_EMERG",
    "KERN_ERR",
    "KERN_INFO",
    "KERN_NOTICE",
    "KERN_WARNING",
    "LogLine",
    "dev_dbg",
    "dev_err",
    "dev_info",
    "dev_warn",
    "dev_warn_ratelimited",
    "dmesg",
    "dmesg_clear",
    "klog_subscribe",
    "klog_unsubscribe",
    "pci_dbg",
    "pci_err",
    "pci_info",
    "pci_notice_ratelimited",
    "pci_warn",
    "pr_debug",
    "pr_err",
    "pr_info",
    "pr_notice",
    "pr_warn",
    "printk",
]

KERN_EMERG: Final = 0
KERN_ALERT: Final = 1
KERN_CRIT: Final = 2
KERN_ERR: Final = 3
KERN_WARNING: Final = 4
KERN_NOTICE: Final = 5
KERN_INFO: Final = 6
KERN_DEBUG: Final = 7

_LEVEL_TO_LOGGING: Final = {
    KERN_EMERG: logging.CRITICAL,
    KERN_ALERT: logging.CRITICAL,
    KERN_CRIT: logging.CRITICAL,
    KERN_ERR: logging.ERROR,
    KERN_WARNING: logging.WARNING,
    KERN_NOTICE: logging.INFO,
    KERN_INFO: logging.INFO,
    KERN_DEBUG: logging.DEBUG,
}

#: include/linux/ratelimit_types.h: DEFAULT_RATELIMIT_INTERVAL (5 * HZ) and _BURST.
DEFAULT_RATELIMIT_INTERVAL_S: Final = 5.0
DEFAULT_RATELIMIT_BURST: Final = 10


@attrs.frozen
class LogLine:
    """One record of the log ring: its level (``KERN_*``) and its text, without the
    trailing newline the C string carries."""

    seq: int
    level: int
    text: str
    module: str
    #: The C function that printed it and its ``file:line``
    #: (:mod:`kernel.lib.callsite`); filled in only while someone subscribes to the
    #: log (:func:`klog_subscribe`), None otherwise.
    function: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        return self.text


class _Device(Protocol):
    """What ``dev_printk`` needs of a ``struct device``."""

    def dev_driver_string(self) -> str: ...
    def dev_name(self) -> str: ...


class _PciDev(Protocol):
    @property
    def dev(self) -> Any: ...


# A library does not print on its own: without a handler configured by the user, the
# kernel's log goes to the ring only (Python's last-resort handler would otherwise
# write warnings to stderr).
logging.getLogger("kernel").addHandler(logging.NullHandler())

_ring_lock = threading.Lock()
_ring: list[LogLine] = []
_seq = 0
_subscribers: list[Callable[[LogLine], None]] = []

_LENGTH_MODIFIERS = re.compile(r"%([-+ #0]*[0-9*]*(?:\.[0-9*]+)?)(?:hh|h|ll|l|z|j|t|L)([diouxXc])")


@lru_cache(maxsize=1024)
def _python_format(fmt: str) -> str:
    return _LENGTH_MODIFIERS.sub(r"%\1\2", fmt)


def _format(fmt: str, args: tuple[object, ...]) -> str:
    pyfmt = _python_format(fmt)
    text = pyfmt % args if args else pyfmt.replace("%%", "%")
    return text[:-1] if text.endswith("\n") else text


def _emit(level: int, text: str, module: str) -> None:
    global _seq
    function = source = None
    if _subscribers:  # someone reads the log as it is printed: say where it comes from
        function, source = callsite.caller(__name__)
    with _ring_lock:
        _seq += 1
        line = LogLine(_seq, level, text, module, function, source)
        _ring.append(line)
        subscribers = tuple(_subscribers)
    logger = logging.getLogger("kernel." + module if module else "kernel")
    pylevel = _LEVEL_TO_LOGGING[level]
    if logger.isEnabledFor(pylevel) and _routed(logger):
        logger.log(pylevel, "%s", text)
    for fn in subscribers:
        fn(line)


def _routed(logger: logging.Logger) -> bool:
    """Whether a handler other than our NullHandler would see the record (a user
    routed the kernel log); saves building a LogRecord nobody reads."""
    lg: logging.Logger | None = logger
    while lg is not None:
        for h in lg.handlers:
            if not isinstance(h, logging.NullHandler):
                return True
        if not lg.propagate:
            return False
        lg = lg.parent
    return False


def _caller_globals(depth: int) -> dict[str, Any]:
    return sys._getframe(depth + 1).f_globals


def _short_module(g: dict[str, Any]) -> str:
    name = str(g.get("__name__", ""))
    return name[len("kernel.") :] if name.startswith("kernel.") else name


def _pr(level: int, fmt: str, args: tuple[object, ...]) -> None:
    g = _caller_globals(2)
    pr_fmt = g.get("pr_fmt")
    if callable(pr_fmt):
        fmt = pr_fmt(fmt)
    _emit(level, _format(fmt, args), _short_module(g))


def printk(level: int, fmt: str, *args: object) -> None:
    """``printk(KERN_INFO "...")`` with the level as its first argument."""
    _emit(level, _format(fmt, args), _short_module(_caller_globals(1)))


def pr_err(fmt: str, *args: object) -> None:
    _pr(KERN_ERR, fmt, args)


def pr_warn(fmt: str, *args: object) -> None:
    _pr(KERN_WARNING, fmt, args)


def pr_notice(fmt: str, *args: object) -> None:
    _pr(KERN_NOTICE, fmt, args)


def pr_info(fmt: str, *args: object) -> None:
    _pr(KERN_INFO, fmt, args)


def pr_debug(fmt: str, *args: object) -> None:
    _pr(KERN_DEBUG, fmt, args)


def _dev(level: int, dev: _Device, fmt: str, args: tuple[object, ...]) -> None:
    text = f"{dev.dev_driver_string()} {dev.dev_name()}: " + _format(fmt, args)
    _emit(level, text, _short_module(_caller_globals(2)))


def dev_err(dev: _Device, fmt: str, *args: object) -> None:
    _dev(KERN_ERR, dev, fmt, args)


def dev_warn(dev: _Device, fmt: str, *args: object) -> None:
    _dev(KERN_WARNING, dev, fmt, args)


def dev_info(dev: _Device, fmt: str, *args: object) -> None:
    _dev(KERN_INFO, dev, fmt, args)


def dev_dbg(dev: _Device, fmt: str, *args: object) -> None:
    _dev(KERN_DEBUG, dev, fmt, args)


@attrs.define
class _RatelimitState:
    begin: float = 0.0
    printed: int = 0
    missed: int = 0


_ratelimits: dict[tuple[str, int], _RatelimitState] = {}


def __ratelimit(site: tuple[str, int]) -> bool:
    """lib/ratelimit.c, one state per call site as ``DEFINE_RATELIMIT_STATE`` in the
    ``*_ratelimited`` macros gives: at most BURST messages per INTERVAL."""
    now = time.monotonic()
    with _ring_lock:
        rs = _ratelimits.setdefault(site, _RatelimitState(begin=now))
        if now - rs.begin >= DEFAULT_RATELIMIT_INTERVAL_S:
            rs.begin, rs.printed, rs.missed = now, 0, 0
        if rs.printed < DEFAULT_RATELIMIT_BURST:
            rs.printed += 1
            return True
        rs.missed += 1
        return False


def dev_warn_ratelimited(dev: _Device, fmt: str, *args: object) -> None:
    f = sys._getframe(1)
    if __ratelimit((f.f_code.co_filename, f.f_lineno)):
        _dev(KERN_WARNING, dev, fmt, args)


def pci_err(pdev: _PciDev, fmt: str, *args: object) -> None:
    _dev(KERN_ERR, pdev.dev, fmt, args)


def pci_warn(pdev: _PciDev, fmt: str, *args: object) -> None:
    _dev(KERN_WARNING, pdev.dev, fmt, args)


def pci_info(pdev: _PciDev, fmt: str, *args: object) -> None:
    _dev(KERN_INFO, pdev.dev, fmt, args)


def pci_notice_ratelimited(pdev: _PciDev, fmt: str, *args: object) -> None:
    f = sys._getframe(1)
    if __ratelimit((f.f_code.co_filename, f.f_lineno)):
        _dev(KERN_NOTICE, pdev.dev, fmt, args)


def pci_dbg(pdev: _PciDev, fmt: str, *args: object) -> None:
    _dev(KERN_DEBUG, pdev.dev, fmt, args)


def dmesg(level: int = KERN_DEBUG) -> list[LogLine]:
    """The log ring, oldest first: every line at ``level`` or more important."""
    with _ring_lock:
        return [line for line in _ring if line.level <= level]


def dmesg_clear() -> None:
    """``dmesg -C``; also forgets the ratelimit states.  Called at boot."""
    global _seq
    with _ring_lock:
        _ring.clear()
        _ratelimits.clear()
        _seq = 0


def klog_subscribe(fn: Callable[[LogLine], None]) -> None:
    """Call ``fn`` with every line as it is printed (the scenario timeline's hook, a
    reader of ``/dev/kmsg``).  Exists only in Python."""
    with _ring_lock:
        _subscribers.append(fn)


def klog_unsubscribe(fn: Callable[[LogLine], None]) -> None:
    with _ring_lock:
        if fn in _subscribers:
            _subscribers.remove(fn)
