"""Where a kernel log line or trace event comes from: the function and the
``file:line`` that made it, as a reader of the C source wants them.

Exists only in Python.  The C kernel has ``__func__``, ``__FILE__`` and ``__LINE__``
at every call site (dynamic debug prints them with ``+fl``); here they are read from
the calling frame, and only when someone listens (a log subscriber, a trace
subscriber): with nobody listening :mod:`kernel.lib.printk` and
:mod:`kernel.lib.trace` never call into this module, so the error path pays nothing.

The file is relative to the directory that holds ``kernel/`` (the checkout), with
``/``: ``kernel/s390/pci/pci_event.py:326``.  The function is the C name: the Python
function's name, or for a function nested in another (a closure) the outer one.
"""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType
from typing import Final

__all__ = ["ROOT", "caller", "code_function", "code_path", "site", "stack"]

#: The directory that holds ``kernel/``.
ROOT: Final = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_paths: dict[str, str] = {}


def code_path(code: CodeType) -> str:
    """``code``'s file relative to :data:`ROOT` with ``/`` (absolute if outside it)."""
    filename = code.co_filename
    rel = _paths.get(filename)
    if rel is None:
        full = os.path.abspath(filename)
        rel = os.path.relpath(full, ROOT) if full.startswith(ROOT + os.sep) else full
        rel = rel.replace(os.sep, "/")
        _paths[filename] = rel
    return rel


def code_function(code: CodeType) -> str:
    """The C function ``code`` belongs to: its name, or its outermost enclosing
    function's for a nested function."""
    qualname = code.co_qualname
    if ".<locals>." in qualname:
        return qualname.split(".<locals>.", 1)[0].rsplit(".", 1)[-1]
    return code.co_name


def site(frame: FrameType) -> tuple[str, str]:
    """``(function, "path:line")`` of a frame, at the line it is executing."""
    code = frame.f_code
    return code_function(code), f"{code_path(code)}:{frame.f_lineno}"


def caller(skip_module: str, depth: int = 1) -> tuple[str, str] | tuple[None, None]:
    """The site of the first frame above the caller's (``depth`` frames up) whose
    module is not ``skip_module``: the kernel code that called into it."""
    frame: FrameType | None = sys._getframe(depth + 1)
    while frame is not None and frame.f_globals.get("__name__") == skip_module:
        frame = frame.f_back
    if frame is None:
        return None, None
    return site(frame)


def stack(frame: FrameType | None, trees: tuple[str, ...] = ("kernel/", "uapi/")) -> list[tuple[str, str]]:
    """``(path, function)`` of every frame from ``frame`` outwards whose file is under
    one of ``trees``: the kernel functions a line was printed in (for the execution
    index, which a guest process sends along with its lines)."""
    out: list[tuple[str, str]] = []
    while frame is not None:
        path = code_path(frame.f_code)
        if path.startswith(trees):
            out.append((path, code_function(frame.f_code)))
        frame = frame.f_back
    return out
