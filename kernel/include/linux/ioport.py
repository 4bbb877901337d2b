"""include/linux/ioport.h: the resource flags the ported code tests.  ``struct
resource`` itself is not modelled (see kernel/include/linux/pci.py)."""

from __future__ import annotations

from typing import Final

__all__ = ["IORESOURCE_MEM", "IORESOURCE_UNSET"]

IORESOURCE_MEM: Final = 0x00000200
IORESOURCE_UNSET: Final = 0x20000000  # No address assigned yet
