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
import sys

from kernel.init.main import start_kernel
from sim.explore.explorer import Explorer, format_schedule, parse_schedule
from sim.explore.scenarios import SCENARIOS, TwoReaders


def _races() -> str:
    lines = ["races:"]
    for name, cls in SCENARIOS.items():
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        lines.append(f"  {name:16s} {doc}")
    return "\n".join(lines)


def expected_finding(name: str) -> str | None:
    """The failure the race ``name`` is known to have on this kernel (the start of
    its message), or None."""
    fn = getattr(SCENARIOS[name], "expected_finding", None)
    return fn() if fn is not None else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m sim.explore",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=_races(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    ap.add_argument("--replay", metavar="SCHEDULE", help="replay one printed schedule of one RACE")
    args = ap.parse_args(argv)
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
        try:
            schedule = parse_schedule(args.replay)
        except ValueError:
            ap.error(f"--replay: not a schedule: {args.replay!r} (as printed: 'fw*3 kmcheck user*2')")
        ex = Explorer(SCENARIOS[names[0]], max_steps=args.max_steps)
        try:
            run = ex.run(schedule)
        except (KeyError, RuntimeError) as e:
            print(f"{names[0]}: the schedule does not replay: {e}", file=sys.stderr)
            return 1
        print(
            f"{names[0]}: {format_schedule(run.schedule)}: {run.steps} steps, {run.outcome or 'no outcome'}"
        )
        for f in run.failures:
            print(f)
        return 1 if run.failures else 0
    bad = 0
    for name in names:
        result = Explorer(
            SCENARIOS[name], max_runs=args.max_runs, max_steps=args.max_steps, stop_on_failure=False
        ).explore()
        print(result)
        expected = expected_finding(name)
        if expected is None:
            for f in result.failures:
                print(f)
            if not result.ok:
                bad += 1
            continue
        found = [f for f in result.failures if f.kind == "invariant" and f.message.startswith(expected)]
        others = [f for f in result.failures if f not in found]
        if found:
            n = f"{len(found)} of {result.runs}"
            print(f"  EXPECTED FINDING on this kernel, in {n} schedules: {found[0]}")
        else:
            print(f"  the expected finding on this kernel was NOT found: {expected}")
        for f in others:
            print(f)
        if not found or others or not result.complete:
            bad += 1
    if bad:
        print(f"{bad} of {len(names)} races failed or were not explored exhaustively", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
