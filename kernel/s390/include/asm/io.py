"""arch/s390/include/asm/io.h with the parts of include/asm-generic/io.h it pulls in,
as far as the ported code uses them: ``readl``/``writel`` and ``ioremap``/``iounmap``
of PCI BAR space.

On s390 the raw accessors are the zPCI ones (``#define __raw_readl
zpci_read_u32``, ``#define __raw_writel zpci_write_u32``): every MMIO access is
a PCI load or store instruction on the function handle and BAR that the address's iomap entry names (see
:mod:`kernel.s390.include.asm.pci_io`).  s390 is big-endian, so ``readl`` and
``writel`` swap bytes (``le32_to_cpu``/``cpu_to_le32``) around the raw accessor, as
asm-generic/io.h does.  The I/O barriers (``__io_bw``/``__io_ar``...) are no-ops here:
each access completes before the call returns.

``ioremap`` without MIO (``have_mio`` is false on this machine: ``zpci_use_mio()``)
returns the address unchanged: a BAR's "physical address" is already its iomap
cookie (``pdev->resource[i].start`` as ``zpci_map_resources()`` set it), and
``iounmap`` of such an address does nothing.

Left out: the 8/16/64-bit and string accessors, port I/O, MIO.
"""

from __future__ import annotations

from kernel.s390.include.asm.pci_io import zpci_read_u32, zpci_write_u32

__all__ = ["ioremap", "iounmap", "readl", "writel"]

__raw_readl = zpci_read_u32
__raw_writel = zpci_write_u32


def _swab32(x: int) -> int:
    """``le32_to_cpu()``/``cpu_to_le32()`` on a big-endian CPU.  Exists only in Python."""
    return int.from_bytes((x & 0xFFFFFFFF).to_bytes(4, "little"), "big")


def readl(addr: int) -> int:
    return _swab32(__raw_readl(addr))


def writel(value: int, addr: int) -> None:
    __raw_writel(_swab32(value), addr)


def ioremap(addr: int, size: int) -> int | None:
    """``ioremap(addr, size)`` without MIO: the iomap cookie is the mapping."""
    return addr


def iounmap(addr: int | None) -> None:
    """``iounmap()`` of a non-MIO cookie: nothing to undo."""
