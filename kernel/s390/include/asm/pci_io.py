"""arch/s390/include/asm/pci_io.h, as far as the ported code uses it: the request word of
the PCI load/store and Modify-PCI-Function-Controls instructions, the I/O map (the
cookies ``pci_iomap_range_fh()`` hands out for BAR space on a machine without MIO)
and the ``zpci_read_u32``/``zpci_write_u32`` accessors that ``readl``/``writel``
become on s390 (arch/s390/include/asm/io.h).

Source: torvalds/linux @ 0cfa80d3c398c747f9d502f5812465b082ad675a,
arch/s390/include/asm/pci_io.h (``ZPCI_IOMAP_ADDR_SHIFT`` 62).  Not changed by the
v17 series.  ``zpci_iomap_start`` itself (``extern`` here) is defined in
arch/s390/pci/pci.c, so it lives in :mod:`kernel.s390.pci.pci`.

Left out: the 8/16/64-bit accessors (``readl``/``writel`` are all the ported code
uses), ``zpci_memcpy_fromio``/``toio``/``zpci_memset_io``.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = [
    "ZPCI_ADDR",
    "ZPCI_CREATE_REQ",
    "ZPCI_IDX",
    "ZPCI_IOMAP_ADDR_BASE",
    "ZPCI_IOMAP_ADDR_IDX_MASK",
    "ZPCI_IOMAP_ADDR_OFF_MASK",
    "ZPCI_IOMAP_ADDR_SHIFT",
    "ZPCI_IOMAP_MAX_ENTRIES",
    "ZPCI_IOMAP_SHIFT",
    "ZPCI_MAX_READ_SIZE",
    "ZPCI_MAX_WRITE_SIZE",
    "ZPCI_OFFSET",
    "zpci_iomap_entry",
    "zpci_read_u32",
    "zpci_write_u32",
]

# I/O size constraints
ZPCI_MAX_READ_SIZE: Final = 8
ZPCI_MAX_WRITE_SIZE: Final = 128

# I/O Map
ZPCI_IOMAP_SHIFT: Final = 48
ZPCI_IOMAP_ADDR_SHIFT: Final = 62
ZPCI_IOMAP_ADDR_BASE: Final = 1 << ZPCI_IOMAP_ADDR_SHIFT
ZPCI_IOMAP_ADDR_OFF_MASK: Final = (1 << ZPCI_IOMAP_SHIFT) - 1
ZPCI_IOMAP_MAX_ENTRIES: Final = 1 << (ZPCI_IOMAP_ADDR_SHIFT - ZPCI_IOMAP_SHIFT)
ZPCI_IOMAP_ADDR_IDX_MASK: Final = (ZPCI_IOMAP_ADDR_BASE - 1) & ~ZPCI_IOMAP_ADDR_OFF_MASK


@attrs.define(eq=False)
class zpci_iomap_entry:
    """``struct zpci_iomap_entry``."""

    fh: int = 0
    bar: int = 0
    count: int = 0


def ZPCI_ADDR(idx: int) -> int:
    return ZPCI_IOMAP_ADDR_BASE | (idx << ZPCI_IOMAP_SHIFT)


def ZPCI_IDX(addr: int) -> int:
    return (addr & ZPCI_IOMAP_ADDR_IDX_MASK) >> ZPCI_IOMAP_SHIFT


def ZPCI_OFFSET(addr: int) -> int:
    return addr & ZPCI_IOMAP_ADDR_OFF_MASK


def ZPCI_CREATE_REQ(handle: int, space: int, len: int) -> int:
    """``((u64) handle << 32 | space << 16 | len)``"""
    return ((handle << 32) | (space << 16) | len) & 0xFFFFFFFFFFFFFFFF


def zpci_read_u32(addr: int) -> int:
    """``zpci_read(4, u32)``: a PCI load of 4 bytes; all ones when it fails.  The
    data is the function's little-endian bytes in storage order (``readl`` swaps)."""
    from kernel.s390.pci.pci_insn import zpci_load  # pci_insn.c; imported late

    rc, data = zpci_load(addr, 4)
    if rc:
        data = 0xFFFFFFFFFFFFFFFF
    return data & 0xFFFFFFFF


def zpci_write_u32(val: int, addr: int) -> None:
    """``zpci_write(4, u32)``: a PCI store of 4 bytes (its return code is dropped,
    as in C)."""
    from kernel.s390.pci.pci_insn import zpci_store  # pci_insn.c; imported late

    data = val & 0xFFFFFFFF
    zpci_store(addr, data, 4)
