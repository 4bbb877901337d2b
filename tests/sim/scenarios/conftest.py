"""Fixture for the scenario tests: run a scenario, insist it passed, hand back its
result and its firmware (whose functions show the final state)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim.scenarios import Result, run_scenario
from sim.zpci.firmware import ZpciFirmware

Runner = Callable[[str], tuple[Result, ZpciFirmware]]


@pytest.fixture
def passed() -> Runner:
    def run(name: str) -> tuple[Result, ZpciFirmware]:
        res = run_scenario(name)
        assert res.passed, res.failed
        fw = res.kept["fw"]
        assert isinstance(fw, ZpciFirmware)
        return res, fw

    return run
