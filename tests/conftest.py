"""Every test runs on a freshly booted kernel, and fails if it left the kernel with a
lock-order report or an unexpected WARN.  A test that provokes either on purpose
asserts it and clears :data:`kernel.lib.lockdep.reports` / :data:`kernel.lib.bug.warnings`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kernel.init.main import start_kernel
from kernel.lib import bug, lockdep


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
