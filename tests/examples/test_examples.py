"""The examples of the README run and print what the README says."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_vfio_info_example_reads_device_and_error_irq_info(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "vfio_info.py"), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "/dev/vfio/devices/vfio0: flags=0x83 regions=9 irqs=5",  # RESET | PCI | CAPS
        "error IRQ: count=1 flags=0x9",  # EVENTFD | NORESIZE, on a PCIe function
    ]
