"""docs/: the reading guide stays true to the tree -- every relative link leads to a
file, every test it names exists, and the diff excerpts of the patch pages are lines of
their patches.  (The commands and scripts the pages show are run by tests/docs.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.offered import dropped_when_merged, merged

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
_TEST = re.compile(r"`(test_\w+)`")


def _defined_tests() -> set[str]:
    names: set[str] = set()
    for f in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^def (test_\w+)", f.read_text(), flags=re.M))
    return names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_lead_to_files(doc: Path) -> None:
    targets = [t for t in _LINK.findall(doc.read_text()) if "://" not in t]
    broken = [t for t in targets if not (doc.parent / t).resolve().exists()]
    assert broken == []


#: Named on purpose though not in this tree: the baseline's test that patch 1 replaces.
BASELINE_ONLY = {"test_dev_reset_slot_function_refuses_multifunction_in_the_base"}


def test_tests_named_in_the_docs_exist() -> None:
    """The docs describe this checkout (v17); on the merged tree a test they name may
    be one of v17's own tests that the merged series does not carry (it is in a patch
    of series/v17/)."""
    tests = _defined_tests() | BASELINE_ONLY
    if merged():
        tests |= {t for t in dropped_when_merged() if t.startswith("test_")}
    # mapping.md is generated from kernel code, whose function names may start with test_
    prose = [d for d in DOCS if d.name != "mapping.md"]
    named = {(d.relative_to(ROOT).as_posix(), t) for d in prose for t in _TEST.findall(d.read_text())}
    assert sorted((d, t) for d, t in named if t not in tests) == []


def test_every_patch_has_its_page() -> None:
    pages = sorted(p.name[:2] for p in (ROOT / "docs/patches").glob("0[1-7]-*.md"))
    assert pages == ["01", "02", "03", "04", "05", "06", "07"]


def test_overview_shows_the_generated_passthrough_kvm_diagram() -> None:
    """docs/diagrams/passthrough-kvm.md is what ``zpcisim run passthrough-kvm --diagram``
    wrote; the overview carries the same mermaid block."""
    block = re.compile(r"```mermaid\n.*?```", re.S)
    generated = block.findall((ROOT / "docs/diagrams/passthrough-kvm.md").read_text())
    assert len(generated) == 1
    assert generated[0] in block.findall((ROOT / "docs/overview.md").read_text())
    assert "Leaving recovery of pass-through device to user-space" in generated[0]


def _in_order(lines: list[str], within: list[str]) -> list[str]:
    """The lines of ``lines`` not found in ``within`` in that order (a subsequence)."""
    pos, missing = 0, []
    for ln in lines:
        try:
            pos = within.index(ln, pos) + 1
        except ValueError:
            missing.append(ln)
    return missing


@pytest.mark.parametrize("page", sorted((ROOT / "docs/patches").glob("0[1-7]-*.md")), ids=lambda p: p.name)
def test_the_diff_excerpts_of_a_patch_page_are_lines_of_its_patch(page: Path) -> None:
    """A ```diff block on docs/patches/0N-*.md shows lines of series/v17/000N-*.patch, in
    the patch's order within a block (``...`` lines stand for what is left out)."""
    (patch,) = (ROOT / "series/v17").glob(f"00{page.name[:2]}-*.patch")
    blocks = re.findall(r"^```diff\n(.*?)^```", page.read_text(), flags=re.M | re.S)
    assert blocks
    lines = patch.read_text().splitlines()
    shown = [[ln for ln in b.splitlines() if ln.strip("+- ") not in ("...", "")] for b in blocks]
    assert [_in_order(block, lines) for block in shown] == [[] for _ in shown]
