"""include/linux/stddef.h: ``offsetofend()``, for ctypes structures.

The vfio ioctls size their first copy from userspace by the end of the last field
every caller must supply (``minsz``), and any optional tail by the end of a later
field.  Here the structure is a ctypes type and the member is named by a string:
``offsetofend(vfio_irq_set, "count")`` is C's ``offsetofend(struct vfio_irq_set,
count)``.
"""

from __future__ import annotations

import ctypes

__all__ = ["offsetofend"]


def offsetofend(struct: type[ctypes.Structure], member: str) -> int:
    """The offset of the first byte after ``member`` of ``struct``."""
    field = getattr(struct, member)
    end: int = field.offset + field.size
    return end
