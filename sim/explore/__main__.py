"""``python -m sim.explore``: explore the race scenarios of the v17 review and print,
per race, the schedules run, whether the search was exhaustive, the longest run in
steps, the outcomes reached, the failures (with replayable schedules) and the time.

Exit status: 0 when every race was explored exhaustively and held its invariants,
or failed exactly as expected on this kernel; 1 when a race failed, a search
stopped early (``--max-runs``, a run over the step cap) or a race's threads never
interacted (one schedule only: a set-up error); 2 for usage errors.

A race may be a known bug of the kernel it runs on (``expected_finding()`` of its
scenario: reset-done-vs-close on v17, whose 6/7 the merged series dropped).  Its
search must then find that failure -- and nothing else -- to pass: it is printed as
"EXPECTED FINDING on this kernel", with the first failing schedule; a search that
does not find it fails.

"Exhaustive" is exhaustive over what the explorer sees (its scheduling points):
every kernel lock, rwsem, eventfd and the kmcheck hand-off; every read and write of
a guarded kernel field (``zdev->fh``, ``zdev->state``, ``zdev->kzdev``,
``zdev->pending_errs``: kernel/lib/context_analysis.py), including the unlocked
``data_race()`` readers such as the config load/store's read of ``zdev->fh``; every
firmware instruction that reads or changes a function's handle, enable/error state
or the event queue (CLP, MPCIFC, SEI, SCLP, error injection); and, with
``--load-store``, every PCI load/store of config space too (sound at instruction
granularity, but the searches of error-vs-close and open-vs-error then run to
thousands of schedules).

Without ``--load-store`` the search assumes that a config-space access never
observes a firmware state change made by another thread of the race *inside one
system call*: a program's entry into the kernel (open, ioctl, read, write, close)
reads the machine's events and the firmware's error and availability events write
them (``schedpoint.MACHINE_EVENTS``), so every such event is tried before and after
each system call of the race's programs.  That is what puts open-vs-error's "open ok,
stored, queued" and "open ok, stored, delivered" among its outcomes (the open's FLR
reaches the function only through config space).  An event landing in the middle of
a system call's config-space accesses is explored only with ``--load-store``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from kernel.init.main import start_kernel
from kernel.lib import schedpoint
from kernel.lib.callsite import code_function, code_path
from kernel.lib.printk import LogLine, klog_subscribe, klog_unsubscribe
from kernel.lib.sched import get_current, task_struct
from sim.cli import MIN_WIDTH, output_width
from sim.compare import wrap
from sim.explore.explorer import Explorer, Failure, RunResult, format_schedule, parse_schedule
from sim.explore.scenarios import SCENARIOS, TwoReaders

_BACKTICKS = re.compile(r"``([^`]*)``|`([^`]*)`")


def plain(text: str) -> str:
    """reST text as plain text: ````code```` and ```role``` lose their backticks, and the
    lines of a paragraph are joined."""
    return " ".join(_BACKTICKS.sub(lambda m: m[1] if m[1] is not None else m[2], text).split())


def describe(cls: object) -> str:
    """A race's description for --help: the first paragraph of its docstring, whole."""
    doc = getattr(cls, "__doc__", None) or ""
    return plain(doc.strip().split("\n\n")[0])


def _races(width: int) -> str:
    col = max(len(n) for n in SCENARIOS) + 4
    lines = ["races:"]
    for name, cls in SCENARIOS.items():
        lines += wrap(f"  {name:<{col - 2}}{describe(cls)}", width, col)
    return "\n".join(lines)


def _lines(text: str, width: int) -> list[str]:
    """``text`` wrapped to ``width``, line by line: a continuation goes four columns
    deeper than the line it continues (a traceback's lines keep their indentation)."""
    out: list[str] = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        out += wrap(line, width, indent + 4)
    return out


def _print(text: str, width: int, file: Any = None) -> None:
    for line in _lines(text, width):
        print(line, file=file)


def expected_finding(name: str) -> str | None:
    """The failure the race ``name`` is known to have on this kernel (the start of
    its message), or None."""
    fn = getattr(SCENARIOS[name], "expected_finding", None)
    return fn() if fn is not None else None


def _is_expected(f: Failure, expected: str | None) -> bool:
    return expected is not None and f.kind == "invariant" and f.message.startswith(expected)


# -- --replay: the interleaving as a timeline ---------------------------------------------

#: Frames that are the machinery of a scheduling point, not the code that does it.
_MACHINERY = ("kernel/lib/", "sim/explore/")


def _where() -> str:
    """The function that reached the scheduling point: the first frame up the stack
    outside the lock primitives and the explorer."""
    frame = sys._getframe(2)
    while frame is not None:
        path = code_path(frame.f_code)
        if not path.startswith(_MACHINERY):
            return code_function(frame.f_code)
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _name(obj: object) -> str:
    """What a scheduling point's object is, for a reader: a lock's lockdep class
    (``zdev->state_lock``), a field (``zpci_dev.fh``), the machine's events."""
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[1], str):
        cls = next((c for c in type(obj[0]).__mro__ if not c.__name__.startswith("_")), type(obj[0]))
        return f"{cls.__name__}.{obj[1]}"
    if isinstance(obj, schedpoint.Access):
        parts = []
        if obj.reads:
            parts.append("reads " + ", ".join(_name(o) for o in obj.reads))
        if obj.writes:
            parts.append("writes " + ", ".join(_name(o) for o in obj.writes))
        return "; ".join(parts) or "nothing"
    name = getattr(obj, "lockdep_class", None)
    if isinstance(name, str):
        return name
    if isinstance(obj, schedpoint._Token):
        return obj.name
    cls = next((c for c in type(obj).__mro__ if not c.__name__.startswith("_")), type(obj))
    return cls.__name__


class _Traced(Explorer):
    """An explorer that also notes, in the order they happen, each scheduling point of
    its threads (which thread, the operation, on what, in which function) and each
    kernel log line they print.  It only watches: the run is the same.

    A call of :meth:`point` is a scheduling point when the explorer decides at it (an
    operation on a lock the race treats as atomic is not); the explorer decides once
    per step and checks the scenario's ``step_check`` invariants each time, which is
    what tells the two apart here."""

    def __init__(self, factory: Callable[[], Any], **kw: Any) -> None:
        super().__init__(self._counting(factory), **kw)
        self.events: list[tuple[str, str, str]] = []  # (thread, "point" or "log", text)
        self.decisions = 0

    def _counting(self, factory: Callable[[], Any]) -> Callable[[], Any]:
        def make() -> Any:
            sc = factory()
            check = sc.step_check

            def step_check() -> None:
                self.decisions += 1
                check()

            sc.step_check = step_check
            return sc

        return make

    def point(self, op: str, obj: object, ready: Callable[[], bool] | None = None) -> None:
        task = get_current()
        if not isinstance(task, task_struct):
            super().point(op, obj, ready)
            return
        what = f"{op} {_name(obj)}  ({_where()})"
        before = self.decisions
        super().point(op, obj, ready)
        if self.decisions != before:  # the explorer decided here: a step of the schedule
            self.events.append((task.name, "point", what))

    def on_log(self, line: LogLine) -> None:
        task = get_current()
        if isinstance(task, task_struct):
            self.events.append((task.name, "log", line.text))


def timeline(schedule: Sequence[str], events: Sequence[tuple[str, str, str]]) -> list[str]:
    """The interleaving step by step: ``step thread what`` -- what each thread did
    when the schedule let it run: the operation it had announced at its last
    scheduling point (``start`` the first time), and the kernel log lines it printed
    before its next one."""
    ops: dict[str, list[str]] = {}
    logs: dict[tuple[str, int], list[str]] = {}
    for thread, kind, text in events:
        done = ops.setdefault(thread, ["start"])
        if kind == "point":
            done.append(text)
        else:
            logs.setdefault((thread, len(done) - 1), []).append(text)
    width = max([len("thread"), *map(len, schedule)])
    out = [f"{'step':>5}  {'thread':<{width}}  what it did (the operation, in the kernel function)"]
    taken: dict[str, int] = {}
    for i, thread in enumerate(schedule, 1):
        j = taken.get(thread, 0)
        taken[thread] = j + 1
        seen = ops.get(thread, ["start"])
        what = seen[j] if j < len(seen) else "?"
        out.append(f"{i:5d}  {thread:<{width}}  {what}")
        out += [f"{'':5}  {'':<{width}}  log: {text}" for text in logs.get((thread, j), [])]
    return out


def _replay(name: str, text: str, max_steps: int, width: int, ap: argparse.ArgumentParser) -> int:
    try:
        schedule = parse_schedule(text)
    except ValueError:
        ap.error(f"--replay: not a schedule: {text!r} (as printed: 'fw*3 kmcheck user*2')")
    ex = _Traced(SCENARIOS[name], max_steps=max_steps)
    klog_subscribe(ex.on_log)
    try:
        run: RunResult = ex.run(schedule)
    except (KeyError, RuntimeError) as e:
        print(f"{name}: the schedule does not replay: {e}", file=sys.stderr)
        return 1
    finally:
        klog_unsubscribe(ex.on_log)
    _print(f"{name}: {format_schedule(run.schedule)}: {run.steps} steps", width)
    deeper = 5 + 2 + max([len("thread"), *map(len, run.schedule)]) + 4
    for line in timeline(run.schedule, ex.events):
        for part in wrap(line, width, deeper):
            print(part)
    expected = expected_finding(name)
    found = [f for f in run.failures if _is_expected(f, expected)]
    others = [f for f in run.failures if f not in found]
    if run.outcome:
        _print(f"  outcome: {run.outcome}", width)
    if found:
        _print(f"  EXPECTED FINDING on this kernel: {found[0].kind}: {found[0].message}", width)
    for f in others:
        _print(f"  {f.kind}: {f.message}", width)
    if not run.failures and not run.outcome:
        _print("  outcome: the run ended without failing", width)
    return 1 if others else 0


def main(argv: list[str] | None = None) -> int:
    # the width, for --help too (the parser below says what is wrong with a bad one)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--width", default=None)
    known, _ = pre.parse_known_args(argv)
    asked = int(known.width) if known.width and known.width.isdigit() else None
    width = output_width(asked if asked is not None and asked >= MIN_WIDTH else None)
    ap = argparse.ArgumentParser(
        prog="python -m sim.explore",
        description="\n".join(wrap(plain(__doc__.split("\n\n")[0]) if __doc__ else "", width, 0)),
        epilog=_races(width),
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, width=width),
    )
    ap.add_argument("scenario", nargs="*", metavar="RACE", help="races to explore (default: all)")
    ap.add_argument(
        "--events", type=int, default=TwoReaders.EVENTS, help="records in two-readers (default 2)"
    )
    ap.add_argument(
        "--max-runs", type=int, default=None, metavar="N", help="stop a search after N runs (exit 1)"
    )
    ap.add_argument(
        "--max-steps", type=int, default=20000, metavar="N", help="step cap of one run (default 20000)"
    )
    ap.add_argument(
        "--load-store", action="store_true", help="make PCI config loads/stores scheduling points"
    )
    ap.add_argument(
        "--replay",
        metavar="SCHEDULE",
        help="replay one printed schedule of one RACE: the interleaving step by step, and its outcome",
    )
    ap.add_argument(
        "--width",
        type=int,
        default=None,
        metavar="N",
        help=f"output width (default: the terminal's, 80 when not a terminal; at least {MIN_WIDTH})",
    )
    args = ap.parse_args(argv)
    if args.width is not None and args.width < MIN_WIDTH:
        ap.error(f"--width: {args.width} is too narrow; at least {MIN_WIDTH} columns")
    unknown = [n for n in args.scenario if n not in SCENARIOS]
    if unknown:
        ap.error(f"unknown race {unknown[0]!r} (races: {', '.join(SCENARIOS)})")
    if args.events < 1 or (args.max_runs is not None and args.max_runs < 1) or args.max_steps < 1:
        ap.error("--events, --max-runs and --max-steps take a positive number")
    if args.replay is not None and len(args.scenario) != 1:
        ap.error("--replay takes exactly one RACE")
    TwoReaders.EVENTS = args.events
    names = args.scenario or list(SCENARIOS)
    for n in names:
        SCENARIOS[n].LOAD_STORE = args.load_store  # type: ignore[attr-defined]
    start_kernel()
    if args.replay is not None:
        return _replay(names[0], args.replay, args.max_steps, width, ap)
    bad = 0
    for name in names:
        result = Explorer(
            SCENARIOS[name], max_runs=args.max_runs, max_steps=args.max_steps, stop_on_failure=False
        ).explore()
        _print(str(result), width)
        expected = expected_finding(name)
        if expected is None:
            for f in result.failures:
                _print(str(f), width)
            if not result.ok:
                bad += 1
            continue
        found = [f for f in result.failures if _is_expected(f, expected)]
        others = [f for f in result.failures if f not in found]
        if found:
            n = f"{len(found)} of {result.runs}"
            _print(f"  EXPECTED FINDING on this kernel, in {n} schedules: {found[0]}", width)
        else:
            _print(f"  the expected finding on this kernel was NOT found: {expected}", width)
        for f in others:
            _print(str(f), width)
        if not found or others or not result.complete:
            bad += 1
    if bad:
        _print(f"{bad} of {len(names)} races failed or were not explored exhaustively", width, sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
