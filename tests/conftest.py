"""Every test runs on a freshly booted kernel, and fails if it left the kernel with a
lock-order report or an unexpected WARN.  A test that provokes either on purpose
asserts it and clears :data:`kernel.lib.lockdep.reports` / :data:`kernel.lib.bug.warnings`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kernel.init.main import start_kernel
from kernel.lib import bug, lockdep

#: The longest tests (node ids), run first: under xdist (``-n auto --dist loadgroup``,
#: pyproject's addopts) each starts at once on a worker of its own while the other
#: workers share the rest, so the run is not left waiting on one of them at its end.
LONG_POLES = (
    "tests/sim/explore/test_race_scenarios.py::test_race_scenario_holds_its_invariants_in_every_schedule[two-readers]",
    "tests/fuzz/test_ioctl_fuzz.py::test_random_operation_sequences_keep_every_property",
    "tests/fuzz/test_ioctl_fuzz.py::test_the_fuzz_run_reached_every_outcome",
)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``ZPCISIM_INDEX=FILE pytest`` runs in one process (as ``-n 0``): the index's
    plugin (tools/index.py) records in the process that runs the tests.  Called before
    xdist's own hook (a conftest registers after it), which then turns distribution off."""
    if os.environ.get("ZPCISIM_INDEX") and hasattr(config.option, "numprocesses"):
        config.option.numprocesses = 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The :data:`LONG_POLES` first, the rest in collection order (a stable sort, so the
    order is the same in every run and on every worker)."""
    first = {nodeid: i for i, nodeid in enumerate(LONG_POLES)}
    items.sort(key=lambda item: first.get(item.nodeid, len(first)))


def pytest_configure(config: pytest.Config) -> None:
    """``ZPCISIM_INDEX=FILE pytest`` also writes the execution index (tools/index.py)."""
    if os.environ.get("ZPCISIM_INDEX"):
        from tools.index import install

        install(config)


@pytest.fixture(autouse=True)
def booted_kernel() -> Iterator[None]:
    start_kernel()
    yield
    problems = [*lockdep.reports, *(f"WARN {w}" for w in bug.warnings)]
    lockdep.reports.clear()
    bug.warnings.clear()
    if problems:
        pytest.fail("kernel reported problems during the test:\n" + "\n".join(problems))
