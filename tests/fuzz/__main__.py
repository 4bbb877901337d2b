"""Soak mode of the ioctl fuzzer: ``python -m tests.fuzz --soak`` runs 200,000 examples
(``-n N`` another number) with the strategies of :mod:`tests.fuzz.strategies` and
prints the per-request result histograms and the ledger of injected records.  Exit
status 1 when a property fails (hypothesis prints the shrunk example).

Which inputs: ``--seed N`` draws them from seed N, so a run is replayed with the
same seed and ``-n``.  ``--soak`` without ``--seed`` picks a random seed, so each
soak explores new inputs.  Without either, the run is derandomized (the same
inputs every time, as the test suite's ``fuzz`` profile).  The first line says
which (``seed 1234 (replay: python -m tests.fuzz --seed 1234 -n 200000)``, or
``seed: derandomized``); a failure repeats it."""

from __future__ import annotations

import argparse
import random
import sys
import time

from hypothesis import given, seed, settings

from sim.fuzz import Op, Stats, run_example
from tests.fuzz.strategies import ops


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--soak", action="store_true", help="run the soak (200,000 examples unless -n)")
    p.add_argument("-n", type=int, default=None, help="number of examples")
    p.add_argument("--seed", type=int, default=None, help="draw the inputs from this seed (replays a run)")
    a = p.parse_args(argv)
    n = a.n if a.n is not None else (200_000 if a.soak else 2000)
    if a.seed is None and a.soak:
        a.seed = random.SystemRandom().getrandbits(32)
    stats = Stats()

    def soak(sequence: list[Op]) -> None:
        run_example(sequence, stats)

    if a.seed is None:
        which = "seed: derandomized"
        test = settings(settings.get_profile("soak"), max_examples=n)(given(ops)(soak))
    else:
        which = f"seed {a.seed} (replay: python -m tests.fuzz --seed {a.seed} -n {n})"
        seeded = settings(settings.get_profile("soak"), max_examples=n, derandomize=False)
        test = seed(a.seed)(seeded(given(ops)(soak)))
    print(which, flush=True)
    t0 = time.perf_counter()
    failed = False
    try:
        test()
    except Exception as e:  # a property failed: hypothesis has shrunk and printed it
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        print(f"FAILED with {which}", file=sys.stderr)
        failed = True
    print(stats.report())
    print(f"time {time.perf_counter() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
