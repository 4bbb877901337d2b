"""The docs are executed: every command shown with its output, and every Python
block, in README.md and docs/**.md.  Sybil finds the blocks; this module says what
they mean and how they run.

Two kinds of fenced block are examples:

```` ```console ````
    a shell transcript in cram's format: a line ``$ zpcisim ARGS`` is a command,
    the lines after it (up to the next ``$`` line or the end of the block) its
    output, stdout and stderr together as a terminal shows them; a last line
    ``[N]`` is a non-zero exit status (no such line: the command exits 0).  A line
    ``...`` stands for any run of lines, none included, as cram's and doctest's
    ELLIPSIS do: that is how an excerpt is marked.  Trailing blanks are ignored.
    The command runs as a user types it (:func:`tests.installed.zpcisim_argv`: the
    console script named by ``$ZPCISIM_BIN``, else ``python -m sim`` from this
    checkout) in a scratch directory with ``COLUMNS`` unset, so its output is what
    a pipe gets: 80 columns.  Only ``zpcisim`` commands are transcripts; a figure
    that depends on the machine (a timing) is written in prose with the command
    that measures it and the machine it was measured on, never in a transcript.
```` ```python ````
    a script, run from the top of the checkout (``PYTHONPATH=.``) in a process of
    its own.  It must exit 0 without writing to stderr, and print exactly the
    ```` ```text ```` block that comes next after it in the page (with only prose
    between), or nothing when the next block is not ```` ```text ````.  ``...``
    lines work there too.

``pytest tests/docs`` runs them (tests/docs/test_transcripts.py); the test never
rewrites a page.  A maintainer who changed an output on purpose refreshes the pages
from real runs, the way ``cram -i`` does, and reads the diff before committing::

    python -m tests.docs.transcripts --update            # README.md and docs/**.md
    python -m tests.docs.transcripts --update README.md  # one page

An excerpt keeps its ``...`` lines: each shown line is replaced by the line of the
new output that is the same or, failing that, the closest (a renumbered step), in
order.  ``--update`` also rewrites docs/diagrams/passthrough-kvm.md from
``zpcisim run passthrough-kvm --diagram`` and the copy of its diagram in
docs/overview.md.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown.lexers import FencedCodeBlockLexer

from tests.installed import HOW, run_zpcisim

ROOT = Path(__file__).resolve().parents[2]
ELLIPSIS = "..."
_STATUS = re.compile(r"^\[(\d+)\]$")


def pages() -> list[Path]:
    """README.md and every page under docs/ (docs/mapping.md holds no examples, but is
    read all the same)."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


# -- the transcript format ------------------------------------------------------------


@attrs.frozen
class Command:
    """One ``$`` line of a console block and the output shown under it."""

    line: str
    expected: tuple[str, ...]

    @property
    def args(self) -> list[str]:
        words = shlex.split(self.line)
        if not words or words[0] != "zpcisim":
            raise ValueError(f"only zpcisim commands are transcripts: $ {self.line}")
        return words[1:]


def parse_console(source: str) -> list[Command]:
    """The commands of a console block, in order."""
    commands: list[Command] = []
    line: str | None = None
    out: list[str] = []
    for raw in source.splitlines():
        text = raw.rstrip()
        if text.startswith("$ "):
            if line is not None:
                commands.append(Command(line, tuple(out)))
            line, out = text[2:], []
        elif line is None:
            if text:
                raise ValueError(f"output before the first $ line: {text!r}")
        else:
            out.append(text)
    if line is not None:
        commands.append(Command(line, tuple(out)))
    return commands


def run_command(cmd: Command) -> list[str]:
    """What the terminal shows for ``cmd``: stdout then stderr, and ``[N]`` for a
    non-zero exit."""
    res = run_zpcisim(*cmd.args)
    lines = [ln.rstrip() for ln in (res.stdout + res.stderr).splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if res.returncode != 0:
        lines.append(f"[{res.returncode}]")
    return lines


def matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Whether ``actual`` is ``expected`` with each ``...`` line standing for any run of
    lines (none included)."""
    # positions in `actual` that the expected lines so far can end at
    reach = {0}
    for exp in expected:
        if exp == ELLIPSIS:
            lo = min(reach, default=len(actual) + 1)
            reach = set(range(lo, len(actual) + 1))
        else:
            reach = {i + 1 for i in reach if i < len(actual) and actual[i] == exp}
        if not reach:
            return False
    return len(actual) in reach


def refreshed(expected: Sequence[str], actual: Sequence[str]) -> list[str]:
    """``expected`` brought up to date from ``actual``: the whole output, or, for an
    excerpt, its ``...`` lines kept and each shown line replaced by a line of
    ``actual`` -- the first lines by the first lines and the last by the last where
    the excerpt starts or ends without ``...``, the others by the same or else the
    closest later line (a renumbered step)."""
    if ELLIPSIS not in expected:
        return list(actual)
    segments: list[list[str]] = [[]]
    for exp in expected:
        if exp == ELLIPSIS:
            segments.append([])
        else:
            segments[-1].append(exp)
    head, *middle, tail = segments
    out = list(actual[: len(head)])
    pos = len(head)
    end = len(actual) - len(tail)
    for seg in middle:
        out.append(ELLIPSIS)
        for exp in seg:
            rest = range(pos, max(pos, end))
            if not rest:
                break
            same = [i for i in rest if actual[i] == exp]
            i = (
                same[0]
                if same
                else max(rest, key=lambda j: difflib.SequenceMatcher(None, exp, actual[j]).ratio())
            )
            out.append(actual[i])
            pos = i + 1
    out.append(ELLIPSIS)
    out.extend(actual[max(end, pos) :] if tail else [])
    return out


def mismatch(what: str, expected: Sequence[str], actual: Sequence[str]) -> str:
    diff = difflib.unified_diff(list(expected), list(actual), "shown", "output", lineterm="", n=2)
    return (
        f"{what}: the output differs from the page (ran {HOW}; `python -m tests.docs.transcripts"
        " --update` rewrites the page from a real run)\n" + "\n".join(diff)
    )


# -- Python blocks ----------------------------------------------------------------------


def run_python(source: str) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("COLUMNS", None)
    res = subprocess.run(
        [sys.executable, "-"], input=source, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    return res.returncode, res.stdout, res.stderr


def _lines(text: str) -> list[str]:
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


# -- Sybil ------------------------------------------------------------------------------


@attrs.frozen
class PythonBlock:
    source: str
    #: the ```text block next after it, or None
    output: str | None


def _blocks(document: Document) -> list[Region]:
    """Every fenced block of the page, in order, whatever its language."""
    regions = list(FencedCodeBlockLexer(language=r"[\w-]*")(document))
    return sorted(regions, key=lambda r: r.start)


def _language(region: Region) -> str:
    return str(region.lexemes["language"]).strip()


def console_parser(document: Document) -> Iterator[Region]:
    for region in _blocks(document):
        if _language(region) == "console":
            commands = parse_console(str(region.lexemes["source"]))
            yield Region(region.start, region.end, commands, evaluate_console)


def python_parser(document: Document) -> Iterator[Region]:
    blocks = _blocks(document)
    for n, region in enumerate(blocks):
        if _language(region) != "python":
            continue
        nxt = blocks[n + 1] if n + 1 < len(blocks) else None
        output = str(nxt.lexemes["source"]) if nxt is not None and _language(nxt) == "text" else None
        yield Region(
            region.start, region.end, PythonBlock(str(region.lexemes["source"]), output), evaluate_python
        )


def evaluate_console(example: Example) -> str | None:
    problems = []
    for cmd in example.parsed:
        actual = run_command(cmd)
        if not matches(cmd.expected, actual):
            problems.append(mismatch(f"$ {cmd.line}", cmd.expected, actual))
    return "\n\n".join(problems) or None


def evaluate_python(example: Example) -> str | None:
    block: PythonBlock = example.parsed
    rc, out, err = run_python(block.source)
    if (rc, err) != (0, ""):
        return f"the script exits {rc}, stderr:\n{err}"
    expected = _lines(block.output) if block.output is not None else []
    actual = _lines(out)
    if not matches(expected, actual):
        return mismatch("the script", expected, actual)
    return None


SYBIL = Sybil(parsers=[console_parser, python_parser], path=str(ROOT))


def examples(page: Path) -> list[Example]:
    return list(SYBIL.parse(page))


# -- --update -----------------------------------------------------------------------------


def _fence_body(text: str, region: Region, lines: Sequence[str]) -> tuple[int, int, str]:
    """The character range of a fenced block's body (between its fence lines) and
    ``lines`` as that body, indented as the fence is (a block inside a list item)."""
    line_start = text.rfind("\n", 0, region.start) + 1
    fence_line = text[line_start : text.index("\n", region.start)]
    indent = fence_line[: len(fence_line) - len(fence_line.lstrip())]
    block = text[region.start : region.end]
    first = block.index("\n") + 1
    last = block.rstrip().rfind("\n") + 1
    body = "".join(f"{indent}{ln}\n" if ln else "\n" for ln in lines)
    return region.start + first, region.start + last, body


def update_page(page: Path) -> bool:
    """Rewrite the outputs shown in ``page`` from real runs; whether it changed."""
    text = page.read_text()
    document = Document(text, str(page))
    edits: list[tuple[int, int, str]] = []
    blocks = _blocks(document)
    for n, region in enumerate(blocks):
        lang = _language(region)
        if lang == "console":
            body: list[str] = []
            for cmd in parse_console(str(region.lexemes["source"])):
                body.append(f"$ {cmd.line}")
                body.extend(refreshed(cmd.expected, run_command(cmd)))
            edits.append(_fence_body(text, region, body))
        elif lang == "python" and n + 1 < len(blocks) and _language(blocks[n + 1]) == "text":
            nxt = blocks[n + 1]
            rc, out, err = run_python(str(region.lexemes["source"]))
            if (rc, err) != (0, ""):
                raise SystemExit(f"{page}: a script exits {rc}:\n{err}")
            new = refreshed(_lines(str(nxt.lexemes["source"])), _lines(out))
            edits.append(_fence_body(text, nxt, new))
    new_text = text
    for start, end, body_text in sorted(edits, reverse=True):
        new_text = new_text[:start] + body_text + new_text[end:]
    if new_text != text:
        page.write_text(new_text)
    return new_text != text


DIAGRAM = ROOT / "docs/diagrams/passthrough-kvm.md"
OVERVIEW = ROOT / "docs/overview.md"
_MERMAID = re.compile(r"```mermaid\n.*?```", re.S)


def update_diagram() -> bool:
    """docs/diagrams/passthrough-kvm.md from a run, and its copy in docs/overview.md."""
    res = run_zpcisim("run", "passthrough-kvm", "--diagram", "-")
    if res.returncode != 0:
        raise SystemExit(f"zpcisim run passthrough-kvm --diagram - exits {res.returncode}:\n{res.stderr}")
    old_diagram, old_overview = DIAGRAM.read_text(), OVERVIEW.read_text()
    (old_block,) = _MERMAID.findall(old_diagram)
    (new_block,) = _MERMAID.findall(res.stdout)
    DIAGRAM.write_text(res.stdout)
    OVERVIEW.write_text(old_overview.replace(old_block, new_block))
    return (DIAGRAM.read_text(), OVERVIEW.read_text()) != (old_diagram, old_overview)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.docs.transcripts",
        description="Rewrite the outputs shown in the docs from real runs (cram -i); read the diff after.",
    )
    ap.add_argument("--update", action="store_true", required=True, help="rewrite the pages in place")
    ap.add_argument(
        "pages", nargs="*", type=Path, help="pages to rewrite (default: README.md and docs/**.md)"
    )
    args = ap.parse_args(argv)
    chosen = [p.resolve() for p in args.pages] or pages()
    changed = [p for p in chosen if update_page(p)]
    if not args.pages and update_diagram():
        changed += [DIAGRAM, OVERVIEW]
    for p in changed:
        print(f"rewrote {p.relative_to(ROOT)}")
    if not changed:
        print("no page changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
