"""Mutation testing of the series' hunks: would the tests notice a wrong port?

Only the lines a series adds or changes are mutated: the ``+`` lines of its patches,
as they stand in the patched tree.  The tree is written with ``tools.series export``
(the baseline, then one commit per patch), and ``git blame`` of its last commit names,
for every line of a patched source file, the patch that last wrote it; the lines the
baseline wrote are left alone.  The same works for any series of ``series/``:
``--series v17`` (this tree) or ``--series mainline`` (the merged series, applied to
the baseline).

Each mutant changes one statement or expression on such a line, made with Python's
``ast`` (so it always parses) and spliced into the file's text (so its diff shows
one change).  The operators:

========== ============================================================================
negate     ``if c:`` -> ``if not (c):``, ``if not c:`` -> ``if c:``
condition  drop a condition: one operand of ``and``/``or`` goes, ``if c:`` -> ``if True:``
compare    swap a comparison: ``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``is``/``is not``
constant   replace a constant: ``0`` -> ``1``, ``1`` -> ``0``, ``n`` -> ``n + 1``, ``True``/``False``
errno      replace an errno: ``errno.ENOMSG`` -> ``errno.ENODATA``, ...
statement  drop a statement (an early return too): it becomes ``pass``
swap       swap two adjacent statements (not two call-free assignments that touch nothing the
           other writes: that swap cannot change behaviour)
loglevel   change a log level: ``pci_warn`` -> ``pci_info``, ``pr_err`` -> ``pr_warn``, ...
unguard    remove a lock guard: ``with guard(mutex)(x):`` -> ``with nullcontext():``
field      replace a field copy: ``a.fh = b.fh`` -> ``a.fh = b.fid`` (the next copy's field)
========== ============================================================================

Which tests run against a mutant: those that execute its line, from coverage.py with
one dynamic context per test, collected once per tree (a hash of its sources) and
cached in ``.mutate-cache/``.  A line that runs only when its module is imported (a
constant, a structure's fields) is tested by every test that runs any code of that
file, and by the tests of its mirror (``test_vfio.py`` for ``uapi/linux/vfio.py``).
Lines that only the guest process runs are not seen by the coverage of the
test process; such a mutant shows as "no test".  Fastest tests first, stopping at
the first failure.  Change-detector tests are not used: ``tests/tools/`` (the series
reverse-applies, the docs and the mapping table are in step with the code).

Mutants run in scratch copies of the tree, one per worker process (``--jobs``, 2 by
default); the work tree is never written, and Ctrl-C leaves nothing behind.

A mutant that no behaviour can tell apart from the original is *equivalent*; those
are listed, each with the reason, in ``tools/mutate_equivalent.toml`` (under the
series, or under ``both`` when the code and so the mutant are the same in either), and
reviewed like code.  The run fails (exit 1) when a mutant survives that is not listed there,
or when a listed one is killed or no longer made (a stale entry); exit 2 is a usage
error.  A sample (``--sample``) does not run the listed ones (each would run all its
tests to survive); the full run does.

    python -m tools.mutate                     # every mutant of v17 (about 25 minutes on 2 cores)
    python -m tools.mutate --sample 40         # a fixed sample (CI runs it with --seed 17)
    python -m tools.mutate --list              # the mutants, without running them
    python -m tools.mutate --patch 4 --operator errno --file kernel/s390/pci/pci_event.py
    python -m tools.mutate --series mainline   # the merged series, in a mainline tree
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import contextlib
import difflib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import attrs

from tools import series as S

ROOT = S.ROOT
CACHE_DIR = ROOT / ".mutate-cache"
EQUIVALENT_FILE = ROOT / "tools" / "mutate_equivalent.toml"

#: Bump when the coverage data's format or the way it is collected changes.
CACHE_VERSION = 1

#: Source files that may be mutated (patched tests never are).
MUTABLE = ("kernel/", "uapi/", "sim/")

#: A test may take this long (seconds) plus 4x its time unmutated before it counts as
#: hanging (tools/mutate_timeout.py); the whole run of a mutant gets 20 s + 4x.
PER_TEST_MIN = 10.0

#: Tests that only check that files are in step with each other, not behaviour.
CHANGE_DETECTORS = ("tests/tools/",)

OPERATORS = (
    "negate",
    "condition",
    "compare",
    "constant",
    "errno",
    "statement",
    "swap",
    "loglevel",
    "unguard",
    "field",
)

#: One step down (or up, for the lowest) in the kernel's levels, among the print
#: functions kernel/lib/printk.py has.
LOG_LEVELS = {
    "pr_err": "pr_warn",
    "pr_warn": "pr_info",
    "pr_notice": "pr_info",
    "pr_info": "pr_warn",
    "pr_debug": "pr_info",
    "pci_err": "pci_warn",
    "pci_warn": "pci_info",
    "pci_info": "pci_warn",
    "pci_dbg": "pci_info",
    "dev_err": "dev_warn",
    "dev_warn": "dev_info",
    "dev_info": "dev_warn",
    "dev_dbg": "dev_info",
}

#: A neighbouring errno for each one the series returns.
ERRNOS = {
    "EINVAL": "EPERM",
    "ENOMEM": "ENOSPC",
    "ENOMSG": "ENODATA",
    "ENOTTY": "EINVAL",
    "ENODEV": "ENXIO",
    "EFAULT": "EINVAL",
    "ENOENT": "ENODEV",
    "EBUSY": "EAGAIN",
    "EIO": "ENXIO",
    "EAGAIN": "EBUSY",
    "EPERM": "EACCES",
    "ENXIO": "ENODEV",
    "ENOSPC": "ENOMEM",
}

COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


class MutateError(RuntimeError):
    pass


class UsageError(MutateError):
    pass


# --------------------------------------------------------------------------- the lines


def series_lines(tree: Path, base_commit: str, files: Sequence[str]) -> dict[str, dict[int, int]]:
    """{path: {line: patch number}} of the lines of ``files`` in ``tree``'s HEAD that a
    commit after ``base_commit`` wrote (``git blame``); patch numbers count from 1."""
    commits = S._git(["rev-list", "--reverse", f"{base_commit}..HEAD"], tree).split()
    number = {sha: n for n, sha in enumerate(commits, 1)}
    out: dict[str, dict[int, int]] = {}
    for rel in files:
        if not (tree / rel).exists():
            continue
        blame = S._git(["blame", "--porcelain", "HEAD", "--", rel], tree)
        lines: dict[int, int] = {}
        for m in re.finditer(r"^([0-9a-f]{40}) \d+ (\d+)(?: \d+)?$", blame, flags=re.M):
            n = number.get(m[1])
            if n is not None:
                lines[int(m[2])] = n
        if lines:
            out[rel] = lines
    return out


def patched_sources(series_dir: Path) -> list[str]:
    """The source files (not tests) the patches of ``series_dir`` touch."""
    files: set[str] = set()
    for patch in S.patch_files(series_dir):
        files.update(f for f in S._files_of(patch.read_text()) if f.startswith(MUTABLE) and f.endswith(".py"))
    return sorted(files)


# --------------------------------------------------------------------------- the mutants


@attrs.frozen
class Mutant:
    """One change to one file: the bytes ``start:end`` of ``path`` become ``new``
    (and ``append`` goes at the end of the file: an import the change needs)."""

    path: str
    line: int  # the first line changed, 1-based
    patch: int
    operator: str
    function: str  # the enclosing function or class ("<module>" at the top)
    start: int
    end: int
    old: str
    new: str
    append: str = ""
    nth: int = 1  # the same change made again later in the same function

    @property
    def key(self) -> str:
        """Names the mutant across edits elsewhere in the file (no line number)."""
        text = f"{_squash(self.old)} -> {_squash(self.new)}"
        if len(text) > 100:  # a long statement: its start, and a hash of the whole change
            digest = hashlib.sha1(f"{self.old}\0{self.new}".encode()).hexdigest()[:10]
            text = f"{_clip(_squash(self.old))} -> {_clip(_squash(self.new))} #{digest}"
        nth = f" (occurrence {self.nth})" if self.nth > 1 else ""
        return f"{self.path}::{self.function}::{self.operator}::{text}{nth}"

    def apply(self, source: bytes) -> bytes:
        out = source[: self.start] + self.new.encode() + source[self.end :]
        if self.append:
            out = out.rstrip(b"\n") + b"\n\n" + self.append.encode() + b"\n"
        return out

    def diff(self, source: bytes) -> str:
        a = source.decode().splitlines(keepends=True)
        b = self.apply(source).decode().splitlines(keepends=True)
        return "".join(difflib.unified_diff(a, b, f"a/{self.path}", f"b/{self.path}", n=2))


def _clip(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "..."


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _Source:
    """A file's text with ast positions (UTF-8 byte columns) turned into byte offsets."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.starts = [0]
        for line in data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def text(self, node: ast.AST) -> str:
        a, b = self.span(node)
        return self.data[a:b].decode()


def _names_bound(module: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_guard(item: ast.withitem) -> bool:
    e = item.context_expr
    return (
        isinstance(e, ast.Call)
        and isinstance(e.func, ast.Call)
        and isinstance(e.func.func, ast.Name)
        and e.func.func.id == "guard"
    )


def _field_copy(stmt: ast.stmt) -> tuple[str, str] | None:
    """(source object, field) of ``a.X = b.X``, else None."""
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Attribute)
        and isinstance(stmt.value, ast.Attribute)
        and stmt.targets[0].attr == stmt.value.attr
    ):
        return ast.unparse(stmt.value.value), stmt.value.attr
    return None


def _stores_and_loads(s: ast.stmt) -> tuple[list[str], list[str]] | None:
    """What a plain assignment writes and reads (as source text), or None for any
    other statement, or one that calls something (a call may do anything)."""
    if any(
        isinstance(n, ast.Call | ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr) for n in ast.walk(s)
    ):
        return None
    if isinstance(s, ast.Assign):
        targets, value = s.targets, s.value
    elif isinstance(s, ast.AugAssign | ast.AnnAssign) and s.value is not None:
        targets, value = [s.target], s.value
    else:
        return None
    stores = [ast.unparse(t) for t in targets]
    loads = [
        ast.unparse(n) for n in ast.walk(value) if isinstance(n, ast.Name | ast.Attribute | ast.Subscript)
    ]
    if isinstance(s, ast.AugAssign):
        loads += stores
    for t in targets:  # a subscript or attribute target reads its base
        loads += [ast.unparse(n) for n in ast.walk(t) if n is not t and isinstance(n, ast.expr)]
    return stores, loads


def _independent(s1: ast.stmt, s2: ast.stmt) -> bool:
    """Two call-free assignments neither of which reads or writes what the other
    writes: swapping them cannot change behaviour, so it is no mutant."""
    a, b = _stores_and_loads(s1), _stores_and_loads(s2)
    if a is None or b is None:
        return False

    def touches(written: list[str], used: list[str]) -> bool:
        # reading "a" while the other writes "a.b" only takes a reference to the
        # same object (there is no call to look at it in between)
        return any(u == w or u.startswith((w + ".", w + "[")) for w in written for u in used)

    return not (touches(a[0], b[0] + b[1]) or touches(b[0], a[0] + a[1]))


def _int_text(old: str, value: int) -> str:
    return hex(value) if old.lower().startswith("0x") else str(value)


class _Generator(ast.NodeVisitor):
    def __init__(self, path: str, data: bytes, lines: dict[int, int]) -> None:
        self.path = path
        self.src = _Source(data)
        self.lines = lines
        self.module = ast.parse(data, filename=path)
        self.bound = _names_bound(self.module)
        self.scope: list[str] = []
        self.in_function = 0
        self.skip_depth = 0  # inside __all__, imports, annotations, docstrings
        self.out: list[Mutant] = []

    # -- helpers
    def _patch(self, node: ast.AST) -> int | None:
        return self.lines.get(node.lineno)  # type: ignore[attr-defined]

    def _add(
        self, node: ast.AST, op: str, new: str, span: tuple[int, int] | None = None, append: str = ""
    ) -> None:
        patch = self._patch(node)
        if patch is None:
            return
        a, b = span if span is not None else self.src.span(node)
        old = self.src.data[a:b].decode()
        if old == new:
            return
        function = ".".join(self.scope) or "<module>"
        self.out.append(
            Mutant(self.path, node.lineno, patch, op, function, a, b, old, new, append)  # type: ignore[attr-defined]
        )

    def _import(self, name: str, module: str) -> str:
        return "" if name in self.bound else f"from {module} import {name}"

    # -- scopes
    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.scope.append(node.name)
        self.in_function += 1
        for d in node.decorator_list:
            self.visit(d)
        self._body(node.body)
        self.in_function -= 1
        self.scope.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.scope.append(node.name)
        for stmt in node.body:
            if not _is_docstring(stmt):
                self.visit(stmt)
        self.scope.pop()

    def visit_Module(self, node: ast.Module) -> None:
        for stmt in node.body:
            if _is_docstring(stmt) or isinstance(stmt, ast.Import | ast.ImportFrom):
                continue
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and "__all__" in ast.unparse(stmt).split("=")[0]:
                continue
            if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                continue
            self.visit(stmt)

    def visit_Import(self, node: ast.Import) -> None:
        return

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        return

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:  # a declaration: the annotation is not behaviour
            return
        self.visit(node.value)
        if self.in_function:
            self._drop(node)

    # -- statement lists: drop, swap, field copies
    def _body(self, body: list[ast.stmt]) -> None:
        stmts = [s for s in body if not _is_docstring(s)]
        copies = [(s, _field_copy(s)) for s in stmts]
        for i, s in enumerate(stmts):
            self.visit(s)
            if i + 1 < len(stmts):
                self._swap(s, stmts[i + 1])
            fc = copies[i][1]
            if fc is not None:
                run = [c for c in copies if c[1] is not None and c[1][0] == fc[0]]
                if len(run) > 1:
                    j = [c[0] for c in run].index(s)
                    other = run[(j + 1) % len(run)][1]
                    assert other is not None
                    value = s.value  # type: ignore[attr-defined]
                    a, b = self.src.span(value)
                    self._add(s, "field", f"{fc[0]}.{other[1]}", span=(a, b))

    def _drop(self, s: ast.stmt) -> None:
        if isinstance(s, ast.Pass):
            return
        self._add(s, "statement", "pass")

    def _swap(self, s1: ast.stmt, s2: ast.stmt) -> None:
        if self._patch(s1) is None and self._patch(s2) is None:
            return
        for s in (s1, s2):  # a declaration or an import has no order to get wrong
            if isinstance(s, ast.Import | ast.ImportFrom) or (
                isinstance(s, ast.AnnAssign) and s.value is None
            ):
                return
        t1, t2 = self.src.text(s1), self.src.text(s2)
        if t1 == t2 or s1.col_offset != s2.col_offset or _independent(s1, s2):
            return
        a1, b1 = self.src.span(s1)
        a2, b2 = self.src.span(s2)
        between = self.src.data[b1:a2].decode()
        node = s1 if self._patch(s1) is not None else s2
        patch = self._patch(node)
        assert patch is not None
        function = ".".join(self.scope) or "<module>"
        self.out.append(
            Mutant(
                self.path, s1.lineno, patch, "swap", function, a1, b2, t1 + between + t2, t2 + between + t1
            )
        )

    def visit_If(self, node: ast.If) -> None:
        self._test(node, node.test)
        self.visit(node.test)
        self._body(node.body)
        self._body(node.orelse)
        if self.in_function:
            self._drop(node)

    def visit_While(self, node: ast.While) -> None:
        self._test(node, node.test)
        self.visit(node.test)
        self._body(node.body)
        self._body(node.orelse)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self._body(node.body)
        self._body(node.orelse)
        if self.in_function:
            self._drop(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            self.visit(item.context_expr)
        if len(node.items) == 1 and _is_guard(node.items[0]):
            expr = node.items[0].context_expr
            self._add(expr, "unguard", "nullcontext()", append=self._import("nullcontext", "contextlib"))
        self._body(node.body)

    def visit_Try(self, node: ast.Try) -> None:
        self._body(node.body)
        for h in node.handlers:
            self._body(h.body)
        self._body(node.orelse)
        self._body(node.finalbody)

    def visit_Expr(self, node: ast.Expr) -> None:
        self.visit(node.value)
        if self.in_function:
            self._drop(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        if self.in_function:
            self._drop(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        if self.in_function:
            self._drop(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.visit(node.value)
        if self.in_function:
            self._drop(node)

    # -- expressions
    def _test(self, stmt: ast.stmt, test: ast.expr) -> None:
        if self._patch(test) is None:
            return
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            self._add(test, "negate", self.src.text(test.operand))
        else:
            self._add(test, "negate", f"not ({self.src.text(test)})")
        if not (isinstance(test, ast.Constant) and test.value is True):
            self._add(test, "condition", "True")

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._add(node.test, "negate", f"not ({self.src.text(node.test)})")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        word = " and " if isinstance(node.op, ast.And) else " or "
        for i in range(len(node.values)):
            rest = [self.src.text(v) for j, v in enumerate(node.values) if j != i]
            new = rest[0] if len(rest) == 1 else word.join(rest)
            self._add(node, "condition", f"({new})" if len(rest) > 1 else new)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is None:
                continue
            ops = list(node.ops)
            ops[i] = swap()
            new = ast.Compare(left=node.left, ops=ops, comparators=node.comparators)
            self._add(node, "compare", ast.unparse(new))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        v = node.value
        old = self.src.text(node)
        if isinstance(v, bool):
            self._add(node, "constant", str(not v))
        elif isinstance(v, int):
            self._add(node, "constant", _int_text(old, {0: 1, 1: 0}.get(v, v + 1)))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "errno" and node.attr in ERRNOS:
            self._add(node, "errno", f"errno.{ERRNOS[node.attr]}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in LOG_LEVELS:
            to = LOG_LEVELS[node.func.id]
            self._add(node.func, "loglevel", to, append=self._import(to, "kernel.lib.printk"))
        self.generic_visit(node)


def generate(
    path: str, data: bytes, lines: dict[int, int], operators: Sequence[str] = OPERATORS
) -> list[Mutant]:
    """The mutants of the ``lines`` ({line: patch}) of one file, each parsing, none
    a copy of another."""
    g = _Generator(path, data, lines)
    g.visit(g.module)
    out: list[Mutant] = []
    seen: set[bytes] = set()
    original = ast.dump(g.module)
    for m in sorted(g.out, key=lambda m: (m.line, m.start, OPERATORS.index(m.operator), m.new)):
        if m.operator not in operators:
            continue
        text = m.apply(data)
        if text in seen:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:  # pragma: no cover - the operators make valid code
            continue
        if ast.dump(tree) == original:
            continue
        seen.add(text)
        out.append(m)
    count: dict[str, int] = {}
    for i, m in enumerate(out):
        count[m.key] = count.get(m.key, 0) + 1
        if count[m.key] > 1:
            out[i] = attrs.evolve(m, nth=count[m.key])
    return out


# --------------------------------------------------------------------------- coverage


COLLECT = r"""
import json, sys, time
import coverage, pytest

out, files = sys.argv[1], json.loads(sys.argv[2])
args = json.loads(sys.argv[3])
cov = coverage.Coverage(data_file=None, include=files, branch=False)
durations, failed = {}, set()

class Contexts:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        cov.switch_context(item.nodeid)
        yield
        cov.switch_context("")

    def pytest_runtest_logreport(self, report):
        durations[report.nodeid] = durations.get(report.nodeid, 0.0) + report.duration
        if report.failed:
            failed.add(report.nodeid)

cov.start()
try:
    rc = pytest.main(["-q", "-p", "no:cacheprovider", "-n", "0", *args], plugins=[Contexts()])
finally:
    cov.stop()
data = cov.get_data()
lines = {}
for f in data.measured_files():
    lines[f] = {str(n): sorted(c) for n, c in data.contexts_by_lineno(f).items()}
json.dump({"rc": int(rc), "lines": lines, "durations": durations, "failed": sorted(failed)}, open(out, "w"))
"""


@attrs.frozen
class Coverage:
    """Which tests run which line: {path: {line: [nodeid, ...]}}, each test's time."""

    lines: dict[str, dict[int, list[str]]]
    durations: dict[str, float]
    failed: list[str]

    def tests_for(self, m: Mutant, module_level: bool) -> list[str]:
        by_line = self.lines.get(m.path, {})
        tests: set[str] = set()
        if module_level:
            for ts in by_line.values():
                tests.update(ts)
            # and the file's own tests (tests/ mirrors the tree): a module of only
            # constants and structures runs no code of its own under any test
            mirror = f"test_{Path(m.path).stem}.py"
            tests.update(t for t in self.durations if t.split("::", 1)[0].rsplit("/", 1)[-1] == mirror)
        else:
            for line in range(m.line, m.line + max(1, m.old.count("\n") + 1)):
                tests.update(by_line.get(line, ()))
        tests.discard("")
        tests.difference_update(self.failed)
        return sorted(tests, key=lambda t: (self.durations.get(t, 0.0), t))


def _tree_hash(tree: Path, series: str) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION} {series}".encode())
    for top in ("kernel", "uapi", "sim", "tests"):
        for p in sorted((tree / top).rglob("*.py")):
            h.update(str(p.relative_to(tree)).encode())
            h.update(p.read_bytes())
    h.update((tree / "pyproject.toml").read_bytes())
    return h.hexdigest()[:16]


def behavioural_tests(tree: Path) -> list[str]:
    """The test directories and files, less the change detectors."""
    out = []
    for p in sorted((tree / "tests").iterdir()):
        rel = f"tests/{p.name}" + ("/" if p.is_dir() else "")
        if p.name.startswith(("_", ".")) or any(rel.startswith(c) for c in CHANGE_DETECTORS):
            continue
        if p.is_dir() or (p.name.startswith("test_") and p.suffix == ".py"):
            out.append(rel.rstrip("/"))
    return out


def collect(
    tree: Path, files: Sequence[str], series: str, refresh: bool = False, log: Callable[[str], None] = print
) -> Coverage:
    key = _tree_hash(tree, series)
    cache = CACHE_DIR / f"{series}-{key}.json"
    if cache.exists() and not refresh:
        raw = json.loads(cache.read_text())
    else:
        log(f"collecting coverage per test (once for this tree: {cache.relative_to(ROOT)}) ...")
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="zpcisim-mutate-cov-") as tmp:
            out = Path(tmp) / "cov.json"
            abs_files = [str(tree / f) for f in files]
            r = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    COLLECT,
                    str(out),
                    json.dumps(abs_files),
                    json.dumps(behavioural_tests(tree)),
                ],
                cwd=tree,
                env=_env(tree),
                capture_output=True,
                text=True,
            )
            if not out.exists():
                raise MutateError(f"coverage collection failed:\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
            got = json.loads(out.read_text())
        lines = {str(Path(f).relative_to(tree)): v for f, v in got["lines"].items()}
        raw = {"lines": lines, "durations": got["durations"], "failed": got["failed"]}
        CACHE_DIR.mkdir(exist_ok=True)
        for old in CACHE_DIR.glob(f"{series}-*.json"):
            old.unlink()
        cache.write_text(json.dumps(raw))
        log(f"collected in {time.monotonic() - t0:.0f} s")
    return Coverage(
        lines={f: {int(n): ts for n, ts in v.items()} for f, v in raw["lines"].items()},
        durations=raw["durations"],
        failed=raw["failed"],
    )


def _env(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


# --------------------------------------------------------------------------- running


@attrs.frozen
class Result:
    mutant: Mutant
    status: str  # killed, survived, timeout, error, no-test
    tests_run: int
    killer: str
    seconds: float


def _is_module_level(m: Mutant, module: ast.Module) -> bool:
    """Does the mutated line run only at import (outside any function body)?"""
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0].lineno
            if first <= m.line <= (node.end_lineno or first):
                return False
    return True


class Runner:
    """Worker scratch trees and the pytest processes that run in them."""

    def __init__(
        self, tree: Path, jobs: int, timeout_factor: float = 4.0, per_test_min: float = PER_TEST_MIN
    ) -> None:
        self.tree = tree
        self.jobs = jobs
        self.timeout_factor = timeout_factor
        self.per_test_min = per_test_min
        self.tmp = tempfile.TemporaryDirectory(prefix="zpcisim-mutate-")
        self.free: list[Path] = []
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen[bytes]] = set()
        self.stopping = False
        # the per-test time limit plugin, importable whatever the tree holds
        self.plugins = Path(self.tmp.name) / "plugins"
        self.plugins.mkdir()
        plugin = Path(__file__).with_name("mutate_timeout.py")
        shutil.copy2(plugin, self.plugins / "zpcisim_mutate_timeout.py")
        for i in range(jobs):
            d = Path(self.tmp.name) / f"w{i}"
            S.copy_tree(tree, d)
            self.free.append(d)

    def close(self) -> None:
        self.stopping = True
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
        self.tmp.cleanup()

    @contextlib.contextmanager
    def _worktree(self) -> Iterator[Path]:
        with self.lock:
            d = self.free.pop()
        try:
            yield d
        finally:
            with self.lock:
                self.free.append(d)

    def run(self, m: Mutant, tests: list[str], durations: dict[str, float]) -> Result:
        if not tests:
            return Result(m, "no-test", 0, "", 0.0)
        t0 = time.monotonic()
        with self._worktree() as d:
            target = d / m.path
            original = target.read_bytes()
            target.write_bytes(m.apply(original))
            budget = 20.0 + self.timeout_factor * sum(durations.get(t, 0.1) for t in tests)
            limits = {t: self.per_test_min + self.timeout_factor * durations.get(t, 0.1) for t in tests}
            (d / ".mutate-limits.json").write_text(json.dumps(limits))
            try:
                status, killer = self._pytest(d, tests, budget)
            finally:
                target.write_bytes(original)
        return Result(m, status, len(tests), killer, time.monotonic() - t0)

    def _pytest(self, d: Path, tests: list[str], budget: float) -> tuple[str, str]:
        if self.stopping:
            raise KeyboardInterrupt
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-x",
            "-q",
            "-n",
            "0",  # one process: the per-test time limit and -x act in it (addopts says -n auto)
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "--no-header",
            "-rf",
            "--tb=no",
            "-p",
            "zpcisim_mutate_timeout",
            *tests,
        ]
        env = _env(d)
        env["PYTHONPATH"] += os.pathsep + str(self.plugins)
        p = subprocess.Popen(
            cmd,
            cwd=d,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        with self.lock:
            self.procs.add(p)
        try:
            out, _ = p.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return "timeout", f"still running after {budget:.0f} s"
        finally:
            with self.lock:
                self.procs.discard(p)
        text = out.decode(errors="replace")
        if p.returncode == 0:
            return "survived", ""
        if p.returncode == 1:
            m = re.search(r"^FAILED (\S+)", text, flags=re.M)
            if m and "MutantTimeout" in text:
                return "timeout", m[1]
            return "killed", m[1] if m else "a test failed"
        if p.returncode < 0 and self.stopping:
            raise KeyboardInterrupt
        return "error", f"pytest exit {p.returncode}: {text.strip().splitlines()[-1] if text.strip() else ''}"


# --------------------------------------------------------------------------- equivalents


@attrs.frozen
class Equivalent:
    key: str
    reason: str


def load_equivalents(path: Path = EQUIVALENT_FILE, series: str = S.APPLIED) -> dict[str, Equivalent]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as e:
        raise MutateError(f"{path.name}: {e}") from e
    out: dict[str, Equivalent] = {}
    # [[both]]: the same code in both series, so the same mutant (its key names no line)
    # and the same reason; such an entry must be made, and must survive, in either run.
    for table in (series, "both"):
        for i, entry in enumerate(data.get(table, [])):
            key, reason = entry.get("mutant"), entry.get("reason")
            if not isinstance(key, str) or not isinstance(reason, str) or not reason.strip():
                raise MutateError(
                    f"{path.name}: [[{table}]] entry {i + 1} needs 'mutant' and a non-empty 'reason'"
                )
            if key in out:
                raise MutateError(f"{path.name}: [[{table}]] entry {i + 1} repeats {key}")
            out[key] = Equivalent(key, reason.strip())
    return out


# --------------------------------------------------------------------------- the command


@attrs.define
class Plan:
    tree: Path
    mutants: list[Mutant]
    sources: dict[str, bytes]
    module_level: dict[str, bool]


def plan(tree: Path, base_commit: str, series_dir: Path, ns: argparse.Namespace) -> Plan:
    files = patched_sources(series_dir)
    lines = series_lines(tree, base_commit, files)
    mutants: list[Mutant] = []
    sources: dict[str, bytes] = {}
    module_level: dict[str, bool] = {}
    ops = ns.operator or list(OPERATORS)
    for path, ln in sorted(lines.items()):
        if ns.file and path not in ns.file:
            continue
        if ns.patch:
            ln = {k: v for k, v in ln.items() if v in ns.patch}
        data = (tree / path).read_bytes()
        sources[path] = data
        module = ast.parse(data)
        for m in generate(path, data, ln, ops):
            mutants.append(m)
            module_level[m.key] = _is_module_level(m, module)
    if ns.sample is not None and ns.sample < len(mutants):
        picked = set(random.Random(ns.seed).sample(range(len(mutants)), ns.sample))
        mutants = [m for i, m in enumerate(mutants) if i in picked]
    return Plan(tree, mutants, sources, module_level)


def _print(text: str = "") -> None:
    print(text, flush=True)


def run(ns: argparse.Namespace) -> int:
    sdir = S.series_dir(ns.series)
    if not sdir.is_dir() or not any(sdir.glob("[0-9][0-9][0-9][0-9]-*.patch")):
        raise UsageError(f"series/{ns.series} has no patches")
    equivalents = load_equivalents(series=ns.series)
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="zpcisim-mutate-tree-") as tmp:
        tree = Path(tmp) / "tree"
        S.export(tree, series=ns.series)
        base = S._git(["rev-list", "--max-parents=0", "HEAD"], tree).split()[0]
        p = plan(tree, base, sdir, ns)
        if ns.list and ns.json:
            rows = [
                {"key": m.key, "path": m.path, "line": m.line, "patch": m.patch, "operator": m.operator}
                for m in p.mutants
            ]
            print(json.dumps(rows, indent=1))
            return 0
        if ns.list:
            for m in p.mutants:
                _print(
                    f"{m.path}:{m.line}: patch {m.patch}: {m.operator}: {_squash(m.old)} -> {_squash(m.new)}"
                )
            _print(f"{len(p.mutants)} mutants")
            return 0
        if not p.mutants:
            raise UsageError("no mutants: the filters match no line of the series")
        files = sorted(p.sources)
        cov = collect(
            tree, files, ns.series, refresh=ns.recollect, log=(lambda s: None) if ns.json else _print
        )
        skip = set(equivalents) if ns.sample is not None else set()
        results = _run_all(p, cov, ns, skip)
    seconds = time.monotonic() - t_start
    return report(p, results, equivalents, ns, seconds)


def _run_all(p: Plan, cov: Coverage, ns: argparse.Namespace, skip: set[str]) -> list[Result]:
    """Run every mutant of the plan, but those whose key is in ``skip`` (listed as
    equivalent; a sample does not spend minutes confirming that they survive)."""
    runner = Runner(p.tree, ns.jobs)
    results: list[Result] = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=ns.jobs)
    try:
        futs = [
            pool.submit(runner.run, m, cov.tests_for(m, p.module_level[m.key]), cov.durations)
            if m.key not in skip
            else pool.submit(Result, m, "not-run", 0, "", 0.0)
            for m in p.mutants
        ]
        for i, f in enumerate(futs, 1):
            r = f.result()
            results.append(r)
            if ns.progress:  # to stderr: stdout is the report (or the JSON)
                mu = r.mutant
                print(
                    f"[{i}/{len(futs)}] {r.status:8} {mu.path}:{mu.line} {mu.operator} "
                    f"({r.tests_run} tests, {r.seconds:.1f} s) {r.killer}",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        # On Ctrl-C: no new mutant starts, the running pytest processes are killed,
        # and the scratch trees go; the work tree was never written.
        runner.stopping = True
        pool.shutdown(wait=False, cancel_futures=True)
        runner.close()
    return results


def report(
    p: Plan, results: list[Result], equivalents: dict[str, Equivalent], ns: argparse.Namespace, seconds: float
) -> int:
    killed = [r for r in results if r.status in ("killed", "timeout", "error")]
    survived = [r for r in results if r.status in ("survived", "no-test", "not-run")]
    equivalent = [r for r in survived if r.mutant.key in equivalents]
    unexplained = [r for r in survived if r.mutant.key not in equivalents]
    killed_listed = [r for r in killed if r.mutant.key in equivalents]
    full = ns.sample is None and not ns.file and not ns.patch and not ns.operator
    made = {m.key for m in p.mutants}
    stale = sorted(k for k in equivalents if k not in made) if full else []
    total = len(results)
    score = len(killed) / total if total else 1.0
    # the usual mutation score: killed / (mutants - equivalent ones)
    score_ne = len(killed) / (total - len(equivalent)) if total - len(equivalent) else 1.0
    by_op = {op: [0, 0] for op in OPERATORS}
    for r in results:
        by_op[r.mutant.operator][0] += 1
        by_op[r.mutant.operator][1] += r in killed
    ok = not unexplained and not killed_listed and not stale
    if ns.json:
        print(
            json.dumps(
                {
                    "series": ns.series,
                    "mutants": total,
                    "killed": len(killed),
                    "equivalent": len(equivalent),
                    "survived": len(unexplained),
                    "score": round(score, 4),
                    "score_non_equivalent": round(score_ne, 4),
                    "seconds": round(seconds, 1),
                    "sample": ns.sample,
                    "operators": {op: {"mutants": n, "killed": k} for op, (n, k) in by_op.items() if n},
                    "survivors": [
                        {
                            "key": r.mutant.key,
                            "status": r.status,
                            "path": r.mutant.path,
                            "line": r.mutant.line,
                            "patch": r.mutant.patch,
                            "operator": r.mutant.operator,
                            "diff": r.mutant.diff(p.sources[r.mutant.path]),
                        }
                        for r in unexplained
                    ],
                    "killed_but_listed_equivalent": [r.mutant.key for r in killed_listed],
                    "stale_equivalents": stale,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    for r in unexplained:
        m = r.mutant
        why = "no test runs this line" if r.status == "no-test" else f"{r.tests_run} tests ran, none failed"
        _print(f"SURVIVED {m.path}:{m.line} (patch {m.patch}, {m.operator}, {m.function}): {why}")
        _print(f"  key: {m.key}")
        _print(m.diff(p.sources[m.path]))
    for r in killed_listed:
        _print(f"LISTED AS EQUIVALENT BUT KILLED by {r.killer}: {r.mutant.key}")
    for key in stale:
        _print(f"STALE EQUIVALENT (no such mutant any more): {key}")
    _print("operator    mutants  killed")
    for op, (n, k) in by_op.items():
        if n:
            _print(f"{op:11} {n:7}  {k:6}")
    what = f"a sample of {total} (seed {ns.seed})" if ns.sample is not None else f"{total}"
    _print(
        f"{ns.series}: {what} mutants: {len(killed)} killed, {len(equivalent)} equivalent (listed), "
        f"{len(unexplained)} survived; {100 * score:.1f}% killed, {100 * score_ne:.1f}% of the "
        f"non-equivalent; {seconds:.0f} s with {ns.jobs} jobs"
    )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--series", choices=S.SERIES_NAMES, default=S.APPLIED, help=f"default {S.APPLIED}")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--sample", type=int, metavar="N", help="run a fixed random sample of N mutants")
    ap.add_argument("--seed", type=int, default=17, help="the sample's seed (default 17)")
    ap.add_argument("--patch", type=int, action="append", metavar="N", help="only the lines patch N wrote")
    ap.add_argument("--file", action="append", metavar="PATH", help="only this file (repeatable)")
    ap.add_argument("--operator", action="append", choices=OPERATORS, help="only this operator (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    ap.add_argument("--recollect", action="store_true", help="collect the coverage per test again")
    ap.add_argument("--progress", action="store_true", help="a line per mutant as it finishes (stderr)")
    ap.add_argument("--json", action="store_true", help="the report as one JSON object")
    ns = ap.parse_args(argv)
    if ns.jobs < 1:
        ap.error("--jobs must be at least 1")
    if ns.sample is not None and ns.sample < 1:
        ap.error("--sample must be at least 1")
    try:
        return run(ns)
    except UsageError as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    except (MutateError, S.SeriesError) as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mutate: interrupted; nothing was changed", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
