"""arch/s390/include/asm/pci_insn.h: status and return codes of the zPCI instructions,
the Modify-PCI-Function-Controls operation codes and the Function Information Block.

``struct zpci_fib`` is the machine's format (``__packed __aligned(8)``); its
bit-fields that only pad are named ``_padN`` byte fields here, and the interrupt
union (``fmt0``/``fmt1``, 24 bytes) is kept as raw bytes since adapter interrupts
are not modelled.  The size, 80 bytes, is computed from the declaration.  The
instruction wrappers (``zpci_mod_fc``, ``__zpci_load``, ``__zpci_store``) are in
:mod:`kernel.s390.pci.pci_insn`.  Left out: interruption-control blocks
(``zpci_diib``, ``zpci_cdiib``, ``zpci_sic_iib``), refresh-translation.
"""

from __future__ import annotations

import ctypes
from typing import Final

__all__ = [
    "ZPCI_FIB_FC_DMAAS_REG",
    "ZPCI_FIB_FC_ENABLED",
    "ZPCI_FIB_FC_ERROR",
    "ZPCI_FIB_FC_LS_BLOCKED",
    "ZPCI_MOD_FC_DEREG_INT",
    "ZPCI_MOD_FC_DEREG_INT_D",
    "ZPCI_MOD_FC_DEREG_IOAT",
    "ZPCI_MOD_FC_REG_INT",
    "ZPCI_MOD_FC_REG_INT_D",
    "ZPCI_MOD_FC_REG_IOAT",
    "ZPCI_MOD_FC_REREG_IOAT",
    "ZPCI_MOD_FC_RESET_BLOCK",
    "ZPCI_MOD_FC_RESET_ERROR",
    "ZPCI_MOD_FC_SET_MEASURE",
    "ZPCI_PCIAS_CFGSPC",
    "ZPCI_PCIAS_MEMIO_0",
    "ZPCI_PCI_LS_BUSY",
    "ZPCI_PCI_LS_ERR",
    "ZPCI_PCI_LS_INVAL_HANDLE",
    "ZPCI_PCI_LS_OK",
    "ZPCI_PCI_ST_2ND_OP_IN_INV_AS",
    "ZPCI_PCI_ST_ALREADY_IN_RQ_STATE",
    "ZPCI_PCI_ST_BLOCKED",
    "ZPCI_PCI_ST_DMA_AS_NOT_ENABLED",
    "ZPCI_PCI_ST_FUNC_ALREADY_ENABLED",
    "ZPCI_PCI_ST_FUNC_IN_ERR",
    "ZPCI_PCI_ST_FUNC_NOT_AVAIL",
    "ZPCI_PCI_ST_FUNC_NOT_ENABLED",
    "ZPCI_PCI_ST_INSUF_RES",
    "ZPCI_PCI_ST_INVAL_AS",
    "zpci_fib",
]

# Load/Store status codes
ZPCI_PCI_ST_FUNC_NOT_ENABLED: Final = 4
ZPCI_PCI_ST_FUNC_IN_ERR: Final = 8
ZPCI_PCI_ST_BLOCKED: Final = 12
ZPCI_PCI_ST_INSUF_RES: Final = 16
ZPCI_PCI_ST_INVAL_AS: Final = 20
ZPCI_PCI_ST_FUNC_ALREADY_ENABLED: Final = 24
ZPCI_PCI_ST_DMA_AS_NOT_ENABLED: Final = 28
ZPCI_PCI_ST_2ND_OP_IN_INV_AS: Final = 36
ZPCI_PCI_ST_FUNC_NOT_AVAIL: Final = 40
ZPCI_PCI_ST_ALREADY_IN_RQ_STATE: Final = 44

# Load/Store return codes
ZPCI_PCI_LS_OK: Final = 0
ZPCI_PCI_LS_ERR: Final = 1
ZPCI_PCI_LS_BUSY: Final = 2
ZPCI_PCI_LS_INVAL_HANDLE: Final = 3

# Load/Store address space identifiers
ZPCI_PCIAS_MEMIO_0: Final = 0
ZPCI_PCIAS_CFGSPC: Final = 15

# Modify PCI Function Controls
ZPCI_MOD_FC_REG_INT: Final = 2
ZPCI_MOD_FC_DEREG_INT: Final = 3
ZPCI_MOD_FC_REG_IOAT: Final = 4
ZPCI_MOD_FC_DEREG_IOAT: Final = 5
ZPCI_MOD_FC_REREG_IOAT: Final = 6
ZPCI_MOD_FC_RESET_ERROR: Final = 7
ZPCI_MOD_FC_RESET_BLOCK: Final = 9
ZPCI_MOD_FC_SET_MEASURE: Final = 10
ZPCI_MOD_FC_REG_INT_D: Final = 16
ZPCI_MOD_FC_DEREG_INT_D: Final = 17

# FIB function controls
ZPCI_FIB_FC_ENABLED: Final = 0x80
ZPCI_FIB_FC_ERROR: Final = 0x40
ZPCI_FIB_FC_LS_BLOCKED: Final = 0x20
ZPCI_FIB_FC_DMAAS_REG: Final = 0x10


class zpci_fib(ctypes.BigEndianStructure):
    """Function Information Block."""

    _pack_ = 1
    _fields_ = [
        ("fmt", ctypes.c_uint8),  # format
        ("_pad0", ctypes.c_uint8 * 3),
        ("_pad1", ctypes.c_uint32),
        ("fc", ctypes.c_uint8),  # function controls
        ("_pad2", ctypes.c_uint8 * 7),
        ("pba", ctypes.c_uint64),  # PCI base address
        ("pal", ctypes.c_uint64),  # PCI address limit
        ("iota", ctypes.c_uint64),  # I/O Translation Anchor
        ("fmt0", ctypes.c_uint8 * 24),  # union { zpci_fib_fmt0; zpci_fib_fmt1 }
        ("fmb_addr", ctypes.c_uint64),  # Function measurement block address and key
        ("_pad3", ctypes.c_uint32),
        ("gd", ctypes.c_uint32),
    ]
