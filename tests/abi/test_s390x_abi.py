"""ABI truth: every ctypes layout and constant of uapi/ checked against the real s390x
compiler (Debian's gcc-s390x-linux-gnu) and, where it has them, the real kernel
headers (linux-libc-dev-s390x-cross).

For each structure the check compiles a probe that records ``sizeof``, ``_Alignof``
and every field's ``offsetof``, and a static instance with a distinct value in every
field (bit-fields included); it reads them back from the object file and compares
them with the ctypes class: sizes, offsets and **the byte image**.  The byte image is
where big-endian bit-field order shows (the first bit-field takes the most
significant bits on s390x).

The Debian header is Linux 6.1.  Structures and constants that 7.1 added or changed
come from a transcription of the 7.1 header (tests/abi/c/vfio_7_1.h); for a changed
structure the fields it shares with the 6.1 header are compared with the real header
as well.  Without the toolchain the module is skipped, with the reason; .ci/run
installs it so CI never skips.
"""

from __future__ import annotations

import ctypes
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import uapi.linux.pci_regs as pci_regs
import uapi.linux.vfio as V
import uapi.linux.vfio as vfio
import uapi.linux.vfio_zdev as vfio_zdev
from kernel.vfio.pci import vfio_pci_core
from sim.userspace import zpci_err
from uapi.asm_generic.ioctl import _IO

from .s390x_toolchain import (
    CompileError,
    compile_object,
    symbols,
    toolchain_missing_reason,
    undeclared_names,
)

_reason = toolchain_missing_reason()
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")

C_DIR = Path(__file__).with_name("c")
HEADERS = "\n".join(
    (
        "#include <stddef.h>",
        "#include <linux/pci_regs.h>",
        "#include <linux/vfio.h>",
        "#include <linux/vfio_zdev.h>",
        '#include "pci_regs_7_1.h"',
        '#include "vfio_7_1.h"',
        '#include "vfio_v17.h"',
        '#include "vfio_merged.h"',
        "",
    )
)

#: Structures whose 7.1 form differs from the 6.1 header: C name of the transcription.
TRANSCRIBED_CHANGED = {"vfio_device_info": "t71_vfio_device_info"}

UAPI_MODULES: tuple[ModuleType, ...] = (pci_regs, vfio, vfio_zdev)


def structures(mod: ModuleType) -> list[type[ctypes.Structure]]:
    return [
        obj
        for _, obj in inspect.getmembers(mod, inspect.isclass)
        if issubclass(obj, ctypes.Structure) and obj.__module__ == mod.__name__
    ]


def constants(mod: ModuleType) -> dict[str, int]:
    return {
        name: value
        for name, value in vars(mod).items()
        if name.isupper() and isinstance(value, int) and not isinstance(value, bool)
    }


def fields(cls: type[ctypes.Structure]) -> Iterator[tuple[str, Any, int | None]]:
    for f in cls._fields_:
        yield f[0], f[1], (f[2] if len(f) > 2 else None)


def is_struct(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, ctypes.Structure)


def is_array(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, ctypes.Array)


def _pattern(seed: int, size: int) -> int:
    return int.from_bytes(bytes(((seed % 7) * 16 + j + 1) & 0x7F for j in range(size)), "big")


def fill(obj: ctypes.Structure, seed: list[int]) -> str:
    """Give every field of ``obj`` a distinct value; return the matching C initializer."""
    parts = []
    for name, t, bits in fields(type(obj)):
        seed[0] += 1
        if is_struct(t):
            parts.append(f".{name} = {fill(getattr(obj, name), seed)}")
        elif is_array(t):
            if t._length_ == 0:
                continue
            elem = t._type_
            arr = getattr(obj, name)
            if is_struct(elem):
                inits = [fill(arr[i], seed) for i in range(t._length_)]
            elif elem in (ctypes.c_char,):
                vals = [_pattern(seed[0] + i, 1) for i in range(t._length_)]
                for i, v in enumerate(vals):
                    arr[i] = bytes([v])
                inits = [str(v) for v in vals]
            else:
                vals = [_pattern(seed[0] + i, ctypes.sizeof(elem)) for i in range(t._length_)]
                for i, v in enumerate(vals):
                    arr[i] = v
                inits = [f"{v:#x}" for v in vals]
            parts.append(f".{name} = {{{', '.join(inits)}}}")
        else:
            value = _pattern(seed[0], ctypes.sizeof(t))
            if bits is not None:
                value = (0b1010101010101 + seed[0]) & ((1 << bits) - 1) or 1
            setattr(obj, name, value)
            parts.append(f".{name} = {value:#x}ULL")
    return "{" + ", ".join(parts) + "}"


#: On the tree with the series as merged (its feature struct is one ``data`` pointer),
#: the kernel's uAPI classes are checked against the merged transcription
#: (tests/abi/c/vfio_merged.h) instead of v17's.
_FEATURE_ERR = getattr(V, "vfio_device_feature_zpci_err", None)
MERGED_TREE = [f[0] for f in getattr(_FEATURE_ERR, "_fields_", [])] == ["data"]
MERGED_NAMES = {
    "vfio_device_feature_zpci_err": "merged_vfio_device_feature_zpci_err",
    "vfio_device_info_cap_zpci_base": "merged_vfio_device_info_cap_zpci_base",
}

#: The userspace programs' own copy of both uAPIs (sim/userspace/zpci_err.py) and the
#: C struct each stands for.
USERSPACE_STRUCTS: dict[type[ctypes.Structure], str] = {
    zpci_err.vfio_device_feature_zpci_err_v17: "vfio_device_feature_zpci_err",
    zpci_err.vfio_device_feature_zpci_err: "merged_vfio_device_feature_zpci_err",
    zpci_err.vfio_device_info_cap_zpci_base_v3: "merged_vfio_device_info_cap_zpci_base",
    zpci_err.zpci_ccdf_err: "merged_zpci_ccdf_err",
}


def c_name(cls: type[ctypes.Structure]) -> str:
    if cls in USERSPACE_STRUCTS:
        return USERSPACE_STRUCTS[cls]
    if MERGED_TREE and cls.__module__.startswith("uapi.") and cls.__name__ in MERGED_NAMES:
        return MERGED_NAMES[cls.__name__]
    return TRANSCRIBED_CHANGED.get(cls.__name__, cls.__name__)


def probe_source(cls: type[ctypes.Structure], cname: str) -> tuple[str, ctypes.Structure]:
    offs = [f"offsetof(struct {cname}, {n})" for n, _t, bits in fields(cls) if bits is None]
    inst = cls()
    init = fill(inst, [0])
    src = (
        HEADERS
        + f"const unsigned long long layout[] = {{sizeof(struct {cname}), _Alignof(struct {cname}), "
        + ", ".join(offs)
        + "};\n"
        + f"struct {cname} image = {init};\n"
    )
    return src, inst


#: uAPI structures the kernel port defines next to the code that uses them.
EXTRA_STRUCTS: tuple[type[ctypes.Structure], ...] = (
    vfio_pci_core.vfio_device_low_power_entry_with_wakeup,
)

ALL_STRUCTS = (
    [cls for mod in UAPI_MODULES for cls in structures(mod)] + list(EXTRA_STRUCTS) + list(USERSPACE_STRUCTS)
)


def layout_mismatches(cls: type[ctypes.Structure], cname: str) -> list[str]:
    """What differs between the ctypes class and the s390x compiler's ``struct cname``:
    sizeof, alignof, each field's offset, and the byte image of the same values."""
    src, inst = probe_source(cls, cname)
    syms = symbols(compile_object(src, C_DIR))
    raw = syms["layout"]
    layout = [int.from_bytes(raw[i : i + 8], "big") for i in range(0, len(raw), 8)]
    plain = [(n, getattr(cls, n).offset) for n, _t, bits in fields(cls) if bits is None]
    found = []
    if layout[0] != ctypes.sizeof(cls):
        found.append(f"sizeof {ctypes.sizeof(cls)} != {layout[0]}")
    if layout[1] != ctypes.alignment(cls):
        found.append(f"alignof {ctypes.alignment(cls)} != {layout[1]}")
    for (name, off), c_off in zip(plain, layout[2:], strict=True):
        if off != c_off:
            found.append(f"offsetof {name} {off} != {c_off}")
    image = bytes(inst)
    if syms["image"] != image:
        first = next(n for n, (a, b) in enumerate(zip(syms["image"], image, strict=False)) if a != b)
        found.append(f"byte image differs from byte {first}")
    return found


@pytest.mark.parametrize("cls", ALL_STRUCTS, ids=lambda c: f"{c.__module__.rsplit('.', 1)[-1]}.{c.__name__}")
def test_layout_and_bytes_match_the_s390x_compiler(cls: type[ctypes.Structure]) -> None:
    try:
        found = layout_mismatches(cls, c_name(cls))
    except CompileError as e:
        pytest.fail(f"struct {c_name(cls)} is in neither the s390x headers nor the 7.1 transcription:\n{e}")
    assert found == []


def _copy_with(cls: type[ctypes.Structure], fields_: list[Any]) -> type[ctypes.Structure]:
    return type(cls.__name__, (ctypes.BigEndianStructure,), {"_fields_": fields_})


def test_a_field_of_the_wrong_size_is_caught() -> None:
    """The check's own check: a copy of vfio_irq_info whose ``count`` is 64 bits."""
    fields_ = [(n, ctypes.c_uint64 if n == "count" else t) for n, t in V.vfio_irq_info._fields_]
    broken = _copy_with(V.vfio_irq_info, fields_)
    assert layout_mismatches(broken, "vfio_irq_info") == [
        "sizeof 24 != 16",
        "alignof 8 != 4",
        "offsetof count 16 != 12",
        "byte image differs from byte 12",
    ]


def test_bit_fields_in_the_wrong_order_are_caught_by_the_byte_image() -> None:
    """The big-endian bit-field order: ``ett`` is the most significant nibble of its
    word on s390x.  A copy that declares ``mvn`` first has the same size and offsets;
    only the byte image tells them apart."""
    fields_ = list(zpci_err.vfio_device_feature_zpci_err_v17._fields_)
    i = [f[0] for f in fields_].index("ett")
    fields_[i], fields_[i + 1] = fields_[i + 1], fields_[i]
    broken = _copy_with(zpci_err.vfio_device_feature_zpci_err_v17, fields_)
    assert ctypes.sizeof(broken) == 72
    assert layout_mismatches(broken, "vfio_device_feature_zpci_err") == ["byte image differs from byte 16"]


@pytest.mark.parametrize(
    "cls", [c for c in ALL_STRUCTS if c.__name__ in TRANSCRIBED_CHANGED], ids=lambda c: c.__name__
)
def test_transcribed_structs_share_their_older_fields_with_the_real_header(
    cls: type[ctypes.Structure],
) -> None:
    """The 6.1 header's form of a struct that 7.1 changed: the common fields sit at the
    same offsets in the real header as in ours."""
    src = HEADERS + f"struct {cls.__name__} probe;\n"
    real_fields = []
    for n, _t, bits in fields(cls):
        if bits is not None:
            continue
        try:
            compile_object(
                src + f"const unsigned long long o = offsetof(struct {cls.__name__}, {n});\n", C_DIR
            )
        except CompileError:
            continue  # a field the older header lacks
        real_fields.append(n)
    assert real_fields, "no field in common with the real header"
    offs = ", ".join(f"offsetof(struct {cls.__name__}, {n})" for n in real_fields)
    syms = symbols(compile_object(src + f"const unsigned long long o[] = {{{offs}}};\n", C_DIR))
    got = [int.from_bytes(syms["o"][i : i + 8], "big") for i in range(0, len(syms["o"]), 8)]
    assert got == [getattr(cls, n).offset for n in real_fields]


def constant_mismatches(consts: dict[str, int]) -> list[str]:
    """Each constant whose value differs from the headers' (the real s390x header or
    the 7.1 transcription); a constant in neither fails the test."""
    names = sorted(consts)
    missing: set[str] = set()
    for _ in range(3):
        body = "".join(
            f"const unsigned long long c_{n} = (unsigned long long)({n});\n"
            for n in names
            if n not in missing
        )
        try:
            syms = symbols(compile_object(HEADERS + body, C_DIR))
            break
        except CompileError as e:
            new = undeclared_names(str(e)) - missing
            if not new:
                raise
            missing |= new
    else:
        pytest.fail("could not compile the constants probe")
    assert not missing, f"constants in neither the s390x headers nor the 7.1 transcription: {sorted(missing)}"
    got = {n: int.from_bytes(syms[f"c_{n}"], "big") for n in names}
    want = {n: consts[n] & 0xFFFFFFFFFFFFFFFF for n in names}
    return [f"{n} {want[n]:#x} != {got[n]:#x}" for n in names if got[n] != want[n]]


def test_constants_match_the_headers() -> None:
    consts = {name: value for mod in UAPI_MODULES for name, value in constants(mod).items()}
    consts.update({"VFIO_DEVICE_FEATURE_ZPCI_ERROR": zpci_err.VFIO_DEVICE_FEATURE_ZPCI_ERROR})
    assert constant_mismatches(consts) == []


def test_a_wrong_ioctl_number_is_caught() -> None:
    """The check's own check: VFIO_DEVICE_RESET one number off."""
    consts = {"VFIO_DEVICE_RESET": _IO(";", 100 + 12), "VFIO_DEVICE_FEATURE": V.VFIO_DEVICE_FEATURE}
    assert constant_mismatches(consts) == ["VFIO_DEVICE_RESET 0x3b70 != 0x3b6f"]
