"""Each tree's module docstrings describe that tree.

The series' hunks update the docstrings of the files they change, so every tree
``tools.series`` writes -- the baseline, ``v17:N`` and ``mainline:N`` -- must read true
on its own.  Checked in the module docstrings of ``kernel/`` and ``uapi/`` of every
tree (written once per checkout into the tree cache of :mod:`sim.trees`):

* the paragraph that names the kernel version (the first; "Base: ..." in uapi/) names
  the tree: a file the tree's applied patches change says "v17" (a v17 tree) or "as
  merged" (a merged tree), and not "before the ..."; a file they do not change does
  not say "with the v17 series" or "the series as merged";
* in a merged tree a v17 patch number (``3/7``) appears only in a paragraph that says
  it is v17's (the merged tree is not changed by v17's patches);
* in the baseline and the v17 trees no paragraph describes the file "As merged for
  Linux 7.3" (the merged series' hunks add those paragraphs);
* no docstring speaks of the project's own schedule ("applied by a later issue",
  "not in this tree yet", "once ... lands"): that is true on one day only.

A failure names the tree, the file and the docstring line.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from sim.trees import tree_path
from tools.series import SERIES_NAMES, patch_files, series_dir

ROOT = Path(__file__).resolve().parents[2]
TREES = ["baseline"] + [
    f"{name}:{n}" for name in SERIES_NAMES for n in range(1, len(patch_files(series_dir(name))) + 1)
]

_V17_HEADER = "with the v17 series"
_MERGED_HEADER = "the series as merged"
_V17_PATCH = re.compile(r"(?<![\d/.])[1-7]/7\b")
_SCHEDULE = re.compile(r"applied by a later issue|not in (?:this|the) tree yet|once [^.]* lands", re.I)


def changed_files(spec: str) -> set[str]:
    """The files the patches applied in tree ``spec`` change."""
    if spec == "baseline":
        return set()
    name, _, n = spec.partition(":")
    files: set[str] = set()
    for patch in patch_files(series_dir(name))[: int(n)]:
        files.update(re.findall(r"^diff --git a/(\S+) b/", patch.read_text(), flags=re.M))
    return files


def paragraphs(doc: str, first_line: int) -> Iterator[tuple[int, str]]:
    """(line number in the file, text) of each paragraph of a docstring."""
    start, lines = first_line, []
    for i, line in enumerate(doc.splitlines()):
        if line.strip():
            if not lines:
                start = first_line + i
            lines.append(line.strip())
        elif lines:
            yield start, " ".join(lines)
            lines = []
    if lines:
        yield start, " ".join(lines)


_DOCSTRING = re.compile(r'\A(?:[ \t]*(?:#[^\n]*)?\n)*[rR]?("""|\'\'\')(.*?)\1', re.S)


@cache
def module_docstring(text: str) -> tuple[int, str] | None:
    """(first line, text) of a module's docstring: the string literal that opens the
    file (read without parsing the whole module: the trees hold many large files)."""
    m = _DOCSTRING.match(text)
    if m is None:
        return None
    literal = ast.literal_eval(m.group(0).lstrip())
    return text.count("\n", 0, m.start(1)) + 1, str(literal)


def problems(spec: str, root: Path) -> list[str]:
    merged = spec.startswith("mainline")
    changed = changed_files(spec)
    found = []
    for f in sorted([*(root / "kernel").rglob("*.py"), *(root / "uapi").rglob("*.py")]):
        rel = f.relative_to(root).as_posix()
        found_doc = module_docstring(f.read_text())
        if found_doc is None:
            continue
        first, doc = found_doc
        paras = list(paragraphs(doc, first))
        # the paragraph that names the kernel version: the first, or (uapi) "Base: ..."
        head_line, head = next(((n, p) for n, p in paras if "7.1-rc4" in p), paras[0])

        def bad(line: int, why: str, rel: str = rel) -> None:
            found.append(f"{spec}: {rel}:{line}: {why}")

        if rel in changed:
            want = "as merged" if merged else "v17"
            if want not in head or "before the" in head:
                bad(head_line, f"changed by this tree's patches, but its version paragraph lacks {want!r}")
        for claim in (_V17_HEADER, _MERGED_HEADER):
            if claim in head and (rel not in changed or (claim == _MERGED_HEADER) != merged):
                bad(head_line, f"its version paragraph says {claim!r}, which this tree is not")
        for line, text in paras:
            if merged and _V17_PATCH.search(text) and "v17" not in text:
                bad(line, f"a v17 patch number in a paragraph that does not say it is v17's: {text[:70]!r}")
            if not merged and text.startswith("As merged for Linux"):
                bad(line, f"describes the merged form in a tree without it: {text[:70]!r}")
            m = _SCHEDULE.search(text)
            if m:
                bad(line, f"speaks of the project's schedule: {m.group(0)!r}")
    return found


@cache
def _tree(spec: str) -> Path:
    return tree_path(spec, ROOT)


@pytest.mark.parametrize("spec", TREES)
def test_module_docstrings_describe_their_tree(spec: str) -> None:
    assert problems(spec, _tree(spec)) == []


def test_another_trees_claims_are_found_by_file_and_line(tmp_path: Path) -> None:
    """A planted docstring of each kind is reported, with its file and line."""
    (tmp_path / "kernel/pci/msi").mkdir(parents=True)
    (tmp_path / "uapi").mkdir()
    (tmp_path / "kernel/pci/msi/msi.py").write_text(
        '# comment\n"""drivers/pci/msi/msi.c (Linux 7.1-rc4): MSI-X.\n\n'
        '3/7 "PCI: Fail FLR" calls it.\n\nApplied by a later issue."""\n'
    )
    (tmp_path / "kernel/pci/bus.py").write_text(
        '"""drivers/pci/bus.c (Linux 7.1-rc4 with the v17 series)."""\n'
    )
    bus, msi = "kernel/pci/bus.py", "kernel/pci/msi/msi.py"
    not_this = "its version paragraph says 'with the v17 series', which this tree is not"
    schedule = "speaks of the project's schedule: 'Applied by a later issue'"
    assert problems("mainline:5", tmp_path) == [
        f"mainline:5: {bus}:1: {not_this}",
        f"mainline:5: {msi}:2: changed by this tree's patches, but its version paragraph lacks 'as merged'",
        f"mainline:5: {msi}:4: a v17 patch number in a paragraph that does not say it is v17's: "
        "'3/7 \"PCI: Fail FLR\" calls it.'",
        f"mainline:5: {msi}:6: {schedule}",
    ]
    # in a v17 tree that does not change them, only the claims that are false everywhere
    assert problems("v17:3", tmp_path) == [f"v17:3: {bus}:1: {not_this}", f"v17:3: {msi}:6: {schedule}"]
