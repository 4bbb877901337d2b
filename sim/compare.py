"""``zpcisim compare NAME [--from A] [--to B]``: one scenario run on two kernel trees
and the two timelines side by side, the differences marked.

The trees are :mod:`sim.trees`' names: ``baseline`` (Linux 7.1-rc4), ``v17`` (this
checkout), ``v17:N`` (the baseline with patches 1..N of v17), ``mainline`` and
``mainline:N``.  By default ``--from baseline --to v17``: the series as a whole;
``--from v17:2 --to v17:3`` shows what patch 3 alone changes.  A tree other than this
package's own is written by :mod:`sim.series` into a cache (:func:`sim.trees.tree_path`),
so a repeated compare only runs the scenarios.

The scenario runs in a fresh Python process in each tree (``python -m sim run NAME
--json`` with ``PYTHONPATH`` set to that tree), so each run has its own kernel.
``sim/`` is not changed by the series: every tree runs the same scenario, whose
expectations describe v17 and may not hold on an older kernel -- that is the point,
so a run's unmet expectations are counted (one line per tree, with the ``zpcisim
run`` command that lists them), not treated as an error; what is compared is the
JSON stream of steps.

Markers between the columns: ``=`` the same step in both runs, ``<`` only in the
left run, ``>`` only in the right one, ``|`` a step that differs.  Steps are matched
on actor, kind and text (the step numbers differ as soon as one step does), with
what is not behaviour normalised away: process ids and file descriptor numbers
(``pid 4711``, ``fd 6``, ``eventfd 7`` compare as ``pid N``, ``fd N``,
``eventfd N``).

Works from a source checkout and from an installed package alike: the series files
ship with the package (:mod:`sim.trees`).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import attrs

from sim import trees
from sim.trees import TreeError, checkout_root

__all__ = [
    "CompareError",
    "Row",
    "Run",
    "align",
    "checkout_root",
    "compare",
    "main",
    "normalise",
    "render",
    "run_scenario",
    "title",
]


class CompareError(RuntimeError):
    """A comparison could not be made; the message says why, for the user.  ``usage``
    is true when the user asked for something that is not there (exit 2)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@attrs.frozen
class Run:
    """One scenario run: its steps (the ``--json`` objects), exit status, stderr, and
    the expectations it reported unmet."""

    steps: tuple[dict[str, Any], ...]
    returncode: int
    stderr: str
    unmet: tuple[str, ...] = ()


@attrs.frozen
class Row:
    mark: str  # "=", "<", ">" or "|"
    left: dict[str, Any] | None
    right: dict[str, Any] | None


def title(tree: str) -> str:
    """A column's title: the tree and what it is."""
    if tree == "baseline":
        return "baseline (Linux 7.1-rc4)"
    if tree == trees.THIS_TREE:
        return "v17 (this tree)"
    series, _, n = tree.partition(":")
    if n:
        return f"{tree} ({series} patches 1..{n})" if n != "1" else f"{tree} ({series} patch 1)"
    return tree


def run_scenario(tree: Path, name: str) -> Run:
    """``python -m sim run NAME --json`` in ``tree``: the steps it printed and the
    unmet expectations it reported, whatever its exit status."""
    try:
        r = trees.run_in_tree(tree, ["run", name, "--json"])
    except TreeError as e:
        raise CompareError(str(e)) from e
    steps: list[dict[str, Any]] = []
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "actor" in obj and "text" in obj:
                steps.append(obj)
    return Run(tuple(steps), r.returncode, r.stderr, tuple(_unmet(name, r.stderr)))


def _unmet(name: str, stderr: str) -> list[str]:
    """The expectations a ``zpcisim run`` reported unmet on its stderr (``NAME:
    expectation not met: ...``, ``NAME: FAIL: expectation not met: ...``)."""
    pat = re.compile(rf"^{re.escape(name)}: (?:FAIL: )?(expectation not met: |the run crashed: )(.*)$")
    return [m[2] if m[1].startswith("exp") else m[1] + m[2] for m in map(pat.match, stderr.splitlines()) if m]


#: What is not behaviour: a process id or a file descriptor number.
_VOLATILE: Final = re.compile(r"\b(pid|fd|eventfd) \d+\b")


def normalise(text: str) -> str:
    """``text`` with process ids and fd numbers replaced by ``N``."""
    return _VOLATILE.sub(lambda m: f"{m[1]} N", text)


def _key(step: dict[str, Any]) -> tuple[str, str, str]:
    return (str(step.get("actor", "")), str(step.get("kind", "")), normalise(str(step.get("text", ""))))


def align(left: Sequence[dict[str, Any]], right: Sequence[dict[str, Any]]) -> list[Row]:
    """The two step sequences aligned as a diff: equal steps side by side, the others
    marked as only-left, only-right, or differing (same actor and kind, other text)."""
    sm = difflib.SequenceMatcher(a=[_key(s) for s in left], b=[_key(s) for s in right], autojunk=False)
    rows: list[Row] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            rows.extend(Row("=", left[i], right[j1 + i - i1]) for i in range(i1, i2))
        elif op == "delete":
            rows.extend(Row("<", left[i], None) for i in range(i1, i2))
        elif op == "insert":
            rows.extend(Row(">", None, right[j]) for j in range(j1, j2))
        else:
            rows.extend(_pair(left[i1:i2], right[j1:j2]))
    return rows


def _pair(left: Sequence[dict[str, Any]], right: Sequence[dict[str, Any]]) -> list[Row]:
    """A stretch where the runs differ: steps of the same actor and kind face each
    other as differing; the rest stand alone."""
    a, b = [_key(s)[:2] for s in left], [_key(s)[:2] for s in right]
    sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    rows: list[Row] = []
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            rows.extend(Row("|", left[i], right[j1 + i - i1]) for i in range(i1, i2))
            continue
        rows.extend(Row("<", left[i], None) for i in range(i1, i2))
        rows.extend(Row(">", None, right[j]) for j in range(j1, j2))
    return rows


def _cell(step: dict[str, Any] | None, width: int) -> list[str]:
    if step is None:
        return [""]
    head = f"{step.get('actor', ''):<11} {step.get('kind', ''):<5} "
    text = normalise(str(step.get("text", "")))
    if "ret" in step and step.get("kind") == "ioctl" and " = " not in text:
        text += f" = {step['ret']}"
    return wrap(head + text, width, 2)


def wrap(text: str, width: int, indent: int) -> list[str]:
    """``text`` in lines of at most ``width`` columns, continuation lines indented by
    ``indent``; a word longer than a line stands alone on its line, never split (an
    identifier or a path stays whole)."""
    return textwrap.wrap(
        text,
        width=width,
        subsequent_indent=" " * indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [text.rstrip()]


def _fit(text: str, width: int) -> list[str]:
    return wrap(text, width, 2)


def render(
    name: str,
    base: Run,
    new: Run,
    rows: Sequence[Row],
    width: int,
    diff_only: bool = False,
    *,
    left: str = "baseline",
    right: str = trees.THIS_TREE,
) -> str:
    col = (width - 3) // 2
    out: list[str] = []
    same = sum(r.mark == "=" for r in rows)
    only_l = sum(r.mark == "<" for r in rows)
    only_r = sum(r.mark == ">" for r in rows)
    changed = sum(r.mark == "|" for r in rows)
    out += _fit(f"zpcisim compare {name}: the same scenario on {left} (left) and {right} (right)", width)
    out += _fit(
        f"  {same} steps the same, {changed} differ, {only_l} only on {left}, {only_r} only on {right}",
        width,
    )
    for tree, run in ((left, base), (right, new)):
        out += wrap(f"  {tree}: {len(run.steps)} steps, {_status(run, name, tree)}", width, 4)
    out.append("")
    lt, rt = title(left), title(right)
    out.append(f"{lt[:col]:<{col}}   {rt[:col]}".rstrip())
    out.append(f"{'-' * col}   {'-' * col}")
    hidden = 0
    for r in rows:
        if diff_only and r.mark == "=":
            hidden += 1
            continue
        if hidden:
            out.append(_folded(col, hidden))
            hidden = 0
        lc, rc = _cell(r.left, col), _cell(r.right, col)
        for k in range(max(len(lc), len(rc))):
            a = lc[k] if k < len(lc) else ""
            b = rc[k] if k < len(rc) else ""
            mark = r.mark if k == 0 else " "
            out.append(f"{a:<{col}} {mark} {b}".rstrip())
    if hidden:
        out.append(_folded(col, hidden))
    return "\n".join(out)


def _folded(col: int, n: int) -> str:
    return f"{'':<{col}} ... {n} equal step{'' if n == 1 else 's'}"


def _status(run: Run, name: str, tree: str) -> str:
    """How the run of ``name`` on ``tree`` ended, in one line: the unmet expectations
    are counted, not listed (on a tree without the series most of them are unmet, as
    they should be), with the command that lists them."""
    if run.returncode == 0:
        return "the scenario's expectations held (exit 0)"
    if run.returncode == 1:
        n = len(run.unmet)
        crashed = [u for u in run.unmet if u.startswith("the run crashed: ")]
        if crashed:
            return f"{crashed[0]} (exit 1)"
        if n == 0:
            return "the run failed (exit 1)"
        kernel = "" if tree == trees.THIS_TREE else f" --kernel {tree}"
        return f"{n} of the scenario's expectations not met (exit 1; zpcisim run {name}{kernel} lists them)"
    return f"exit {run.returncode}"


def compare(
    name: str,
    root: Path | None = None,
    *,
    left: str = "baseline",
    right: str = trees.THIS_TREE,
    runner: Callable[[Path, str], Run] = run_scenario,
    tree_writer: Callable[[str, Path], Path] = lambda spec, root: trees.tree_path(spec, root),
    width: int = 80,
    diff_only: bool = False,
) -> str:
    """Run ``name`` on the trees ``left`` and ``right`` (written from the checkout
    ``root``, by default from this package, where they are not its own); the
    rendering, ``width`` columns wide."""
    try:
        root = trees.source(root).root
    except TreeError as e:
        raise CompareError(str(e)) from e
    try:
        left, right = trees.normalise_tree(left, root), trees.normalise_tree(right, root)
    except TreeError as e:
        raise CompareError(str(e), usage=e.usage) from e
    runs: list[Run] = []
    for tree in (right, left):
        try:
            path = root if tree == trees.THIS_TREE else tree_writer(tree, root)
        except TreeError as e:
            raise CompareError(str(e), usage=e.usage) from e
        run = runner(path, name)
        if not run.steps:
            said = "this tree" if tree == trees.THIS_TREE else f"the {tree} tree"
            raise CompareError(_no_steps(name, said, run), usage=run.returncode == 2)
        runs.append(run)
    new, base = runs
    return render(name, base, new, align(base.steps, new.steps), width, diff_only, left=left, right=right)


def _no_steps(name: str, where: str, run: Run) -> str:
    tail = "\n".join(run.stderr.strip().splitlines()[-8:])
    return f"the run of {name!r} on {where} printed no steps (exit {run.returncode})" + (
        f":\n{tail}" if tail else ""
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="the scenario (zpcisim list)")
    p.add_argument(
        "--from",
        dest="left",
        metavar="TREE",
        default="baseline",
        help="the left tree (default baseline): baseline, v17, v17:N, mainline, mainline:N",
    )
    p.add_argument(
        "--to",
        dest="right",
        metavar="TREE",
        default=trees.THIS_TREE,
        help=f"the right tree (default {trees.THIS_TREE})",
    )
    p.add_argument("--diff-only", action="store_true", help="fold the steps that are the same in both runs")


def run_command(ns: argparse.Namespace, width: int) -> int:
    try:
        text = compare(ns.name, left=ns.left, right=ns.right, width=width, diff_only=ns.diff_only)
    except CompareError as e:
        print(f"zpcisim compare: {e}", file=sys.stderr)
        return 2 if e.usage else 1
    print(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``zpcisim compare`` on its own (``python -m sim.compare``), 80 columns wide."""
    p = argparse.ArgumentParser(prog="zpcisim compare", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return run_command(p.parse_args(argv), 80)


if __name__ == "__main__":
    sys.exit(main())
