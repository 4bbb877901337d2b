"""The race explorer's cost per schedule, against one plain run of the same race.

Plain run: the scenario made fresh, its ``setup()``, its threads started as real
threads with no explorer installed (each scheduling point returns at once), joined,
then ``check()`` and ``teardown()`` -- what one schedule does, without the search.

Explorer: ``Explorer(scenario).explore()`` of the whole race, its wall time divided
by the runs it made (complete schedules and the redundant runs the sleep sets cut
short: each of those also boots the machine).

The ratio is the explorer's overhead per schedule: thread hand-offs, the bookkeeping
of the partial-order reduction, the invariants checked at every step.
"""

from __future__ import annotations

import threading
import time

from kernel.init.main import start_kernel
from sim.explore.explorer import Explorer
from sim.explore.scenarios import SCENARIOS

__all__ = ["explorer_seconds_per_schedule", "plain_run_seconds"]


def plain_run_seconds(name: str) -> float:
    """One run of the race ``name`` on real threads, no explorer."""
    start_kernel()
    t0 = time.perf_counter()
    scenario = SCENARIOS[name]()
    scenario.setup()
    errors: list[BaseException] = []

    def wrap(body: object) -> None:
        try:
            body()  # type: ignore[operator]
        except BaseException as e:  # the scenario's own assertion, say
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(body,), name=n) for n, body in scenario.threads()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{name}: a thread of the plain run failed: {errors[0]!r}")
    scenario.check()
    scenario.teardown()
    return time.perf_counter() - t0


def explorer_seconds_per_schedule(name: str) -> tuple[float, int]:
    """(seconds per run, runs) exploring the race ``name`` exhaustively."""
    start_kernel()
    result = Explorer(SCENARIOS[name], stop_on_failure=False).explore()
    if result.failures:
        raise RuntimeError(f"the race scenario failed: {result.failures[0]}")
    runs = result.runs + result.pruned
    return result.seconds / runs, runs
