"""A pytest plugin for tools.mutate: a test that runs far longer than it does on the
unmutated tree fails with :class:`MutantTimeout` (a mutant that makes a wait time out,
or a loop run on), so the mutant counts as killed by a timeout instead of holding a
worker for the whole budget.  The limits, {nodeid: seconds}, are read from
``.mutate-limits.json`` in the current directory; a test not listed has none."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

_limits: dict[str, float] = {}


class MutantTimeout(Exception):
    pass


def pytest_configure(config: pytest.Config) -> None:
    f = Path(".mutate-limits.json")
    if f.exists():
        _limits.update(json.loads(f.read_text()))


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise MutantTimeout("the test ran past its limit: the mutant makes it hang")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    limit = _limits.get(item.nodeid)
    if limit is None:
        yield
        return
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
