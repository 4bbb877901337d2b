"""Fixtures of the PCI core tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kernel.lib.kconfig import kconfig_override


@pytest.fixture
def not_s390() -> Iterator[None]:
    """A kernel built for another architecture (CONFIG_S390=n): since v17 1/7 that is
    where a slot still covers every function of its device number."""
    with kconfig_override(CONFIG_S390=False):
        yield
