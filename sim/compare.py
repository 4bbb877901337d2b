"""``zpcisim compare NAME``: one scenario run twice -- on the tree before the v17 series
(Linux 7.1-rc4) and on this one -- and the two timelines side by side, the
differences marked.

The baseline tree is written with ``python -m tools.series baseline DIR`` (the seven
patches of ``series/`` reverse-applied to a copy of this checkout) into a temporary
directory.  The scenario runs in a fresh Python process in each tree
(``python -m sim run NAME --json`` with ``PYTHONPATH`` set to that tree), so each run
has its own kernel.  ``sim/`` is not changed by the series: the baseline runs the same
scenario on the old kernel, and its expectations (written for v17) may fail there --
that is the point, so the baseline's exit status is reported, not treated as an error;
what is compared is the JSON stream of steps.

Markers between the columns: ``=`` the same step in both runs, ``<`` only before the
series, ``>`` only with it, ``|`` a step that differs.  Steps are matched on actor,
kind and text (the step numbers differ as soon as one step does).

Needs a source checkout (``series/`` and ``tools/series.py`` beside ``sim/``); an
installed package without one says so and exits 1.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = [
    "CompareError",
    "Row",
    "Run",
    "align",
    "checkout_root",
    "compare",
    "main",
    "render",
    "run_scenario",
    "write_baseline",
]

#: Seconds a scenario run may take in either tree.
RUN_TIMEOUT = 300

LEFT_TITLE = "before the series (Linux 7.1-rc4)"
RIGHT_TITLE = "with the v17 series (this tree)"


class CompareError(RuntimeError):
    """A comparison could not be made; the message says why, for the user."""


@attrs.frozen
class Run:
    """One scenario run: its steps (the ``--json`` objects), exit status and stderr."""

    steps: tuple[dict[str, Any], ...]
    returncode: int
    stderr: str


@attrs.frozen
class Row:
    mark: str  # "=", "<", ">" or "|"
    left: dict[str, Any] | None
    right: dict[str, Any] | None


def checkout_root(start: Path | None = None) -> Path | None:
    """The source checkout this ``sim`` package belongs to, or None when it is an
    installed package without ``series/`` and ``tools/series.py`` beside it."""
    root = Path(__file__).resolve().parent.parent if start is None else start
    if (root / "series").is_dir() and (root / "tools" / "series.py").is_file():
        return root
    return None


def write_baseline(root: Path, dst: Path) -> None:
    """``python -m tools.series baseline dst`` in the checkout ``root``."""
    r = subprocess.run(
        [sys.executable, "-m", "tools.series", "baseline", str(dst)],
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise CompareError(
            "could not write the baseline tree (python -m tools.series baseline):\n" + r.stderr.strip()
        )


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env.pop("PYTHONSAFEPATH", None)
    return env


def run_scenario(tree: Path, name: str) -> Run:
    """``python -m sim run NAME --json`` in ``tree``: the steps it printed, whatever its
    exit status."""
    try:
        r = subprocess.run(
            [sys.executable, "-m", "sim", "run", name, "--json"],
            cwd=tree,
            env=_env(tree),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise CompareError(f"the run of {name!r} in {tree} took longer than {RUN_TIMEOUT} s") from e
    steps: list[dict[str, Any]] = []
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict) and "actor" in obj and "text" in obj:
                steps.append(obj)
    return Run(tuple(steps), r.returncode, r.stderr)


def _key(step: dict[str, Any]) -> tuple[str, str, str]:
    return (str(step.get("actor", "")), str(step.get("kind", "")), str(step.get("text", "")))


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
    text = str(step.get("text", ""))
    if "ret" in step and step.get("kind") == "ioctl" and " = " not in text:
        text += f" = {step['ret']}"
    return textwrap.wrap(
        head + text,
        width=max(width, 30),
        subsequent_indent=" " * len(head),
        break_long_words=True,
        break_on_hyphens=False,
    ) or [head.rstrip()]


def render(name: str, base: Run, new: Run, rows: Sequence[Row], width: int, diff_only: bool = False) -> str:
    col = (width - 3) // 2
    out: list[str] = []
    same = sum(r.mark == "=" for r in rows)
    only_l = sum(r.mark == "<" for r in rows)
    only_r = sum(r.mark == ">" for r in rows)
    changed = sum(r.mark == "|" for r in rows)
    out.append(f"zpcisim compare {name}: the same scenario before and with the v17 series")
    out.append(
        f"  {same} steps the same, {changed} differ, {only_l} only before the series, {only_r} only with it"
    )
    out.append(f"  before: {len(base.steps)} steps, {_status(base, expected_fail=True)}")
    out.append(f"  with:   {len(new.steps)} steps, {_status(new, expected_fail=False)}")
    out.append("")
    out.append(f"{LEFT_TITLE:<{col}}   {RIGHT_TITLE}")
    out.append(f"{'-' * col}   {'-' * col}")
    hidden = 0
    for r in rows:
        if diff_only and r.mark == "=":
            hidden += 1
            continue
        if hidden:
            out.append(_folded(col, hidden))
            hidden = 0
        left, right = _cell(r.left, col), _cell(r.right, col)
        for k in range(max(len(left), len(right))):
            a = left[k] if k < len(left) else ""
            b = right[k] if k < len(right) else ""
            mark = r.mark if k == 0 else " "
            out.append(f"{a:<{col}} {mark} {b}".rstrip())
    if hidden:
        out.append(_folded(col, hidden))
    return "\n".join(out)


def _folded(col: int, n: int) -> str:
    return f"{'':<{col}} ... {n} equal step{'' if n == 1 else 's'}"


def _status(run: Run, expected_fail: bool) -> str:
    if run.returncode == 0:
        return "the scenario's expectations held (exit 0)"
    if run.returncode == 1:
        why = " -- expected: they describe the series' behaviour" if expected_fail else ""
        return f"the scenario's expectations failed (exit 1){why}"
    return f"exit {run.returncode}"


def compare(
    name: str,
    root: Path | None = None,
    *,
    runner: Callable[[Path, str], Run] = run_scenario,
    baseline_writer: Callable[[Path, Path], None] = write_baseline,
    width: int | None = None,
    diff_only: bool = False,
) -> str:
    """Run ``name`` on the patched tree ``root`` and on its baseline; the rendering."""
    if root is None:
        root = checkout_root()
    if root is None or checkout_root(root) is None:
        where = Path(__file__).resolve().parent.parent if root is None else root
        raise CompareError(
            f"compare needs a source checkout: series/ and tools/series.py are not in {where}.\n"
            "This looks like an installed package.  Clone the project and run it there:\n"
            "    git clone <zpcisim repository> && cd zpcisim && python -m sim compare NAME"
        )
    new = runner(root, name)
    if not new.steps:
        raise CompareError(_no_steps(name, "this tree", new))
    with tempfile.TemporaryDirectory(prefix="zpcisim-compare-") as tmp:
        base_tree = Path(tmp) / "baseline"
        baseline_writer(root, base_tree)
        base = runner(base_tree, name)
    if not base.steps:
        raise CompareError(_no_steps(name, "the baseline tree", base))
    if width is None:
        width = max(100, shutil.get_terminal_size((200, 40)).columns)
    return render(name, base, new, align(base.steps, new.steps), width, diff_only)


def _no_steps(name: str, where: str, run: Run) -> str:
    tail = "\n".join(run.stderr.strip().splitlines()[-8:])
    return f"the run of {name!r} on {where} printed no steps (exit {run.returncode})" + (
        f":\n{tail}" if tail else ""
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="the scenario (zpcisim list)")
    p.add_argument("--diff-only", action="store_true", help="fold the steps that are the same in both runs")
    p.add_argument("--width", type=int, default=None, help="output width (default: the terminal's)")


def run_command(ns: argparse.Namespace) -> int:
    try:
        print(compare(ns.name, width=ns.width, diff_only=ns.diff_only))
    except CompareError as e:
        print(f"zpcisim compare: {e}", file=sys.stderr)
        unknown = "unknown scenario" in str(e)
        return 2 if unknown else 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="zpcisim compare", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return run_command(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
