"""``python -m bench``: the model's speed against its floor, as ratios measured in one run.

Each figure is the median of ``--repeat`` repetitions (default 5).  The rows:

1. host error path, per record: firmware ``inject_error`` -> kernel event thread ->
   vfio-pci eventfd -> userspace eventfd read + ``VFIO_DEVICE_FEATURE`` GET, against
   the floor (deque push/pop of the 32-byte record, a lock, an eventfd write/read, a
   copy into a user buffer);
2. scaling: per-record cost with 256 functions over the cost with 1 (and 16);
3. scenario latency: ``zpcisim run passthrough-kvm`` (guest process included) against
   ``python -c "import kernel, uapi, sim"``, as wall time of the whole command;
4. explorer rate: schedules per second exploring the close-vs-error race
   (``sim.explore``);
4b. explorer cost: per race, the explorer's wall and CPU time per schedule against
   one plain run of the same race on real threads (:mod:`bench.explore`; goal: at
   most 3x);
5. suite time: the full test suite's wall time as CI runs it (``--suite``; off by
   default because it takes a while).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import errpath
from bench import explore as explore_bench
from sim.cli import MIN_WIDTH, output_width
from sim.compare import wrap

ROOT = Path(__file__).resolve().parent.parent


def median_of(repeat: int, fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(repeat))


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def explorer_rate() -> float:
    """Schedules per second, exploring the close-vs-error race exhaustively."""
    from kernel.init.main import start_kernel
    from sim.explore.explorer import Explorer
    from sim.explore.scenarios import SCENARIOS

    start_kernel()
    result = Explorer(SCENARIOS["error-vs-close"], stop_on_failure=False).explore()
    if result.failures:
        raise RuntimeError(f"the race scenario failed: {result.failures[0]}")
    return (result.runs + result.pruned) / result.seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=5, help="repetitions per figure (median taken)")
    p.add_argument("--records", type=int, default=1000, help="records per error-path run")
    p.add_argument("--suite", action="store_true", help="also time the full test suite")
    p.add_argument(
        "--width",
        type=int,
        default=None,
        metavar="N",
        help=f"output width (default: the terminal's, 80 when not a terminal; at least {MIN_WIDTH})",
    )
    ns = p.parse_args(argv)
    if ns.width is not None and ns.width < MIN_WIDTH:
        p.error(f"--width: {ns.width} is too narrow; at least {MIN_WIDTH} columns")
    width = output_width(ns.width)
    rows: list[tuple[str, str, str, str]] = []

    model = median_of(ns.repeat, lambda: errpath.model_records_per_s(ns.records))
    floor = median_of(ns.repeat, lambda: errpath.floor_records_per_s(ns.records * 20))
    ratio = f"{floor / model:.0f}x"
    rows.append(("host error path", f"{model:,.0f} rec/s", f"floor {floor:,.0f} rec/s", ratio))

    def per_record(n: int) -> float:
        return median_of(ns.repeat, lambda: errpath.model_records_per_s(ns.records, n))

    per = {n: per_record(n) for n in (1, 16, 256)}
    rows.append(
        (
            "scaling 1/16/256 fns",
            " / ".join(f"{1e6 / per[n]:.0f} us" for n in (1, 16, 256)),
            "per record",
            f"{per[1] / per[256]:.2f}x (256 vs 1)",
        )
    )

    run = median_of(ns.repeat, lambda: wall([sys.executable, "-m", "sim", "run", "passthrough-kvm"]))
    imp = median_of(ns.repeat, lambda: wall([sys.executable, "-c", "import kernel, uapi, sim"]))
    rows.append(("passthrough-kvm run", f"{run:.2f} s", f"import {imp:.2f} s", f"{run / imp:.1f}x"))

    rate = median_of(ns.repeat, explorer_rate)
    rows.append(("explorer", f"{rate:,.0f} schedules/s", "close vs error", ""))

    from sim.explore.scenarios import SCENARIOS

    for name in SCENARIOS:
        plain = [explore_bench.plain_run_cost(name) for _ in range(ns.repeat)]
        each = [explore_bench.explorer_cost_per_schedule(name)[0] for _ in range(ns.repeat)]
        pw, pc = (statistics.median(x[i] for x in plain) for i in (0, 1))
        ew, ec = (statistics.median(x[i] for x in each) for i in (0, 1))
        rows.append(
            (
                f"explore {name}",
                f"{ew * 1e3:.1f} ms/schedule (CPU {ec * 1e3:.1f})",
                f"plain run {pw * 1e3:.1f} ms (CPU {pc * 1e3:.1f})",
                f"{ew / pw:.2f}x (CPU {ec / pc:.2f}x)",
            )
        )

    if ns.suite:
        suite = wall([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"])
        rows.append(("test suite", f"{suite:.1f} s", "as CI runs it", ""))

    title = f"median of {ns.repeat} runs, {ns.records} records per error-path run"
    print("\n".join(table(rows, title, width)))
    return 0


def table(rows: list[tuple[str, str, str, str]], title: str, width: int) -> list[str]:
    """The rows as a table at most ``width`` columns wide: one line per row, the
    columns aligned; when that is too wide, each row's name on a line of its own and
    its figures aligned under it, two columns in (a line still too long wraps, never
    inside a word)."""
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out = wrap(title, width, 2)
    if sum(widths) + 6 <= width:
        for r in rows:
            out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        return out
    for r in rows:
        out += wrap(r[0], width, 2)
        figures = "  ".join(c.ljust(w) for c, w in zip(r[1:], widths[1:], strict=True)).rstrip()
        out += wrap("  " + figures, width, 4)
    return out


if __name__ == "__main__":
    sys.exit(main())
