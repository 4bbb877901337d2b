"""arch/s390/kernel/debug.c and arch/s390/include/asm/debug.h: the s390 debug feature,
reduced to what the zPCI code uses.

The debug feature keeps per-area ring buffers of short records (``/sys/kernel/debug/s390dbf``
in the kernel).  The zPCI code writes two of them: ``pci_msg`` (sprintf records, via
``zpci_dbg``) and ``pci_error`` (text and hex records, via ``zpci_err``).

Modelled: ``debug_register`` (name, pages, nr_areas, buf_size), ``debug_set_level``, a
record is kept only if its level is at most the area's level (as ``debug_event_common``
does), ``debug_sprintf_event`` (formatted with the C format, like printk),
``debug_text_event`` and ``debug_event`` (raw bytes), and ``debug_dump`` which renders
the records as text for ``zpci_report_status``.  Each area keeps its newest
``pages * 4096 // (buf_size + header)`` records, an approximation of the kernel's page
ring; :func:`debug_entries` lets tests read a ring.

Left out: views registered in debugfs, areas/exceptions switching, the timestamp and
CPU fields of a record (``debug_dump`` prints the level and the text only).
"""

from __future__ import annotations

import collections
import threading

import attrs

from kernel.lib.printk import _python_format

__all__ = [
    "debug_entry_t",
    "debug_dump",
    "debug_entries",
    "debug_event",
    "debug_info_t",
    "debug_register",
    "debug_set_level",
    "debug_sprintf_event",
    "debug_text_event",
    "debug_unregister",
]

#: Size of the record header in the kernel (clock, cpu, level/exception word).
_ENTRY_HEADER = 16
_PAGE_SIZE = 4096


@attrs.frozen
class debug_entry_t:
    """One record: its level, whether it was an exception record, and its payload
    (``text`` for sprintf/text records, ``data`` for hex records)."""

    level: int
    exception: bool
    text: str
    data: bytes = b""
    #: The record as :func:`debug_dump` prints it, made once when recorded.
    line: str = attrs.field(init=False, eq=False, repr=False)

    @line.default
    def _line(self) -> str:
        return f"{self.level} {'*' if self.exception else '-'} {self.text}\n"


@attrs.define(eq=False)
class debug_info_t:
    name: str
    pages_per_area: int
    nr_areas: int
    buf_size: int
    level: int = 3
    entries: collections.deque[debug_entry_t] = attrs.field(factory=collections.deque)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def capacity(self) -> int:
        return max(1, self.pages_per_area * _PAGE_SIZE // (self.buf_size + _ENTRY_HEADER))

    def __attrs_post_init__(self) -> None:
        self.entries = collections.deque(maxlen=self.capacity())


#: include/asm/debug.h: DEBUG_DEFAULT_LEVEL.
DEBUG_DEFAULT_LEVEL = 3


def debug_register(name: str, pages_per_area: int, nr_areas: int, buf_size: int) -> debug_info_t:
    return debug_info_t(name, pages_per_area, nr_areas, buf_size, DEBUG_DEFAULT_LEVEL)


def debug_unregister(id: debug_info_t | None) -> None:
    if id is not None:
        with id.lock:
            id.entries.clear()


def debug_set_level(id: debug_info_t, new_level: int) -> None:
    id.level = new_level


def _record(id: debug_info_t | None, level: int, text: str, data: bytes = b"") -> None:
    if id is None or level > id.level:
        return
    with id.lock:
        id.entries.append(debug_entry_t(level, False, text, data))  # the oldest falls out


def debug_sprintf_event(id: debug_info_t | None, level: int, fmt: str, *args: object) -> None:
    """The record keeps the format and its arguments in C and is rendered when read;
    here it is rendered at once (same text)."""
    pyfmt = _python_format(fmt)
    text = pyfmt % args if args else pyfmt
    _record(id, level, text.rstrip("\n"))


def debug_text_event(id: debug_info_t | None, level: int, txt: str) -> None:
    _record(id, level, txt.rstrip("\n"))


def debug_event(id: debug_info_t | None, level: int, data: bytes) -> None:
    _record(id, level, data.hex(), bytes(data))


def debug_entries(id: debug_info_t | None) -> list[debug_entry_t]:
    """The records of an area, oldest first.  Exists only in Python (debugfs read)."""
    if id is None:
        return []
    with id.lock:
        return list(id.entries)


def debug_dump(id: debug_info_t | None, size: int) -> str:
    """Render the records as text, at most ``size`` characters, newest records kept
    (the kernel's ``debug_dump(id, view, buf, size, reverse=true)``)."""
    if id is None:
        return ""
    out: list[str] = []
    used = 0
    with id.lock:
        for e in reversed(id.entries):  # newest first, only as many as fit
            n = len(e.line)
            if used + n > size:
                break
            out.append(e.line)
            used += n
    return "".join(out)
