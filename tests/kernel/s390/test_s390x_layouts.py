"""The firmware formats of the zPCI code (CCDFs, CLP blocks, FIB) against the real s390x
compiler: for each structure a probe is compiled from the C declaration as read in the
kernel source, with a distinct value in every named field, and its byte image and
size are compared with the ctypes class filled with the same values.  The byte image
is where big-endian bit-field order shows.  Reuses the toolchain helpers of
tests/abi; skipped (with the reason) without the cross compiler."""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kernel.s390.include.asm import pci_clp
from kernel.s390.include.asm.clp import clp_req_hdr, clp_rsp_hdr
from kernel.s390.include.asm.pci_insn import zpci_fib


def _toolchain() -> ModuleType:
    path = Path(__file__).parents[2] / "abi" / "s390x_toolchain.py"
    spec = importlib.util.spec_from_file_location("zpci_s390x_toolchain", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tc = _toolchain()
_reason = tc.toolchain_missing_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")

#: The declarations as in arch/s390/include/asm/pci.h (v17 4/7 moved struct zpci_ccdf_err
#: there and named its reserved2 field, and added struct zpci_ccdf_pending),
#: arch/s390/pci/pci_event.c, asm/clp.h, asm/pci_clp.h and asm/pci_insn.h.
C_DECLS = r"""
typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
typedef unsigned long long u64; typedef u32 __le32; typedef _Bool bool;
#define __packed __attribute__((packed))
struct zpci_ccdf_err {
	u32 reserved1; u32 fh; u32 fid;
	u32 ett : 4; u32 mvn : 12; u32 dmaas : 8; u32 reserved2 : 6; u32 q : 1; u32 rw : 1;
	u64 faddr; u32 reserved3; u16 reserved4; u16 pec;
} __packed;
#define ZPCI_ERR_PENDING_MAX 4
struct zpci_ccdf_pending {
	bool mediated_recovery; u8 count; u8 head; u8 tail;
	struct zpci_ccdf_err err[ZPCI_ERR_PENDING_MAX];
};
struct zpci_ccdf_avail {
	u32 reserved1; u32 fh; u32 fid; u32 reserved2; u32 reserved3; u32 reserved4;
	u32 reserved5; u16 reserved6; u16 pec;
} __packed;
struct clp_req_hdr { u16 len; u16 cmd; u32 fmt : 4; u32 reserved1 : 28; u64 reserved2; } __packed;
struct clp_rsp_hdr { u16 len; u16 rsp; u32 fmt : 4; u32 reserved1 : 28; u64 reserved2; } __packed;
struct clp_fh_list_entry {
	u16 device_id; u16 vendor_id; u32 config_state : 1; u32 : 31; u32 fid; u32 fh;
} __packed;
struct mio_info {
	u32 valid : 6; u32 : 26; u32 : 32; struct { u64 wb; u64 wt; } addr[6]; u32 reserved[6];
} __packed;
struct clp_rsp_query_pci {
	struct clp_rsp_hdr hdr; u16 vfn; u16 : 6; u16 mio_addr_avail : 1; u16 util_str_avail : 1;
	u16 pfgid : 8; u32 fid; u8 bar_size[6]; u16 pchid; __le32 bar[6]; u8 pfip[4]; u32 : 16;
	u8 fmb_len; u8 pft; u64 sdma; u64 edma; u32 reserved[11]; u32 uid; u8 util_str[64];
	u32 reserved2[16]; struct mio_info mio;
} __packed;
struct clp_rsp_query_pci_grp {
	struct clp_rsp_hdr hdr; u16 : 4; u16 noi : 12; u8 version; u8 : 6; u8 frame : 1;
	u8 refresh : 1; u16 reserved2; u16 mui; u16 : 16; u16 maxfaal; u16 : 4; u16 dnoi : 12;
	u16 maxcpu; u64 dasm; u64 msia; u64 reserved4; u64 reserved5;
} __packed;
struct clp_req_query_pci_grp {
	struct clp_req_hdr hdr; u32 reserved2 : 24; u32 pfgid : 8; u32 reserved3; u64 reserved4;
} __packed;
struct clp_req_set_pci {
	struct clp_req_hdr hdr; u32 fh; u16 reserved2; u8 oc; u8 ndas; u32 reserved3; u32 gisa;
} __packed;
struct zpci_fib {
	u32 fmt : 8; u32 : 24; u32 : 32; u8 fc; u64 : 56; u64 pba; u64 pal; u64 iota;
	union { struct { u32 : 1; u32 isc : 3; u32 noi : 12; u32 : 2; u32 aibvo : 6; u32 sum : 1;
	u32 : 1; u32 aisbo : 6; u32 : 32; u64 aibv; u64 aisb; } fmt0; } u;
	u64 fmb_addr; u32 : 32; u32 gd;
} __packed __attribute__((aligned(8)));
"""



def _pci_event() -> Any:
    from kernel.s390.pci import pci_event

    return pci_event


def _asm_pci() -> Any:
    from kernel.s390.include.asm import pci

    return pci


def cases() -> list[tuple[str, Any, dict[str, int]]]:
    ev, asm = _pci_event(), _asm_pci()
    return [
        ("zpci_ccdf_err", asm.zpci_ccdf_err, {
            "reserved1": 0x01020304, "fh": 0x80010005, "fid": 0x11, "ett": 0xA, "mvn": 0x5A5,
            "dmaas": 0x3C, "reserved2": 0x2D, "q": 1, "rw": 1, "faddr": 0x1122334455667788,
            "reserved3": 7, "reserved4": 9, "pec": 0x3A,
        }),
        ("zpci_ccdf_pending", asm.zpci_ccdf_pending, {
            "mediated_recovery": 1, "count": 3, "head": 0xFE, "tail": 0x01,
            "err.0.fh": 0x80010005, "err.1.mvn": 0x123, "err.2.q": 1, "err.3.pec": 0x40,
        }),
        ("zpci_ccdf_avail", ev.zpci_ccdf_avail, {
            "reserved1": 1, "fh": 0x12345678, "fid": 0x22, "reserved2": 2, "reserved3": 3,
            "reserved4": 4, "reserved5": 5, "reserved6": 6, "pec": 0x0301,
        }),
        ("clp_req_hdr", clp_req_hdr, {
            "len": 32, "cmd": 5, "fmt": 0x9, "reserved1": 0x0ABCDEF, "reserved2": 3,
        }),
        ("clp_rsp_hdr", clp_rsp_hdr, {
            "len": 64, "rsp": 0x10, "fmt": 0x3, "reserved1": 0x1234567, "reserved2": 4,
        }),
        ("clp_fh_list_entry", pci_clp.clp_fh_list_entry, {
            "device_id": 0x1016, "vendor_id": 0x15B3, "config_state": 1, "fid": 0x44, "fh": 0x80020001,
        }),
        ("clp_rsp_query_pci", pci_clp.clp_rsp_query_pci, {
            "hdr.len": 384, "hdr.rsp": 0x10, "vfn": 3, "mio_addr_avail": 1, "util_str_avail": 1,
            "pfgid": 0x42, "fid": 0x55, "pchid": 0x2C4, "fmb_len": 9, "pft": 5,
            "sdma": 0x100000000, "edma": 0x1FFFFFFFF, "uid": 0xABCD, "mio.valid": 0x21,
        }),
        ("clp_rsp_query_pci_grp", pci_clp.clp_rsp_query_pci_grp, {
            "hdr.rsp": 0x10, "noi": 0x7FF, "version": 1, "frame": 1, "refresh": 1, "reserved2": 2,
            "mui": 4000, "maxfaal": 5, "dnoi": 0x123, "maxcpu": 6, "dasm": 0xFFFF, "msia": 0xFE00,
        }),
        ("clp_req_query_pci_grp", pci_clp.clp_req_query_pci_grp, {
            "hdr.cmd": 4, "reserved2": 0x123456, "pfgid": 0x42, "reserved3": 1, "reserved4": 2,
        }),
        ("clp_req_set_pci", pci_clp.clp_req_set_pci, {
            "hdr.cmd": 5, "fh": 0x00010001, "reserved2": 7, "oc": 1, "ndas": 1, "reserved3": 8, "gisa": 0x99,
        }),
        ("zpci_fib", zpci_fib, {"fmt": 0, "fc": 0xC0, "pba": 0x1000, "pal": 0xFFFF, "iota": 0x4000,
                                 "fmb_addr": 0x5000, "gd": 0x77}),
    ]


def _c_init(values: dict[str, int], cname: str) -> str:
    parts = []
    for name, v in values.items():
        cfield = name.replace("fmt0.", "u.fmt0.")
        for i in range(8):
            cfield = cfield.replace(f"err.{i}.", f"err[{i}].")
        parts.append(f".{cfield} = {v:#x}ULL")
    return ", ".join(parts)


def _set(obj: Any, dotted: str, value: int) -> None:
    *path, last = dotted.split(".")
    for p in path:
        obj = obj[int(p)] if p.isdigit() else getattr(obj, p)
    setattr(obj, last, value)


@pytest.mark.parametrize("idx", range(11))
def test_byte_image_and_size_match_the_s390x_compiler(idx: int) -> None:
    cname, cls, values = cases()[idx]
    src = C_DECLS + (
        f"struct {cname} probe_inst = {{ {_c_init(values, cname)} }};\n"
        f"unsigned long probe_size = sizeof(struct {cname});\n"
    )
    syms = tc.symbols(tc.compile_object(src))
    size = int.from_bytes(syms["probe_size"], "big")
    assert ctypes.sizeof(cls) == size, cname
    inst = cls()
    for name, v in values.items():
        _set(inst, name, v)
    assert bytes(inst) == syms["probe_inst"], cname
