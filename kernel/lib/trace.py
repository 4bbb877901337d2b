"""include/linux/tracepoint.h, reduced: named trace events that observers outside
the kernel (the scenario timeline, tests) can subscribe to.

The kernel has tracepoints at its interesting places; this model emits a few of its
own where the C has a tracepoint or where a reader wants to see something happen
that prints no log line (an eventfd being signalled, say).  With no subscriber a
trace event costs one list check.  Exists only in Python as an API; the calls sit
where the C would have ``trace_*()``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from kernel.lib import callsite

__all__ = ["trace_event", "trace_subscribe", "trace_unsubscribe"]

TraceFn = Callable[[str, dict[str, Any]], None]

_subscribers: list[TraceFn] = []
_lock = threading.Lock()


def trace_subscribe(fn: TraceFn) -> None:
    with _lock:
        _subscribers.append(fn)


def trace_unsubscribe(fn: TraceFn) -> None:
    with _lock:
        if fn in _subscribers:
            _subscribers.remove(fn)


def trace_event(name: str, **fields: Any) -> None:
    """Hand ``fields`` to every subscriber, with ``function`` and ``source``: the C
    function that emitted the event and its ``file:line`` (:mod:`kernel.lib.callsite`)."""
    if not _subscribers:
        return
    function, source = callsite.site(sys._getframe(1))
    fields = {**fields, "function": function, "source": source}
    for fn in tuple(_subscribers):
        fn(name, fields)
