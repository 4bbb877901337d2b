"""The execution index (``tests/executed.txt``): which tests and which scenario steps
run each kernel function, recorded from a run of the test suite.

``zpcisim explain NAME`` answers "which tests exercise it" from this file, not from a
text search: a test counts when the function's body ran while the test's own body
ran (fixtures and helpers are not tests; a test that reaches the function through a
helper or a scenario counts).

How it is recorded: ``ZPCISIM_INDEX=FILE pytest`` (tests/conftest.py installs
:class:`IndexPlugin` when the variable is set) runs the suite under coverage.py with a
dynamic context per test (the test's node id, while its body runs and until the
kernel's event thread has handled what it set in motion) and, inside it, per
scenario run (``nodeid|scenario``, through :data:`sim.scenarios.RUN_OBSERVERS`; a run
with options that choose its errors is ``nodeid|scenario --errors 6``, a run of its
own: its steps are not those ``zpcisim run NAME`` prints).
Threads are followed; the guest kernel's process records into its own data file with
the context it was started in (sim/guest/main.py), which is merged in.  The scenario
steps come from the step recorder: when a step is recorded, the kernel functions on
the recording thread's stack, and for an ioctl those the ioctl ran
(:func:`sim.record.kernel_functions_at_step`); a guest step contributes the function
that printed it (:func:`step_functions`).  Only runs that passed and were not
``--verbose`` count (their step numbers are those ``zpcisim run NAME`` prints, with
the options, if any).  At the end of the session, if every test passed, the index is
written to FILE.

Under pytest-xdist (``ZPCISIM_INDEX=FILE pytest -n 2``) each worker records its own
tests as above and hands the result to the controller at its end (``workeroutput``,
:func:`dump`); the controller merges them (:class:`ControllerPlugin`) and writes the
file.  Every part of the index is a union over the tests, so the file is the one a
serial run writes, byte for byte (tests/tools/test_index.py checks it on a part of
the suite).

The file: one block per kernel function (a top-level function of ``kernel/`` or
``uapi/`` whose body ran; ``kernel/lib/``, the infrastructure, is left out), sorted
by file and line::

    kernel/pci/slot.py pci_create_slot
      tests/kernel/pci/test_slot.py test_create_slot_names_the_slot test_two_slots
      tests/sim/test_host.py *
      scenario passthrough-kvm: 3 5-7
      scenario passthrough-kvm --errors 6: 3 5-7 46
      scenario host-recovery:

``FILE *``: every test of that file runs it; ``FILE * except A B``: all but those.
``scenario NAME: STEPS``: the step numbers at which it runs in ``zpcisim run NAME``
(none listed: it runs in that scenario between steps); ``scenario NAME OPTIONS:
STEPS``: the same for ``zpcisim run NAME OPTIONS``, a run some test made.

Commands::

    python -m tools.index                # run the suite and rewrite tests/executed.txt
    python -m tools.index -n 2           # the same, the suite in 2 pytest-xdist workers
    python -m tools.index --check FILE   # exit 1 if FILE (from a suite run) differs from it

``.ci/run`` runs the suite once with ``ZPCISIM_INDEX`` set and checks the result, so
the index is always the one of the commit.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
INDEX = Path("tests/executed.txt")
#: pytest writes the index of its run to this file.
ENV = "ZPCISIM_INDEX"
#: where the guest processes write their coverage data (set by the plugin).
GUEST_DIR_ENV = "ZPCISIM_INDEX_GUEST_DIR"
#: the context a guest process started now records under (set by the plugin).
CONTEXT_ENV = "ZPCISIM_INDEX_CONTEXT"
MIRROR_DIRS = ("kernel", "uapi")
#: How long, after a test's body, the kernel's event thread may take to finish what the
#: test set in motion (seconds).
SETTLE_S = 2.0
#: Not indexed: the kernel infrastructure the ported code calls (mutex, printk,
#: lockdep, ...) runs in nearly every test, and is not ported code (docs/mapping.md
#: leaves it out too).
UNINDEXED = ("kernel/lib/",)

HEADER = (
    "# zpcisim execution index: the tests and scenario steps that run each kernel function.\n"
    "# Written by `python -m tools.index` from one run of the test suite; do not edit.\n"
    '# "FILE *": every test of FILE runs it ("* except A B": all but A and B).\n'
    '# "scenario NAME: STEPS": the steps at which it runs (none listed: between steps).\n'
)

Fn = tuple[str, str]  # (path relative to the root, function name)


# ---------------------------------------------------------------- kernel functions


def function_lines(root: Path) -> dict[str, dict[int, str]]:
    """For each module under ``kernel/`` and ``uapi/`` (not :data:`UNINDEXED`): body
    line -> top-level function (not ``_private`` ones: no C function has such a name).
    The body is what runs when the function is called: the ``def`` line, decorators
    and docstring run at import and are left out."""
    out: dict[str, dict[int, str]] = {}
    for top in MIRROR_DIRS:
        for f in sorted((root / top).rglob("*.py")):
            rel = f.relative_to(root).as_posix()
            if rel.startswith(UNINDEXED):
                continue
            tree = ast.parse(f.read_text(), filename=rel)
            lines: dict[int, str] = {}
            for node in tree.body:
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if re.match(r"_[^_]", node.name):  # Python's own helper (C names may start "__")
                    continue
                body = node.body
                if (
                    len(body) > 1
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    body = body[1:]
                end = node.end_lineno or body[-1].lineno
                for n in range(body[0].lineno, end + 1):
                    lines[n] = node.name
            out[rel] = lines
    return out


# ---------------------------------------------------------------- the index


@attrs.define
class Index:
    """function -> test file -> test names; function -> scenario -> step numbers."""

    tests: dict[Fn, dict[str, set[str]]] = attrs.field(factory=dict)
    scenarios: dict[Fn, dict[str, set[int]]] = attrs.field(factory=dict)
    #: test file -> every test name it has (to write ``FILE *``)
    all_tests: dict[str, set[str]] = attrs.field(factory=dict)

    def add_test(self, fn: Fn, nodeid: str) -> None:
        path, name = split_nodeid(nodeid)
        self.tests.setdefault(fn, {}).setdefault(path, set()).add(name)

    def add_scenario(self, fn: Fn, scenario: str, step: int | None = None) -> None:
        steps = self.scenarios.setdefault(fn, {}).setdefault(scenario, set())
        if step is not None:
            steps.add(step)

    def render(self, order: dict[Fn, int]) -> str:
        out = [HEADER]
        fns = sorted(set(self.tests) | set(self.scenarios), key=lambda f: (f[0], order.get(f, 0), f[1]))
        for fn in fns:
            out.append(f"\n{fn[0]} {fn[1]}\n")
            for path, names in sorted(self.tests.get(fn, {}).items()):
                listed = listing(names, self.all_tests.get(path, set()))
                out.append(f"  {path} {listed}\n")
            for sc, steps in sorted(self.scenarios.get(fn, {}).items()):
                out.append(f"  scenario {sc}:{' ' + ranges(steps) if steps else ''}\n")
        return "".join(out)


def listing(names: set[str], every: set[str]) -> str:
    """The tests of one file that run a function: ``*`` when all do, ``* except A B``
    when most do, else the names; sorted."""
    if names == every:
        return "*"
    if names < every and len(names) > len(every) / 2:
        return "* except " + " ".join(sorted(every - names))
    return " ".join(sorted(names))


def split_nodeid(nodeid: str) -> tuple[str, str]:
    """``tests/x.py::test_a[1]`` -> ``("tests/x.py", "test_a")``: parameters dropped,
    a class kept (``TestC::test_a``)."""
    path, _, name = nodeid.partition("::")
    return path, re.sub(r"\[.*\]$", "", name)


def ranges(steps: set[int]) -> str:
    """``{3, 5, 6, 7}`` -> ``"3 5-7"``."""
    out: list[str] = []
    for n in sorted(steps):
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = out[-1].split("-")[0] + f"-{n}"
        else:
            out.append(str(n))
    return " ".join(out)


# ---------------------------------------------------------------- the pytest plugin


class IndexPlugin:
    """Records the index during a pytest session and writes it to ``out`` at its end.

    In a pytest-xdist worker it records the same way and hands what it recorded (an
    :class:`Index` of its tests, :func:`dump`) to the controller at the end
    (``workeroutput``); :class:`ControllerPlugin` writes the file."""

    def __init__(self, out: Path, root: Path = ROOT, worker: dict[str, Any] | None = None) -> None:
        import coverage

        self.out = out
        self.root = root
        #: the xdist worker's output dict (None: a serial run, this writes the file)
        self.worker = worker
        self.context = ""
        self.index = Index()
        #: tests after which the kernel's event thread was still busy (SETTLE_S)
        self.unsettled: list[str] = []
        self.guest_dir = Path(tempfile.mkdtemp(prefix="zpcisim-index-"))
        self.cov = coverage.Coverage(
            data_file=None,
            source=[str(root / d) for d in MIRROR_DIRS],
            config_file=False,
            branch=False,
        )
        os.environ[GUEST_DIR_ENV] = str(self.guest_dir)
        os.environ[CONTEXT_ENV] = ""
        self.cov.start()
        from sim.scenarios import RUN_OBSERVERS

        RUN_OBSERVERS.append(self.observe)

    def switch(self, context: str) -> None:
        self.context = context
        self.cov.switch_context(context)
        os.environ[CONTEXT_ENV] = context

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        self.switch(item.nodeid)
        try:
            yield
        finally:
            # what the test set in motion is the test's: an error it injected and did
            # not wait for is handled now, on the kernel's event thread, not during the
            # teardown or the next test (where it would land by chance)
            from kernel.s390.cio.chsc import crw_wait_idle

            if not crw_wait_idle(SETTLE_S):
                self.unsettled.append(item.nodeid)
            self.switch("")

    def observe(self, name: str, timeline: Any, verbose: bool, options: str) -> Callable[[Any], None]:
        """A scenario run starts (:data:`sim.scenarios.RUN_OBSERVERS`).  A run with
        options is recorded apart, as ``NAME OPTIONS``: only a run without them has the
        step numbers ``zpcisim run NAME`` prints."""
        run = f"{name} {options}" if options else name
        outer = self.context
        self.switch(f"{outer}|{run}")
        steps: dict[int, set[Fn]] = {}

        def on_step(step: Any) -> None:
            steps[step.seq] = step_functions(step)

        timeline.subscribe(on_step)

        def end(result: Any) -> None:
            self.switch(outer)
            if result.passed and not verbose:
                for seq, fns in steps.items():
                    for fn in fns:
                        self.index.add_scenario(fn, run, seq)

        return end

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.cov.stop()
        from sim.scenarios import RUN_OBSERVERS

        if self.observe in RUN_OBSERVERS:
            RUN_OBSERVERS.remove(self.observe)
        try:
            if self.worker is None and exitstatus != 0:
                print(f"\nzpcisim index: not written to {self.out}: the suite did not pass", file=sys.stderr)
                return
            for item in session.items:
                path, name = split_nodeid(item.nodeid)
                self.index.all_tests.setdefault(path, set()).add(name)
            spans = function_lines(self.root)
            self._merge(self.cov.get_data(), spans)
            from coverage import CoverageData

            for f in sorted(self.guest_dir.glob("guest.*")):
                data = CoverageData(basename=str(f))
                data.read()
                self._merge(data, spans)
            if self.worker is not None:
                self.worker[WORKER_KEY] = dump(self.index, self.unsettled)
                return
            write(self.out, self.index, spans, self.unsettled)
        finally:
            shutil.rmtree(self.guest_dir, ignore_errors=True)

    def _merge(self, data: Any, spans: dict[str, dict[int, str]]) -> None:
        for f in data.measured_files():
            try:
                rel = Path(f).resolve().relative_to(self.root).as_posix()
            except ValueError:
                continue
            lines = spans.get(rel)
            if not lines:
                continue
            for lineno, contexts in data.contexts_by_lineno(f).items():
                name = lines.get(lineno)
                if name is None:
                    continue
                for ctx in contexts:
                    test, _, scenario = ctx.partition("|")
                    if test:
                        self.index.add_test((rel, name), test)
                    if scenario:
                        self.index.add_scenario((rel, name), scenario)


def step_functions(step: Any) -> set[Fn]:
    """The functions that run at ``step``, for a :class:`~sim.timeline.Timeline`
    subscriber to call as the step is recorded: those on the recording thread's stack
    and those that ran for it elsewhere (:func:`sim.record.kernel_functions_at_step`),
    and the kernel function the step names as its maker (``function``, ``source``: a
    guest kernel's line).  The index lists a function at a step when it is one of these."""
    from sim.record import kernel_functions_at_step

    fns = kernel_functions_at_step()
    source, function = step.fields.get("source"), step.fields.get("function")
    if source and function and source.startswith(tuple(d + "/" for d in MIRROR_DIRS)):
        fns.add((source.rsplit(":", 1)[0], function))
    return fns


def write(out: Path, index: Index, spans: dict[str, dict[int, str]], unsettled: Sequence[str]) -> None:
    """Write ``index`` to ``out``: the indexed functions only (a step's stack holds
    every frame), in file and line order."""
    order = {(p, n): ln for p, lns in spans.items() for ln, n in sorted(lns.items(), reverse=True)}
    for known in (index.tests, index.scenarios):
        for fn in [fn for fn in known if fn not in order]:
            del known[fn]
    out.write_text(index.render(order))
    print(f"\nzpcisim index: written to {out}", file=sys.stderr)
    for nodeid in sorted(unsettled):
        print(f"zpcisim index: event thread busy {SETTLE_S:g} s after {nodeid}", file=sys.stderr)


# ---------------------------------------------------------------- under pytest-xdist

#: The key of a worker's recording in its ``workeroutput``.
WORKER_KEY = "zpcisim_index"


def dump(index: Index, unsettled: Sequence[str]) -> str:
    """What a worker recorded, as JSON (``workeroutput`` takes plain data only)."""

    def fns(table: dict[Fn, dict[str, set[Any]]]) -> list[Any]:
        return [[p, n, {k: sorted(v) for k, v in by.items()}] for (p, n), by in table.items()]

    return json.dumps(
        {
            "tests": fns(index.tests),
            "scenarios": fns(index.scenarios),
            "all_tests": {k: sorted(v) for k, v in index.all_tests.items()},
            "unsettled": list(unsettled),
        }
    )


def load_into(index: Index, text: str) -> list[str]:
    """Add a worker's recording (:func:`dump`) to ``index``; its unsettled tests."""
    data = json.loads(text)
    for p, n, by in data["tests"]:
        for path, names in by.items():
            index.tests.setdefault((p, n), {}).setdefault(path, set()).update(names)
    for p, n, by in data["scenarios"]:
        for run, steps in by.items():
            index.scenarios.setdefault((p, n), {}).setdefault(run, set()).update(steps)
    for path, names in data["all_tests"].items():
        index.all_tests.setdefault(path, set()).update(names)
    return list(data["unsettled"])


class ControllerPlugin:
    """The index of a pytest-xdist run: the workers record (:class:`IndexPlugin`), this
    merges what each hands back and writes the file, the same file a serial run writes
    (every part of the index is a union over the tests, whichever process ran them)."""

    def __init__(self, out: Path, root: Path = ROOT) -> None:
        self.out = out
        self.root = root
        self.index = Index()
        self.unsettled: list[str] = []
        #: workers that ended without handing over a recording (crashed)
        self.missing: list[str] = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        text = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if text is None:
            self.missing.append(str(getattr(node, "gateway", node).id))
            return
        self.unsettled.extend(load_into(self.index, text))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus != 0:
            print(f"\nzpcisim index: not written to {self.out}: the suite did not pass", file=sys.stderr)
            return
        if self.missing:
            print(
                f"\nzpcisim index: not written to {self.out}: worker {', '.join(self.missing)} "
                "handed over no recording",
                file=sys.stderr,
            )
            return
        write(self.out, self.index, function_lines(self.root), self.unsettled)


def install(config: pytest.Config) -> None:
    """Called by tests/conftest.py: record the index when ``ZPCISIM_INDEX`` names a file.
    Under pytest-xdist each worker records its tests and the controller writes the file."""
    out = os.environ.get(ENV)
    if not out:
        return
    path = Path(out).resolve()
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker
        workeroutput: dict[str, Any] = config.workeroutput  # type: ignore[attr-defined]
        config.pluginmanager.register(IndexPlugin(path, worker=workeroutput), "zpcisim-index")
    elif getattr(config.option, "dist", "no") != "no":  # the xdist controller: runs no test
        config.pluginmanager.register(ControllerPlugin(path), "zpcisim-index")
    else:
        config.pluginmanager.register(IndexPlugin(path), "zpcisim-index")


# ---------------------------------------------------------------- reading it
#
# sim/explain.py's read_index() and parse_ranges() read the file; tests/tools/test_index.py
# checks that they read back what this module writes.


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.index", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", metavar="FILE", help="compare FILE (written by a suite run) with the index")
    p.add_argument("--index", metavar="FILE", help=f"the index to check or write (default {INDEX})")
    p.add_argument(
        "-n", type=int, metavar="N", dest="workers", help="run the suite in N pytest-xdist workers"
    )
    args = p.parse_args(argv)
    index = Path(args.index) if args.index else ROOT / INDEX
    shown = args.index or str(INDEX)
    if args.check:
        fresh = Path(args.check)
        if not fresh.is_file():
            print(f"python -m tools.index: {fresh}: no such file (did the suite run with {ENV} set?)")
            return 2
        old = index.read_text() if index.is_file() else ""
        new = fresh.read_text()
        if old == new:
            print(f"ok: {shown} is the index of this tree's test suite")
            return 0
        diff = list(
            difflib.unified_diff(old.splitlines(), new.splitlines(), shown, str(fresh), lineterm="")
        )
        print("\n".join(diff[:60]))
        if len(diff) > 60:
            print(f"... ({len(diff) - 60} more lines)")
        print(f"{shown} is stale: refresh it with python -m tools.index and commit it")
        return 1
    env = dict(os.environ, **{ENV: str(index)})
    xdist = ["-n", str(args.workers)] if args.workers is not None else []
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *xdist]
    rc = subprocess.call(argv, cwd=ROOT, env=env)
    if rc != 0:
        print(f"python -m tools.index: the suite failed (exit {rc}); {shown} left as it was", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
