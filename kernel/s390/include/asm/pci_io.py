"""arch/s390/include/asm/pci_io.h, as far as the ported code uses it: the request word of
the PCI load/store and Modify-PCI-Function-Controls instructions.  Left out: the
iomap table and the MMIO accessors (BAR space is not modelled)."""

from __future__ import annotations

from typing import Final

__all__ = ["ZPCI_CREATE_REQ", "ZPCI_MAX_READ_SIZE", "ZPCI_MAX_WRITE_SIZE"]

# I/O size constraints
ZPCI_MAX_READ_SIZE: Final = 8
ZPCI_MAX_WRITE_SIZE: Final = 128


def ZPCI_CREATE_REQ(handle: int, space: int, len: int) -> int:
    """``((u64) handle << 32 | space << 16 | len)``"""
    return ((handle << 32) | (space << 16) | len) & 0xFFFFFFFFFFFFFFFF
