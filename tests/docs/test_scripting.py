"""docs/scripting.md: its script runs and prints exactly what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/scripting.md"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", PAGE.read_text(), flags=re.M | re.S)


def run(code: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_page_has_one_script_and_its_output() -> None:
    (code,) = blocks("python")
    (out,) = blocks("text")
    assert "@scenario(" in code and "run_scenario(" in code
    assert len(code.splitlines()) <= 32  # "about twenty lines" of statements, with imports
    assert out.splitlines()[-1] == "PASS"


def test_the_script_prints_what_the_page_says() -> None:
    (code,) = blocks("python")
    (out,) = blocks("text")
    res = run(code)
    assert (res.returncode, res.stderr) == (0, "")
    assert res.stdout == out
    lines = res.stdout.splitlines()
    # the recovery as the page tells it, in order
    assert [ln[6:] for ln in lines[2:8]] == [
        "user-driver irq    read eventfd: counter 2",
        "user-driver ioctl  VFIO_DEVICE_GET_INFO = 0",
        "user-driver ioctl  VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3a fid 0x10 fh 0x80010001)",
        "user-driver ioctl  VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3d fid 0x10 fh 0x80010001)",
        "user-driver ioctl  VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG",
        "user-driver ioctl  VFIO_DEVICE_RESET = 0",
    ]
    assert lines[-2][6:] == "admin       sysfs  echo 0000:00:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind"


def test_a_broken_expectation_in_the_script_fails_the_run() -> None:
    (code,) = blocks("python")
    broken = code.replace("== [0x3A, 0x3D]", "== [0x3D, 0x3A]")
    assert broken != code
    res = run(broken)
    assert res.returncode == 0
    assert res.stdout.splitlines()[-1] == "expectation not met: both records, oldest first"
