"""include/linux/sysfs.h and fs/sysfs/file.c: ``sysfs_emit()``, as far as the ported
attribute ``show`` functions use it.

There is no sysfs in this model: a ``show`` function returns the text a read of the
file gives instead of writing it into the page the kernel hands it, so
``sysfs_emit(buf, fmt, ...)`` becomes ``sysfs_emit(fmt, ...)`` returning that text.
The C format string is used as is; like ``vscnprintf`` into one page, the text is cut
at ``PAGE_SIZE - 1`` characters.
"""

from __future__ import annotations

from typing import Final

__all__ = ["PAGE_SIZE", "sysfs_emit"]

PAGE_SIZE: Final = 4096


def sysfs_emit(fmt: str, *args: object) -> str:
    text = fmt % args
    return text[: PAGE_SIZE - 1]
