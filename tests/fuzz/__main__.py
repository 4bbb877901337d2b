"""Soak mode of the ioctl fuzzer: ``python -m tests.fuzz --soak`` runs 200,000 examples
(``-n N`` another number) with the strategies of :mod:`tests.fuzz.strategies` and
prints the per-request result histograms and the ledger of injected records.  Exit
status 1 when a property fails (hypothesis prints the shrunk example)."""

from __future__ import annotations

import argparse
import sys
import time

from hypothesis import given, settings

from sim.fuzz import Op, Stats, run_example
from tests.fuzz.strategies import ops


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    p.add_argument("--soak", action="store_true", help="run the soak (200,000 examples unless -n)")
    p.add_argument("-n", type=int, default=None, help="number of examples")
    a = p.parse_args(argv)
    n = a.n if a.n is not None else (200_000 if a.soak else 2000)
    stats = Stats()

    @settings(settings.get_profile("soak"), max_examples=n)
    @given(ops)
    def soak(sequence: list[Op]) -> None:
        run_example(sequence, stats)

    t0 = time.perf_counter()
    failed = False
    try:
        soak()
    except Exception as e:  # a property failed: hypothesis has shrunk and printed it
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        failed = True
    print(stats.report())
    print(f"time {time.perf_counter() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
