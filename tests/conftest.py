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


#: Tests whose expectations are the v17 checkout's own output (the docs' transcripts
#: and diagram, the committed execution index, outputs that name v17 as this tree,
#: the reset_done finding, tools.series in a git checkout).  In a tree written from
#: another series (``python -m tools.series tree mainline DIR``) they skip, saying so.
V17_OUTPUTS = (
    "tests/docs/test_transcripts.py::test_the_page_shows_what_runs",
    "tests/docs/test_transcripts.py::test_the_diagram_page_is_what_the_run_writes",
    "tests/tools/test_index.py::test_the_index_lists_the_checked_functions_in_runs_with_and_without_options",
    "tests/tools/test_index.py::test_listed_steps_are_the_steps_of_zpcisim_run_name_that_run_the_function",
    "tests/sim/test_compare.py::test_render_puts_the_two_columns_side_by_side_with_the_marker_between",
    "tests/sim/test_installed.py::test_compare_passthrough_kvm",
    "tests/sim/test_installed.py::test_a_tree_of_the_installed_package_is_the_checkouts_without_tests",
    "tests/sim/test_cli_user.py::test_the_close_step_of_a_diagram_says_close",
    "tests/sim/test_cli_user.py::test_compare_counts_the_unmet_expectations_in_one_line_per_tree",
    "tests/sim/test_cli_user.py::test_explore_fits_80_columns_in_a_pipe",
    "tests/sim/test_cli_user.py::test_explore_replay_prints_the_interleaving_and_the_expected_finding_exits_0",
    "tests/sim/test_explain.py::test_zpcisim_explain_in_a_pipe_is_80_columns_as_a_user_runs_it",
    "tests/tools/test_series.py::test_a_tree_that_does_not_exist_is_a_usage_error",
    "tests/sim/explore/test_cli.py::test_replay_of_an_expected_finding_shows_it_and_exits_0",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The :data:`LONG_POLES` first, the rest in collection order (a stable sort, so the
    order is the same in every run and on every worker); in a tree other than v17 the
    :data:`V17_OUTPUTS` skip."""
    first = {nodeid: i for i, nodeid in enumerate(LONG_POLES)}
    items.sort(key=lambda item: first.get(item.nodeid, len(first)))
    from sim.trees import THIS_TREE

    if THIS_TREE != "v17":
        skip = pytest.mark.skip(reason=f"expects the v17 checkout's own output; this tree is {THIS_TREE}")
        for item in items:
            if item.nodeid.split("[")[0] in V17_OUTPUTS:
                item.add_marker(skip)


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
