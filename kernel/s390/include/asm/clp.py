"""arch/s390/include/asm/clp.h: the Call Logical Processor (CLP) request/response block
headers, logical-processor selectors and response codes.

The block layouts are the machine's format: ``ctypes`` big-endian structures,
``_pack_ = 1`` as C's ``__packed``, bit-fields as declared.  Left out: the
store-logical-processor-characteristics blocks (``clp_req_slpc``), unused here.
"""

from __future__ import annotations

import ctypes
from typing import Final

__all__ = [
    "CLP_BLK_SIZE",
    "CLP_LPS_BASE",
    "CLP_LPS_PCI",
    "CLP_RC_8K",
    "CLP_RC_CMD",
    "CLP_RC_FC_UNKNOWN",
    "CLP_RC_FMT",
    "CLP_RC_LEN",
    "CLP_RC_NODATA",
    "CLP_RC_OK",
    "CLP_RC_PERM",
    "CLP_RC_RESNOT0",
    "clp_req_hdr",
    "clp_rsp_hdr",
]

#: CLP common request & response block size (PAGE_SIZE).
CLP_BLK_SIZE: Final = 4096

CLP_LPS_BASE: Final = 0
CLP_LPS_PCI: Final = 2


class clp_req_hdr(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [
        ("len", ctypes.c_uint16),
        ("cmd", ctypes.c_uint16),
        ("fmt", ctypes.c_uint32, 4),
        ("reserved1", ctypes.c_uint32, 28),
        ("reserved2", ctypes.c_uint64),
    ]


class clp_rsp_hdr(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [
        ("len", ctypes.c_uint16),
        ("rsp", ctypes.c_uint16),
        ("fmt", ctypes.c_uint32, 4),
        ("reserved1", ctypes.c_uint32, 28),
        ("reserved2", ctypes.c_uint64),
    ]


# CLP Response Codes
CLP_RC_OK: Final = 0x0010  # Command request successfully
CLP_RC_CMD: Final = 0x0020  # Command code not recognized
CLP_RC_PERM: Final = 0x0030  # Command not authorized
CLP_RC_FMT: Final = 0x0040  # Invalid command request format
CLP_RC_LEN: Final = 0x0050  # Invalid command request length
CLP_RC_8K: Final = 0x0060  # Command requires 8K LPCB
CLP_RC_RESNOT0: Final = 0x0070  # Reserved field not zero
CLP_RC_NODATA: Final = 0x0080  # No data available
CLP_RC_FC_UNKNOWN: Final = 0x0100  # Function code not recognized
