"""Fixtures for the s390 tests: a zPCI machine (the firmware model) booted under the
kernel, taken down after the test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from sim.pci.function import PciFunction
from sim.zpci.firmware import ZpciFirmware

#: The default machine: one single-function device, fid 0x10, virtio-net ids.
VENDOR = 0x1AF4
DEVICE = 0x1041


def default_functions(fw: ZpciFirmware) -> None:
    fw.add_function(0x10, PciFunction(VENDOR, DEVICE), pchid=0x2C)


@pytest.fixture
def zmachine() -> Iterator[Callable[..., ZpciFirmware]]:
    """``zmachine(build=None, **config)``: make a firmware, let ``build(fw)`` add the
    functions (default: :func:`default_functions`), install it and boot."""
    made: list[ZpciFirmware] = []

    def make(build: Callable[[ZpciFirmware], None] | None = None, **config: bool) -> ZpciFirmware:
        fw = ZpciFirmware()
        (build or default_functions)(fw)
        fw.boot(**config)
        made.append(fw)
        return fw

    yield make
    for fw in made:
        fw.shutdown()
