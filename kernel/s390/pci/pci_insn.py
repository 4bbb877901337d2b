"""arch/s390/pci/pci_insn.c: the zPCI instructions used by the ported code.

Source read: kernelorg-mirror/linux_kernel_git_kvms390_linux @ 6ee39c00 (the stored
copy with ``__zpci_load``/``__zpci_store``); later kernels only changed how failures
are written to the debug feature (``zpci_err_insn_req``/``_addr``), which this model
writes as ``zpci_err_insn`` does here.  Not changed by the v17 series.

The instruction itself (``__mpcifc``, ``__pcilg``, ``__pcistg``) is the call into the
installed machine (:mod:`kernel.s390.machine`); with no machine the exception-table
path is taken (cc stays at its initial value, as in C).  C's out-parameters become
return values: ``zpci_mod_fc(req, fib) -> (cc, status)``,
``__zpci_load(req, offset) -> (rc, data)``.  Busy (cc 2) is retried after a delay,
as in C.  ``zpci_load``/``zpci_store`` (the I/O-address entry points behind
``readl``/``writel``) take their non-MIO branch (``zpci_load_fh``/``zpci_store_fh``):
the machine has no MIO (``have_mio`` false).

Left out: refresh translations, store block, MIO variants, interruption controls
(no DMA or adapter interrupts are modelled).
"""

from __future__ import annotations

import errno
import struct
import time

from kernel.s390.include.asm.pci_debug import zpci_err_hex
from kernel.s390.include.asm.pci_insn import zpci_fib
from kernel.s390.include.asm.pci_io import ZPCI_CREATE_REQ, ZPCI_IDX, ZPCI_OFFSET
from kernel.s390.machine import machine

__all__ = ["__zpci_load", "__zpci_store", "zpci_load", "zpci_mod_fc", "zpci_store"]

ZPCI_INSN_BUSY_DELAY = 1  # 1 microsecond


def zpci_err_insn(cc: int, status: int, req: int, offset: int) -> None:
    # packed { u64 req; u64 offset; u8 cc; u8 status; }
    zpci_err_hex(struct.pack(">QQBB", req, offset, cc & 0xFF, status & 0xFF))


# Modify PCI Function Controls
def __mpcifc(req: int, fib: zpci_fib) -> tuple[int, int]:
    cc = 0xFF
    status = (req >> 24) & 0xFF
    m = machine()
    if m is not None:
        cc, status = m.mpcifc(req, fib)
    return cc, status


def zpci_mod_fc(req: int, fib: zpci_fib) -> tuple[int, int]:
    """``u8 zpci_mod_fc(u64 req, struct zpci_fib *fib, u8 *status)`` -> (cc, status)."""
    while True:
        cc, status = __mpcifc(req, fib)
        if cc == 2:
            time.sleep(ZPCI_INSN_BUSY_DELAY / 1000)  # msleep
        else:
            break

    if cc:
        zpci_err_insn(cc, status, req, 0)

    return cc, status


# PCI Load
def ____pcilg(req: int, offset: int) -> tuple[int, int, int]:
    cc = -errno.ENXIO
    data = 0
    status = (req >> 24) & 0xFF
    m = machine()
    if m is not None:
        cc, data, status = m.pcilg(req, offset)
    return cc, data, status


def __pcilg(req: int, offset: int) -> tuple[int, int, int]:
    """(cc, data, status); ``data`` is only meaningful with cc 0, as in C."""
    cc, data, status = ____pcilg(req, offset)
    return cc, (data if not cc else 0), status


def __zpci_load(req: int, offset: int) -> tuple[int, int]:
    """``int __zpci_load(u64 *data, u64 req, u64 offset)`` -> (rc, data)."""
    while True:
        cc, data, status = __pcilg(req, offset)
        if cc == 2:
            time.sleep(ZPCI_INSN_BUSY_DELAY / 1_000_000)  # udelay
        else:
            break

    if cc:
        zpci_err_insn(cc, status, req, offset)

    return (-errno.EIO if cc > 0 else cc), data


# PCI Store
def __pcistg(data: int, req: int, offset: int) -> tuple[int, int]:
    cc = -errno.ENXIO
    status = (req >> 24) & 0xFF
    m = machine()
    if m is not None:
        cc, status = m.pcistg(data, req, offset)
    return cc, status


def __zpci_store(data: int, req: int, offset: int) -> int:
    while True:
        cc, status = __pcistg(data, req, offset)
        if cc == 2:
            time.sleep(ZPCI_INSN_BUSY_DELAY / 1_000_000)  # udelay
        else:
            break

    if cc:
        zpci_err_insn(cc, status, req, offset)

    return -errno.EIO if cc > 0 else cc


def zpci_load_fh(addr: int, len: int) -> tuple[int, int]:
    """``static inline int zpci_load_fh(u64 *data, addr, len)`` -> (rc, data)."""
    from kernel.s390.pci.pci import zpci_iomap_start  # defined in pci.c; imported late

    entry = zpci_iomap_start[ZPCI_IDX(addr)]
    req = ZPCI_CREATE_REQ(entry.fh, entry.bar, len)  # READ_ONCE(entry->fh)

    return __zpci_load(req, ZPCI_OFFSET(addr))


def zpci_load(addr: int, len: int) -> tuple[int, int]:
    """``int zpci_load(u64 *data, const volatile void __iomem *addr, unsigned long len)``
    -> (rc, data); without MIO (the MIO branch is left out)."""
    return zpci_load_fh(addr, len)


def zpci_store_fh(addr: int, data: int, len: int) -> int:
    from kernel.s390.pci.pci import zpci_iomap_start  # defined in pci.c; imported late

    entry = zpci_iomap_start[ZPCI_IDX(addr)]
    req = ZPCI_CREATE_REQ(entry.fh, entry.bar, len)  # READ_ONCE(entry->fh)

    return __zpci_store(data, req, ZPCI_OFFSET(addr))


def zpci_store(addr: int, data: int, len: int) -> int:
    """``int zpci_store(const volatile void __iomem *addr, u64 data, unsigned long len)``;
    without MIO (the MIO branch is left out)."""
    return zpci_store_fh(addr, data, len)
