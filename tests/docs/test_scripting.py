"""docs/scripting.md: its script runs and prints exactly what the page says.

The page shows what the script prints on this checkout (v17).  On the merged tree the
same script prints the same lines, numbered differently: vfio-pci lost ``reset_done``
in the merged series, so the PCI core logs "vfio-pci 0000:00:00.0: reset done" after
each reset, two host steps more than v17 (the reset at open and the user's reset).
The test runs the script, takes every step of its run, and checks that numbering the
steps without those lines gives the page's output exactly -- on v17 there are none."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.offered import merged

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


#: the PCI core's line after a reset of a device whose driver has no reset_done (merged)
RESET_DONE = ("host", "log", "vfio-pci 0000:00:00.0: reset done")
#: appended to the page's script: every step of the run, as JSON, on the last line
DUMP = "\nimport json\nprint(json.dumps([[s.seq, s.actor, s.kind, s.text] for s in result.steps]))\n"


def test_the_script_prints_what_the_page_says() -> None:
    (code,) = blocks("python")
    (out,) = blocks("text")
    res = run(code + DUMP)
    assert (res.returncode, res.stderr) == (0, "")
    *printed, dump = res.stdout.splitlines()
    steps = json.loads(dump)
    reset_done = [seq for seq, *rest in steps if tuple(rest) == RESET_DONE]
    assert len(reset_done) == (2 if merged() else 0)
    # number the steps as v17 does: without the merged kernel's "reset done" lines
    renumber = {seq: n for n, seq in enumerate((s[0] for s in steps if s[0] not in reset_done), 1)}
    v17 = []
    for line in printed[:-1]:
        seq, rest = line[:4], line[4:]
        v17.append(f"{renumber[int(seq)]:4d}{rest}")
    assert "\n".join([*v17, printed[-1]]) + "\n" == out
    if not merged():
        assert "\n".join(printed) + "\n" == out  # this checkout: exactly the page
    lines = printed
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
