"""Compile C probes with Debian's s390x cross compiler and read back what they hold.

The probes are never run: each value to check is a static initialiser in a data
symbol of an object file, and :func:`symbol_bytes` reads that symbol's bytes out of
the ELF (64-bit, big-endian: the s390x object format) with a small parser, so no
emulator is needed.  Numbers read back are big-endian, as the target stores them.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

CC = "s390x-linux-gnu-gcc"
#: Where Debian's linux-libc-dev-s390x-cross puts the kernel uAPI headers.
SYSROOT_INCLUDE = Path("/usr/s390x-linux-gnu/include")


def toolchain_missing_reason() -> str | None:
    if shutil.which(CC) is None:
        return f"{CC} not installed (Debian package gcc-s390x-linux-gnu; .ci/run installs it)"
    if not (SYSROOT_INCLUDE / "linux" / "vfio.h").exists():
        return "s390x kernel headers missing (Debian package linux-libc-dev-s390x-cross)"
    return None


class CompileError(RuntimeError):
    pass


def compile_object(source: str, extra_include: Path | None = None) -> bytes:
    """Compile ``source`` to an s390x object file and return its bytes."""
    with tempfile.TemporaryDirectory(prefix="zpcisim-abi-") as tmp:
        src = Path(tmp, "probe.c")
        obj = Path(tmp, "probe.o")
        src.write_text(source)
        cmd = [CC, "-std=gnu11", "-O0", "-c", "-o", str(obj), str(src)]
        if extra_include is not None:
            cmd[1:1] = ["-I", str(extra_include)]
        r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
        if r.returncode != 0:
            raise CompileError(r.stderr)
        return obj.read_bytes()


def undeclared_names(stderr: str) -> set[str]:
    """Identifiers gcc reported as undeclared (a constant the header lacks)."""
    return set(re.findall(r"'([A-Za-z_][A-Za-z0-9_]*)' undeclared", stderr))


def symbols(elf: bytes) -> dict[str, bytes]:
    """Every defined data symbol of an ELF64 big-endian object: name -> its bytes."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 2:
        raise ValueError("not an ELF64 big-endian object")
    (e_shoff,) = struct.unpack_from(">Q", elf, 0x28)
    e_shentsize, e_shnum = struct.unpack_from(">HH", elf, 0x3A)
    sections = []
    for i in range(e_shnum):
        off = e_shoff + i * e_shentsize
        name, stype, _flags, _addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
            ">IIQQQQIIQQ", elf, off
        )
        sections.append((name, stype, offset, size, link, entsize))
    out: dict[str, bytes] = {}
    for _name, stype, offset, size, link, entsize in sections:
        if stype != 2:  # SHT_SYMTAB
            continue
        strtab_off = sections[link][2]
        for j in range(size // entsize):
            st_name, _st_info, _other, st_shndx, st_value, st_size = struct.unpack_from(
                ">IBBHQQ", elf, offset + j * entsize
            )
            if st_name == 0 or st_shndx == 0 or st_shndx >= len(sections):
                continue
            end = elf.index(b"\0", strtab_off + st_name)
            sym = elf[strtab_off + st_name : end].decode()
            sec = sections[st_shndx]
            if sec[1] == 8:  # SHT_NOBITS (.bss): all zeros
                out[sym] = bytes(st_size)
            else:
                start = sec[2] + st_value
                out[sym] = elf[start : start + st_size]
    return out
