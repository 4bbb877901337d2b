"""arch/s390/include/asm/pci_clp.h: the CLP PCI command codes, response codes and the
request/response blocks of List PCI, Query PCI Function, Query PCI Function Group and
Set PCI Function.

These are the machine's formats (``ctypes`` big-endian, ``_pack_ = 1`` as ``__packed``,
bit-fields as declared; a bit-field that only pads is a named ``_padN`` field, since
ctypes needs names).  The firmware model in ``sim/`` reads and writes the same
structures.

Layout notes.  The stored header this follows (torvalds/linux @ 01d8136f) predates
two additions the 7.1 code uses: ``clp_req_set_pci.gisa`` (the last u32 of the
former ``u64 reserved3``; pci_clp.c sets ``rrb->request.gisa``) and the function-
group fields ``maxstbl``/``dtsm``/``rtr`` (not present here, so
``clp_store_query_pci_fngrp`` does not store them).  Query-PCI response fields the
7.1 code reads that this layout lacks (``rid``, ``rid_avail``, ``tid``,
``tid_avail``, ``is_physfn``, ``port``, ``fidparm``) are placed in the reserved
words ``reserved[0..2]`` of the response, documented here as this model's choice,
not the architecture's.
"""

from __future__ import annotations

import ctypes
from typing import Final

from kernel.s390.include.asm.clp import CLP_BLK_SIZE, clp_req_hdr, clp_rsp_hdr

__all__ = [
    "CLP_FH_LIST_NR_ENTRIES",
    "CLP_LIST_PCI",
    "CLP_PFIP_NR_SEGMENTS",
    "CLP_QUERY_PCI_FN",
    "CLP_QUERY_PCI_FNGRP",
    "CLP_RC_LISTPCI_BADRT",
    "CLP_RC_QUERYPCIFG_PFGID",
    "CLP_RC_SETPCIFN_ALRDY",
    "CLP_RC_SETPCIFN_BUSY",
    "CLP_RC_SETPCIFN_DMAAS",
    "CLP_RC_SETPCIFN_ERR",
    "CLP_RC_SETPCIFN_FH",
    "CLP_RC_SETPCIFN_FHOP",
    "CLP_RC_SETPCIFN_RECPND",
    "CLP_RC_SETPCIFN_RES",
    "CLP_SET_DISABLE_MIO",
    "CLP_SET_DISABLE_PCI_FN",
    "CLP_SET_ENABLE_MIO",
    "CLP_SET_ENABLE_PCI_FN",
    "CLP_SET_PCI_FN",
    "CLP_UTIL_STR_LEN",
    "LIST_PCI_HDR_LEN",
    "PCI_STD_NUM_BARS",
    "clp_fh_list_entry",
    "clp_req_list_pci",
    "clp_req_query_pci",
    "clp_req_query_pci_grp",
    "clp_req_rsp_list_pci",
    "clp_req_rsp_query_pci",
    "clp_req_rsp_query_pci_grp",
    "clp_req_rsp_set_pci",
    "clp_req_set_pci",
    "clp_rsp_list_pci",
    "clp_rsp_query_pci",
    "clp_rsp_query_pci_grp",
    "clp_rsp_set_pci",
    "mio_info",
]

#: include/uapi/linux/pci_regs.h: PCI_STD_NUM_BARS.
PCI_STD_NUM_BARS: Final = 6

# Call Logical Processor - Command Codes
CLP_LIST_PCI: Final = 0x0002
CLP_QUERY_PCI_FN: Final = 0x0003
CLP_QUERY_PCI_FNGRP: Final = 0x0004
CLP_SET_PCI_FN: Final = 0x0005


class clp_fh_list_entry(ctypes.BigEndianStructure):
    """PCI function handle list entry."""

    _pack_ = 1
    _fields_ = [
        ("device_id", ctypes.c_uint16),
        ("vendor_id", ctypes.c_uint16),
        ("config_state", ctypes.c_uint32, 1),
        ("_pad0", ctypes.c_uint32, 31),
        ("fid", ctypes.c_uint32),  # PCI function id
        ("fh", ctypes.c_uint32),  # PCI function handle
    ]


CLP_RC_SETPCIFN_FH: Final = 0x0101  # Invalid PCI fn handle
CLP_RC_SETPCIFN_FHOP: Final = 0x0102  # Fn handle not valid for op
CLP_RC_SETPCIFN_DMAAS: Final = 0x0103  # Invalid DMA addr space
CLP_RC_SETPCIFN_RES: Final = 0x0104  # Insufficient resources
CLP_RC_SETPCIFN_ALRDY: Final = 0x0105  # Fn already in requested state
CLP_RC_SETPCIFN_ERR: Final = 0x0106  # Fn in permanent error state
CLP_RC_SETPCIFN_RECPND: Final = 0x0107  # Error recovery pending
CLP_RC_SETPCIFN_BUSY: Final = 0x0108  # Fn busy
CLP_RC_LISTPCI_BADRT: Final = 0x010A  # Resume token not recognized
CLP_RC_QUERYPCIFG_PFGID: Final = 0x010B  # Unrecognized PFGID

#: request or response block header length
LIST_PCI_HDR_LEN: Final = 32

#: Number of function handles fitting in response block
CLP_FH_LIST_NR_ENTRIES: Final = (CLP_BLK_SIZE - 2 * LIST_PCI_HDR_LEN) // 16

CLP_SET_ENABLE_PCI_FN: Final = 0  # Yes, 0 enables it
CLP_SET_DISABLE_PCI_FN: Final = 1  # Yes, 1 disables it
CLP_SET_ENABLE_MIO: Final = 2
CLP_SET_DISABLE_MIO: Final = 3

CLP_UTIL_STR_LEN: Final = 64
CLP_PFIP_NR_SEGMENTS: Final = 4


class clp_req_list_pci(ctypes.BigEndianStructure):
    """List PCI functions request."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_req_hdr),
        ("resume_token", ctypes.c_uint64),
        ("reserved2", ctypes.c_uint64),
    ]


class clp_rsp_list_pci(ctypes.BigEndianStructure):
    """List PCI functions response."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_rsp_hdr),
        ("resume_token", ctypes.c_uint64),
        ("reserved2", ctypes.c_uint32),
        ("max_fn", ctypes.c_uint16),
        ("_pad0", ctypes.c_uint8, 7),
        ("uid_checking", ctypes.c_uint8, 1),
        ("entry_size", ctypes.c_uint8),
        ("fh_list", clp_fh_list_entry * CLP_FH_LIST_NR_ENTRIES),
    ]


class _mio_addr(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [("wb", ctypes.c_uint64), ("wt", ctypes.c_uint64)]


class mio_info(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [
        ("valid", ctypes.c_uint32, 6),
        ("_pad0", ctypes.c_uint32, 26),
        ("_pad1", ctypes.c_uint32),
        ("addr", _mio_addr * PCI_STD_NUM_BARS),
        ("reserved", ctypes.c_uint32 * 6),
    ]


class clp_req_query_pci(ctypes.BigEndianStructure):
    """Query PCI function request."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_req_hdr),
        ("fh", ctypes.c_uint32),  # function handle
        ("reserved2", ctypes.c_uint32),
        ("reserved3", ctypes.c_uint64),
    ]


class clp_rsp_query_pci(ctypes.BigEndianStructure):
    """Query PCI function response.  ``bar`` is ``__le32`` in C: the kernel converts it
    with ``le32_to_cpu``; here the words are declared big-endian and byte-swapped by the
    reader (:func:`kernel.s390.pci.pci_clp.le32_to_cpu`)."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_rsp_hdr),
        ("vfn", ctypes.c_uint16),  # virtual fn number
        ("_pad0", ctypes.c_uint16, 6),
        ("mio_addr_avail", ctypes.c_uint16, 1),
        ("util_str_avail", ctypes.c_uint16, 1),  # utility string available?
        ("pfgid", ctypes.c_uint16, 8),  # pci function group id
        ("fid", ctypes.c_uint32),  # pci function id
        ("bar_size", ctypes.c_uint8 * PCI_STD_NUM_BARS),
        ("pchid", ctypes.c_uint16),
        ("bar", ctypes.c_uint32 * PCI_STD_NUM_BARS),
        ("pfip", ctypes.c_uint8 * CLP_PFIP_NR_SEGMENTS),  # pci function internal path
        ("_pad1", ctypes.c_uint16),  # u32 : 16 in C, packed: two bytes
        ("fmb_len", ctypes.c_uint8),
        ("pft", ctypes.c_uint8),  # pci function type
        ("sdma", ctypes.c_uint64),  # start dma as
        ("edma", ctypes.c_uint64),  # end dma as
        # reserved[0..2]: this model's home for rid/tid/flags, see the module docstring
        ("rid_avail", ctypes.c_uint8, 1),
        ("tid_avail", ctypes.c_uint8, 1),
        ("is_physfn", ctypes.c_uint8, 1),
        ("_pad2", ctypes.c_uint8, 5),
        ("port", ctypes.c_uint8),
        ("rid", ctypes.c_uint16),
        ("tid", ctypes.c_uint16),
        ("fidparm", ctypes.c_uint8),
        ("_pad3", ctypes.c_uint8),
        ("_pad4", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32 * 8),
        ("uid", ctypes.c_uint32),  # user defined id
        ("util_str", ctypes.c_uint8 * CLP_UTIL_STR_LEN),  # utility string
        ("reserved2", ctypes.c_uint32 * 16),
        ("mio", mio_info),
    ]


class clp_req_query_pci_grp(ctypes.BigEndianStructure):
    """Query PCI function group request."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_req_hdr),
        ("reserved2", ctypes.c_uint32, 24),
        ("pfgid", ctypes.c_uint32, 8),  # function group id
        ("reserved3", ctypes.c_uint32),
        ("reserved4", ctypes.c_uint64),
    ]


class clp_rsp_query_pci_grp(ctypes.BigEndianStructure):
    """Query PCI function group response."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_rsp_hdr),
        ("_pad0", ctypes.c_uint16, 4),
        ("noi", ctypes.c_uint16, 12),  # number of interrupts
        ("version", ctypes.c_uint8),
        ("_pad1", ctypes.c_uint8, 6),
        ("frame", ctypes.c_uint8, 1),
        ("refresh", ctypes.c_uint8, 1),  # TLB refresh mode
        ("reserved2", ctypes.c_uint16),
        ("mui", ctypes.c_uint16),
        ("_pad2", ctypes.c_uint16),
        ("maxfaal", ctypes.c_uint16),
        ("_pad3", ctypes.c_uint16, 4),
        ("dnoi", ctypes.c_uint16, 12),
        ("maxcpu", ctypes.c_uint16),
        ("dasm", ctypes.c_uint64),  # dma address space mask
        ("msia", ctypes.c_uint64),  # MSI address
        ("reserved4", ctypes.c_uint64),
        ("reserved5", ctypes.c_uint64),
    ]


class clp_req_set_pci(ctypes.BigEndianStructure):
    """Set PCI function request."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_req_hdr),
        ("fh", ctypes.c_uint32),  # function handle
        ("reserved2", ctypes.c_uint16),
        ("oc", ctypes.c_uint8),  # operation controls
        ("ndas", ctypes.c_uint8),  # number of dma spaces
        ("reserved3", ctypes.c_uint32),
        ("gisa", ctypes.c_uint32),  # GISA designation
    ]


class clp_rsp_set_pci(ctypes.BigEndianStructure):
    """Set PCI function response."""

    _pack_ = 1
    _fields_ = [
        ("hdr", clp_rsp_hdr),
        ("fh", ctypes.c_uint32),  # function handle
        ("reserved1", ctypes.c_uint32),
        ("reserved2", ctypes.c_uint64),
        ("mio", mio_info),
    ]


# Combined request/response block structures used by clp insn
class clp_req_rsp_list_pci(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [("request", clp_req_list_pci), ("response", clp_rsp_list_pci)]


class clp_req_rsp_set_pci(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [("request", clp_req_set_pci), ("response", clp_rsp_set_pci)]


class clp_req_rsp_query_pci(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [("request", clp_req_query_pci), ("response", clp_rsp_query_pci)]


class clp_req_rsp_query_pci_grp(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [("request", clp_req_query_pci_grp), ("response", clp_rsp_query_pci_grp)]
