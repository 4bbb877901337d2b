"""The race explorer's cost per schedule, against one plain run of the same race.

Plain run: the scenario made fresh, its ``setup()``, its threads started as real
threads with no explorer installed (each scheduling point returns at once), joined,
then ``check()`` and ``teardown()`` -- what one schedule does, without the search.

Explorer: ``Explorer(scenario).explore()`` of the whole race, its cost divided by
the runs it made (complete schedules and the redundant runs the sleep sets cut
short: each of those also boots the machine).

Both are measured as wall time and as CPU time of the process.  On a machine
shared with other work the wall time of a run that hands the CPU between threads
includes waiting for the OS to schedule them again; the CPU time does not.

The ratio is the explorer's overhead per schedule: switching between the explored
threads, the bookkeeping of the partial-order reduction, the invariants checked at
every step.  A race whose scenario names an expected finding on this kernel
(``expected_finding()``) may fail with that finding, and only with it.
"""

from __future__ import annotations

import threading
import time

from kernel.init.main import start_kernel
from sim.explore.explorer import Explorer
from sim.explore.scenarios import SCENARIOS

__all__ = ["Cost", "explorer_cost_per_schedule", "plain_run_cost"]

#: (wall seconds, CPU seconds)
Cost = tuple[float, float]


def _expected(name: str) -> str | None:
    fn = getattr(SCENARIOS[name], "expected_finding", None)
    return fn() if fn is not None else None


def plain_run_cost(name: str) -> Cost:
    """One run of the race ``name`` on real threads, no explorer."""
    start_kernel()
    w0, c0 = time.perf_counter(), time.process_time()
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
    try:
        scenario.check()
    except AssertionError as e:
        expected = _expected(name)
        if expected is None or not str(e).startswith(expected):
            raise
    scenario.teardown()
    return time.perf_counter() - w0, time.process_time() - c0


def explorer_cost_per_schedule(name: str) -> tuple[Cost, int]:
    """((wall, CPU) seconds per run, runs) exploring the race ``name`` exhaustively."""
    start_kernel()
    c0 = time.process_time()
    result = Explorer(SCENARIOS[name], stop_on_failure=False).explore()
    cpu = time.process_time() - c0
    expected = _expected(name)
    bad = [f for f in result.failures if expected is None or not f.message.startswith(expected)]
    if bad or not result.complete:
        raise RuntimeError(f"the race scenario failed: {bad[0] if bad else result.stopped}")
    runs = result.runs + result.pruned
    return (result.seconds / runs, cpu / runs), runs
