"""Provenance a reader can follow: the project cites mails by Message-ID and source by
public repository, commit and path -- never a private archive's document ids or notes
kept outside the repository -- and docs/sources.md has a row for every ported C file."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Spelt in pieces so that this file does not cite what it forbids.
_NOTES = "|".join(n + r"\.md" for n in ("BASE", "SOURCES", "PATCHES"))
PRIVATE = re.compile(
    r"(?i:archive"
    + r"[ _-]ids?)\b"  # the word pair, any number after it
    + r"|\b(?i:ids?) [0-9]{6,}\b"  # "id" and six or more digits: a stored document's number
    + rf"|\b(?:{_NOTES})\b"  # notes outside the repository (docs/sources.md is ours)
)
C_PATH = re.compile(r"((?:[\w-]+/)+[\w-]+\.[ch])\b")


def private_citations(text: str) -> list[str]:
    """The private citations in ``text``, as the lines that carry them."""
    return [line.strip() for line in text.splitlines() if PRIVATE.search(line)]


def _tracked() -> list[Path]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no list of tracked files")
    return [ROOT / p for p in out.split("\0") if p]


def ported_modules() -> dict[str, str]:
    """kernel/ and uapi/ modules whose docstring opens with the C path they port."""
    found: dict[str, str] = {}
    for top in ("kernel", "uapi"):
        for f in sorted((ROOT / top).rglob("*.py")):
            doc = ast.get_docstring(ast.parse(f.read_text())) or ""
            m = C_PATH.match(doc)
            if m:
                found[f.relative_to(ROOT).as_posix()] = m[1]
    return found


def test_private_citations_are_recognised() -> None:
    text = (
        "Read from legoater/linux @ 25f192f9 (arch" + "ive id 5367" + "1393341).\n"
        "Base text (BASE" + ".md: equal to the v17 4/7 pre-image).\n"
        "analysis (Niklas, v15, id " + "55974067047)\n"
        "see SOURCES" + ".md and PATCHES" + ".md\n"
        "[docs/sources.md](docs/sources.md) is ours\n"
        "Read from legoater/linux @ 25f192f99a70, arch/s390/pci/pci_event.c.\n"
        "v17 4/7 <20260520171113.1111-5-alifm@linux.ibm.com>, blob 839bd91c056e, fid 0x10\n"
    )
    assert private_citations(text) == [
        "Read from legoater/linux @ 25f192f9 (arch" + "ive id 5367" + "1393341).",
        "Base text (BASE" + ".md: equal to the v17 4/7 pre-image).",
        "analysis (Niklas, v15, id " + "55974067047)",
        "see SOURCES" + ".md and PATCHES" + ".md",
    ]


def test_no_tracked_file_cites_a_private_archive() -> None:
    found = []
    for f in _tracked():
        if not f.is_file():
            continue
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{f.relative_to(ROOT).as_posix()}: {line}" for line in private_citations(text)]
    assert found == []


def test_every_ported_c_file_has_a_row_in_sources_md() -> None:
    table = (ROOT / "docs" / "sources.md").read_text()
    rows = {}
    for line in table.splitlines():
        m = re.match(r"\| `([^`]+\.py)` \| `([^`]+)` \| (.+) \| (.+) \|$", line)
        if m:
            rows[m[1]] = (m[2], m[3], m[4])
    modules = ported_modules()
    assert len(modules) > 50
    assert sorted(set(modules) - set(rows)) == []
    assert sorted(set(rows) - set(modules)) == []
    assert {mod: rows[mod][0] for mod in modules} == modules


def test_exact_rows_name_the_blob_and_the_public_tree() -> None:
    exact = {}
    for line in (ROOT / "docs" / "sources.md").read_text().splitlines():
        m = re.match(r"\| `([^`]+)`", line)
        if m and "**exact**" in line:
            exact[m[1]] = line
    assert sorted(exact) == [
        "kernel/pci/hotplug/rpaphp_slot.py",
        "kernel/pci/slot.py",
        "kernel/s390/include/asm/pci.py",
        "kernel/s390/pci/pci_event.py",
        "kernel/vfio/pci/vfio_pci_priv.py",
        "kernel/vfio/pci/vfio_pci_zdev.py",
    ]
    for mod, row in exact.items():
        assert re.search(r"pre-image, blob [0-9a-f]{12}\b", row), mod
    event = exact["kernel/s390/pci/pci_event.py"]
    assert "legoater/linux @ 25f192f99a70, `arch/s390/pci/pci_event.c`" in event
    assert "blob 839bd91c056e" in event
