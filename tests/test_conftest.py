"""tests/conftest.py: the autouse fixture fails a test that leaves a lockdep report or
a WARN -- also when the test booted a second kernel after the report."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAD = "Failed: kernel reported problems during the test:"

TEST = textwrap.dedent(
    """
    from kernel.lib.bug import WARN
    from kernel.lib.mutex import DEFINE_MUTEX, mutex_lock, mutex_unlock
    from sim.host import Host
    from sim.pci.function import PciFunction


    def take(first, second):
        mutex_lock(first)
        mutex_lock(second)
        mutex_unlock(second)
        mutex_unlock(first)


    def test_abba_then_a_second_boot():
        host = Host.boot({0x10: PciFunction(0x1AF4, 0x1041)})
        a, b = DEFINE_MUTEX("A"), DEFINE_MUTEX("B")
        take(a, b)
        take(b, a)
        host.shutdown()
        Host.boot({0x10: PciFunction(0x1AF4, 0x1041)}).shutdown()


    def test_warn_then_a_second_boot():
        WARN(True, "first kernel")
        Host.boot({0x10: PciFunction(0x1AF4, 0x1041)}).shutdown()


    def test_clean():
        Host.boot({0x10: PciFunction(0x1AF4, 0x1041)}).shutdown()
    """
)


def test_reports_of_a_first_boot_fail_the_test_after_a_second_boot(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text("from tests.conftest import booted_kernel  # noqa: F401\n")
    (tmp_path / "test_twice.py").write_text(TEST)
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "test_twice.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 1, out
    summary = [line for line in out.splitlines() if line.startswith(("PASSED", "ERROR", "FAILED"))]
    assert summary == [
        "PASSED test_twice.py::test_abba_then_a_second_boot",
        "PASSED test_twice.py::test_warn_then_a_second_boot",
        "PASSED test_twice.py::test_clean",
        f"ERROR test_twice.py::test_abba_then_a_second_boot - {HEAD}",
        f"ERROR test_twice.py::test_warn_then_a_second_boot - {HEAD}",
    ]
    path = tmp_path / "test_twice.py"

    def at(needle: str, func: str) -> str:
        (n,) = [i for i, line in enumerate(TEST.splitlines(), 1) if needle in line]
        return f"{path}:{n} ({func})"

    held, taken = at("mutex_lock(first)", "take"), at("mutex_lock(second)", "take")
    errors = [line.removeprefix("E").strip() for line in out.splitlines() if line.startswith("E ")]
    assert [e for e in errors if e] == [
        HEAD,
        "WARNING: possible circular locking dependency detected",
        f"MainThread is trying to acquire lock A at {taken}",
        f"but it already holds lock B, taken at {held}",
        "which lock already depends on the new lock, in the other order:",
        f"A (taken at {held}) -> B (taken at {taken})",
        HEAD,
        f"WARN {at('WARN(True', 'test_warn_then_a_second_boot')}: first kernel",
    ]


def test_the_long_poles_are_collected_first_in_their_order() -> None:
    """tests/conftest.py's LONG_POLES name tests that exist (a renamed one would no longer
    be put first), and the collection starts with them, in that order, before the
    tests of their own files."""
    from tests.conftest import LONG_POLES

    files = sorted({nodeid.split("::")[0] for nodeid in LONG_POLES})
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "--collect-only", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert collected[: len(LONG_POLES)] == list(LONG_POLES)
    assert len(collected) > len(LONG_POLES)
