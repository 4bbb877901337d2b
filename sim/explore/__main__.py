"""``python -m sim.explore [SCENARIO...] [--events N]``: explore the race scenarios
exhaustively and print, per scenario, the number of schedules run, the longest run
in steps, the failures (with their replayable schedules) and the time taken."""

from __future__ import annotations

import argparse
import sys

from kernel.init.main import start_kernel
from sim.explore.explorer import Explorer
from sim.explore.scenarios import SCENARIOS, TwoReaders


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.explore", description=__doc__)
    ap.add_argument("scenario", nargs="*", choices=[[], *SCENARIOS], help="default: all")
    ap.add_argument("--events", type=int, default=TwoReaders.EVENTS, help="records in two-readers")
    ap.add_argument("--max-runs", type=int, default=None)
    args = ap.parse_args(argv)
    TwoReaders.EVENTS = args.events
    start_kernel()
    bad = 0
    for name in args.scenario or list(SCENARIOS):
        result = Explorer(SCENARIOS[name], max_runs=args.max_runs, stop_on_failure=False).explore()
        print(result)
        for f in result.failures:
            print(f)
        bad += len(result.failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
