"""The CLP blocks of asm/pci_clp.h that test_s390x_layouts.py does not cover (the list
and set blocks, mio_info, the combined request/response blocks) against the real
s390x compiler, in the same way: a probe from the C declaration, distinct values in
every named field, byte image and size compared.  And the completeness check: every
ctypes structure under kernel/ is checked by one of the ABI tests."""

from __future__ import annotations

import ctypes
import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest

from kernel.s390.include.asm import pci_clp

from .test_s390x_layouts import C_DECLS, cases, tc

pytestmark = pytest.mark.skipif(
    tc.toolchain_missing_reason() is not None, reason=tc.toolchain_missing_reason() or ""
)

#: From arch/s390/include/asm/clp.h and pci_clp.h (7.1: clp_req_set_pci has gisa).
CLP_DECLS = (
    C_DECLS
    + r"""
#define CLP_BLK_SIZE 4096
#define LIST_PCI_HDR_LEN 32
#define CLP_FH_LIST_NR_ENTRIES ((CLP_BLK_SIZE - 2 * LIST_PCI_HDR_LEN) / sizeof(struct clp_fh_list_entry))
struct clp_req_list_pci { struct clp_req_hdr hdr; u64 resume_token; u64 reserved2; } __packed;
struct clp_rsp_list_pci {
	struct clp_rsp_hdr hdr; u64 resume_token; u32 reserved2; u16 max_fn; u8 : 7; u8 uid_checking : 1;
	u8 entry_size; struct clp_fh_list_entry fh_list[CLP_FH_LIST_NR_ENTRIES];
} __packed;
struct clp_req_query_pci { struct clp_req_hdr hdr; u32 fh; u32 reserved2; u64 reserved3; } __packed;
struct clp_rsp_set_pci {
	struct clp_rsp_hdr hdr; u32 fh; u32 reserved1; u64 reserved2; struct mio_info mio;
} __packed;
struct clp_req_rsp_list_pci { struct clp_req_list_pci request; struct clp_rsp_list_pci response; } __packed;
struct clp_req_rsp_set_pci { struct clp_req_set_pci request; struct clp_rsp_set_pci response; } __packed;
struct clp_req_rsp_query_pci {
	struct clp_req_query_pci request; struct clp_rsp_query_pci response;
} __packed;
struct clp_req_rsp_query_pci_grp {
	struct clp_req_query_pci_grp request; struct clp_rsp_query_pci_grp response;
} __packed;
"""
)


def clp_cases() -> list[tuple[str, Any, dict[str, int]]]:
    return [
        (
            "mio_info",
            pci_clp.mio_info,
            {"valid": 0x2A, "addr.2.wb": 0x1111, "addr.5.wt": 0x2222, "reserved.3": 9},
        ),
        (
            "clp_req_list_pci",
            pci_clp.clp_req_list_pci,
            {"hdr.len": 32, "hdr.cmd": 2, "resume_token": 0x55, "reserved2": 1},
        ),
        (
            "clp_rsp_list_pci",
            pci_clp.clp_rsp_list_pci,
            {
                "hdr.rsp": 0x10,
                "resume_token": 0x66,
                "reserved2": 3,
                "max_fn": 0x100,
                "uid_checking": 1,
                "entry_size": 16,
                "fh_list.0.fid": 0x10,
                "fh_list.251.fh": 0x80000001,
                "fh_list.7.config_state": 1,
            },
        ),
        (
            "clp_req_query_pci",
            pci_clp.clp_req_query_pci,
            {"hdr.cmd": 3, "fh": 0x80010001, "reserved2": 2, "reserved3": 3},
        ),
        (
            "clp_rsp_set_pci",
            pci_clp.clp_rsp_set_pci,
            {"hdr.rsp": 0x10, "fh": 0x80020002, "reserved1": 1, "reserved2": 2, "mio.valid": 3},
        ),
        (
            "clp_req_rsp_list_pci",
            pci_clp.clp_req_rsp_list_pci,
            {
                "request.resume_token": 4,
                "response.max_fn": 7,
                "response.fh_list.3.fh": 0x42,
            },
        ),
        (
            "clp_req_rsp_set_pci",
            pci_clp.clp_req_rsp_set_pci,
            {
                "request.oc": 1,
                "request.gisa": 0x77,
                "response.fh": 0x80000003,
            },
        ),
        (
            "clp_req_rsp_query_pci",
            pci_clp.clp_req_rsp_query_pci,
            {
                "request.fh": 0x80000004,
                "response.uid": 0x1234,
                "response.mio.addr.1.wb": 5,
            },
        ),
        (
            "clp_req_rsp_query_pci_grp",
            pci_clp.clp_req_rsp_query_pci_grp,
            {
                "request.pfgid": 0x11,
                "response.noi": 0x22,
                "response.msia": 0x33,
            },
        ),
    ]


def _c_field(name: str) -> str:
    """``a.2.b`` -> ``a[2].b``: array elements as C designators write them."""
    return re.sub(r"\.(\d+)(?=\.|$)", lambda m: f"[{m[1]}]", name)


def _set(obj: Any, dotted: str, value: int) -> None:
    *path, last = dotted.split(".")
    for p in path:
        obj = obj[int(p)] if p.isdigit() else getattr(obj, p)
    if last.isdigit():
        obj[int(last)] = value
    else:
        setattr(obj, last, value)


@pytest.mark.parametrize("case", clp_cases(), ids=lambda c: c[0])
def test_clp_block_byte_image_and_size_match_the_s390x_compiler(
    case: tuple[str, Any, dict[str, int]],
) -> None:
    cname, cls, values = case
    init = ", ".join(f".{_c_field(n)} = {v:#x}ULL" for n, v in values.items())
    src = CLP_DECLS + (
        f"struct {cname} probe_inst = {{ {init} }};\nunsigned long probe_size = sizeof(struct {cname});\n"
    )
    syms = tc.symbols(tc.compile_object(src))
    assert ctypes.sizeof(cls) == int.from_bytes(syms["probe_size"], "big"), cname
    inst = cls()
    for name, v in values.items():
        _set(inst, name, v)
    assert bytes(inst) == syms["probe_inst"], cname


def test_every_ctypes_structure_of_the_kernel_is_checked() -> None:
    """Every ctypes structure under kernel/ is a layout the firmware or the uAPI
    defines; each must be a case here or in test_s390x_layouts.py, or be checked by
    tests/abi against the real uAPI header.  The anonymous ``struct { u64 wb; u64
    wt; }`` of ``mio_info`` is covered through ``mio_info``."""
    import kernel

    covered = {c[0] for c in cases()} | {c[0] for c in clp_cases()}
    uapi_checked = {"vfio_device_low_power_entry_with_wakeup"}
    anonymous = {"_mio_addr"}
    missing = []
    for info in pkgutil.walk_packages(kernel.__path__, "kernel."):
        mod = importlib.import_module(info.name)
        for name, obj in vars(mod).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, ctypes.Structure | ctypes.Union)
                and obj.__module__ == mod.__name__
                and name not in covered | uapi_checked | anonymous
            ):
                missing.append(f"{mod.__name__}.{name}")
    assert missing == []
