"""The docs are executed (tests/docs/transcripts.py says how): every ``console`` block
of README.md and docs/**.md runs its ``zpcisim`` commands as a user types them and
compares what they print; every ``python`` block runs and prints its ``text`` block.
A transcript anywhere else (a ``$ zpcisim`` line outside a console block) fails, so no
shown output escapes the check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sybil import Example

from tests.docs.transcripts import (
    ROOT,
    Command,
    examples,
    matches,
    pages,
    parse_console,
    refreshed,
    run_zpcisim,
)

EXAMPLES = [(page, ex) for page in pages() for ex in examples(page)]


def _id(item: tuple[Path, Example]) -> str:
    page, ex = item
    return f"{page.relative_to(ROOT).as_posix()}:{ex.line}"


@pytest.mark.parametrize("item", EXAMPLES, ids=[_id(i) for i in EXAMPLES])
def test_the_page_shows_what_runs(item: tuple[Path, Example]) -> None:
    _page, example = item
    example.evaluate()


def test_the_docs_have_examples() -> None:
    """The pages that show runs are executed (a lexer that finds nothing would pass)."""
    by_page = {p.relative_to(ROOT).as_posix() for p, _ in EXAMPLES}
    assert {"README.md", "docs/scripting.md", "docs/overview.md", "docs/mainline.md"} <= by_page
    commands = [c for _, ex in EXAMPLES if isinstance(ex.parsed, list) for c in ex.parsed]
    assert len(commands) >= 8


_FENCE = re.compile(r"^([ \t]*)```(\S*)[^\n]*\n.*?^\1```", re.M | re.S)


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_transcript_outside_a_console_block(page: Path) -> None:
    text = page.read_text()
    outside = _FENCE.sub(lambda m: "" if m.group(2) == "console" else m.group(0), text)
    inside_other = [m.group(0) for m in _FENCE.finditer(text) if m.group(2) != "console"]
    stray = [ln for ln in outside.splitlines() if re.match(r"\s*\$ ", ln)]
    stray += [ln for b in inside_other for ln in b.splitlines() if re.match(r"\s*\$ zpcisim", ln)]
    assert stray == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_examples_fit_80_columns(page: Path) -> None:
    """The commands, their output (80 columns in a pipe) and the scripts read at 80
    columns."""
    text = page.read_text()
    blocks = [m.group(0) for m in _FENCE.finditer(text) if m.group(2) in ("console", "python")]
    assert [ln for b in blocks for ln in b.splitlines() if len(ln) > 80] == []


# -- the format itself --------------------------------------------------------------------


def test_console_block_is_commands_with_their_output() -> None:
    src = "$ zpcisim list\na\n  b\n\n$ zpcisim run x --pec 0x40\n...\n[1]\n"
    assert parse_console(src) == [
        Command("zpcisim list", ("a", "  b", "")),
        Command("zpcisim run x --pec 0x40", ("...", "[1]")),
    ]
    assert parse_console(src)[1].args == ["run", "x", "--pec", "0x40"]


def test_only_zpcisim_commands_are_transcripts() -> None:
    with pytest.raises(ValueError, match="only zpcisim"):
        _ = Command("python -m bench", ()).args
    with pytest.raises(ValueError, match="before the first"):
        parse_console("output\n$ zpcisim list\n")


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),
        (["a", "b"], ["a"], False),
        (["a", "...", "d"], ["a", "b", "c", "d"], True),
        (["a", "...", "d"], ["a", "d"], True),
        (["a", "...", "d"], ["a", "b", "c"], False),
        (["...", "c", "..."], ["a", "b", "c", "d"], True),
        (["...", "c"], ["a", "c", "c"], True),
        (["...", "x", "..."], ["a", "b"], False),
        (["...", "b", "...", "a"], ["a", "b"], False),
        ([], [], True),
        (["..."], [], True),
    ],
)
def test_ellipsis_matches_any_run_of_lines(expected: list[str], actual: list[str], ok: bool) -> None:
    assert matches(expected, actual) is ok


def test_update_keeps_an_excerpt_and_follows_renumbered_lines() -> None:
    shown = ["...", "  20  fw  event  PEC 0x3a", "...", "  47  guest  log  ready", "...", "done: PASS"]
    new = ["   1  note", "  21  fw  event  PEC 0x3a", "  22  x", "  48  guest  log  ready", "done: PASS"]
    assert refreshed(shown, new) == ["...", new[1], "...", new[3], "...", "done: PASS"]
    assert matches(refreshed(shown, new), new)
    # an excerpt that starts (ends) without "..." keeps the first (last) lines
    assert refreshed(["a", "...", "z"], ["A", "b", "Z"]) == ["A", "...", "Z"]
    assert refreshed(["a", "b"], ["c"]) == ["c"]  # no excerpt: the whole output


def test_the_diagram_page_is_what_the_run_writes() -> None:
    """docs/diagrams/passthrough-kvm.md is ``zpcisim run passthrough-kvm --diagram``'s
    output (tests/tools/test_docs.py checks docs/overview.md carries its diagram)."""
    res = run_zpcisim("run", "passthrough-kvm", "--diagram", "-")
    assert (res.returncode, res.stderr) == (0, "passthrough-kvm: PASS\n")
    assert res.stdout == (ROOT / "docs/diagrams/passthrough-kvm.md").read_text()


def test_update_rewrites_a_stale_output_and_keeps_the_page_around_it(tmp_path: Path) -> None:
    from tests.docs.transcripts import update_page

    page = tmp_path / "page.md"
    page.write_text(
        "Intro.\n\n- item:\n\n  ```console\n  $ zpcisim list\n  stale\n  ...\n"
        "  old last line\n  ```\n\nEnd.\n"
    )
    assert update_page(page) is True
    text = page.read_text()
    assert text.startswith("Intro.\n\n- item:\n\n  ```console\n  $ zpcisim list\n  passthrough-kvm ")
    assert text.endswith(
        "  ...\n                         in turn]\n  ```\n\nEnd.\n"
    )
    (example,) = examples(page)
    assert example.evaluate() is None  # what it wrote passes
    assert update_page(page) is False  # and a second run changes nothing
