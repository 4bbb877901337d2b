"""The installed ``zpcisim`` is the same as the checkout's (project issue 21, item 1):
every subcommand and every scenario, run as a user runs them (tests/installed.py: the
console script of an installed package, from a scratch directory, no ``PYTHONPATH``).

``.ci/run`` runs this file with ``$ZPCISIM_BIN`` set to the ``zpcisim`` of a wheel it
built and installed into a fresh venv; without it, tests/installed.py installs this
checkout into a scratch venv first.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim import series as S
from sim.explain import explain, render
from sim.scenarios import load
from tests.installed import HOW, is_installed, run_python, run_zpcisim

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = list(load())
#: The first line of ``zpcisim run``'s usage, which a usage error of run prints.
USAGE = "usage: zpcisim run [-h] [--width N] [--json] [--diagram FILE] [--verbose]"
TREES = "trees: baseline, v17, v17:N (patches 1..N of v17), mainline or mainline:N"

needs_installed = pytest.mark.skipif(not is_installed(), reason=f"runs {HOW}")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of the runs: a tree cache of this module's own."""
    yield {"ZPCISIM_CACHE": str(tmp_path_factory.mktemp("zpcisim-cache"))}


def zpcisim(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    r = run_zpcisim(*args, env=env, timeout=300)
    assert "Traceback" not in r.stderr, f"{HOW}: zpcisim {' '.join(args)}:\n{r.stderr}"
    return r


def test_list_names_every_scenario_in_order(cache: dict[str, str]) -> None:
    r = zpcisim("list", env=cache)
    assert r.returncode == 0 and r.stderr == ""
    names = [ln.split()[0] for ln in r.stdout.splitlines() if not ln.startswith(" ")]
    assert names == SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_passes(name: str, cache: dict[str, str]) -> None:
    r = zpcisim("run", name, env=cache)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines()[-1] == f"{name}: PASS"


def test_version(cache: dict[str, str]) -> None:
    r = zpcisim("--version", env=cache)
    assert (r.returncode, r.stdout, r.stderr) == (0, "zpcisim 0.1.0\n", "")


@pytest.mark.parametrize("tree", ["nonsense", "v17:0", "v17:8", "mainline:9", "v18", ""])
def test_run_kernel_that_is_not_a_tree_is_a_usage_error(tree: str, cache: dict[str, str]) -> None:
    r = zpcisim("run", "passthrough-kvm", "--kernel", tree, env=cache)
    if tree.partition(":")[0] in ("v17", "mainline"):
        series, _, _ = tree.partition(":")
        why = f"no tree {tree!r}: {series} has patches 1 to {7 if series == 'v17' else 8}"
    else:
        why = f"no tree {tree!r}; {TREES}"
    assert (r.returncode, r.stdout) == (2, "")
    lines = r.stderr.splitlines()
    assert lines[0] == USAGE
    assert all(ln.startswith(" ") for ln in lines[1:-1])  # the rest of run's usage
    assert lines[-1] == f"zpcisim: --kernel: {why}"


def test_run_kernel_mainline_passes(cache: dict[str, str]) -> None:
    r = zpcisim("run", "passthrough-kvm", "--kernel", "mainline", env=cache)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines()[-1] == "passthrough-kvm: PASS"


@pytest.mark.parametrize(
    ("tree", "last"),
    [
        ("baseline", "passthrough-kvm: FAIL: 57 expectations not met"),
        ("v17:4", "passthrough-kvm: FAIL: 49 expectations not met"),
        ("mainline:3", "passthrough-kvm: FAIL: 57 expectations not met"),
        ("v17", "passthrough-kvm: PASS"),
        ("v17:7", "passthrough-kvm: PASS"),
    ],
)
def test_run_kernel_runs_on_that_tree(tree: str, last: str, cache: dict[str, str]) -> None:
    """Before the series (and before its patch 5, the uAPI) the KVM scenario's
    expectations, which describe v17, do not hold: exit 1, the count on the last line."""
    r = zpcisim("run", "passthrough-kvm", "--kernel", tree, env=cache)
    assert r.returncode == (0 if last.endswith("PASS") else 1)
    assert r.stdout.splitlines()[-1] == last


def test_run_json_is_one_object_per_line(cache: dict[str, str]) -> None:
    r = zpcisim("run", "host-recovery", "--json", "--kernel", "mainline", env=cache)
    assert r.returncode == 0
    steps = [json.loads(ln) for ln in r.stdout.splitlines()]
    assert [s["seq"] for s in steps] == list(range(1, len(steps) + 1))
    assert r.stderr == "host-recovery: PASS\n"


def test_run_diagram_to_stdout(cache: dict[str, str]) -> None:
    r = zpcisim("run", "host-recovery", "--diagram", "-", env=cache)
    assert r.returncode == 0
    assert r.stdout.splitlines()[:3] == ["# zpcisim run host-recovery", "", "```mermaid"]
    assert r.stdout.rstrip("\n").endswith("```")
    assert r.stderr == "host-recovery: PASS\n"


def test_compare_passthrough_kvm(cache: dict[str, str]) -> None:
    r = zpcisim("compare", "passthrough-kvm", env=cache)
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert lines[:3] == [
        "zpcisim compare passthrough-kvm: the same scenario on baseline (left) and v17",
        "  (right)",
        "  25 steps the same, 6 differ, 7 only on baseline, 55 only on v17",
    ]
    assert all(len(ln) <= 80 for ln in lines)


def test_compare_from_to(cache: dict[str, str]) -> None:
    r = zpcisim("compare", "--from", "v17:2", "--to", "v17:3", "inaccessible-reset", env=cache)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout.splitlines()[2] == "  23 steps the same, 1 differ, 7 only on v17:2, 0 only on v17:3"


def test_compare_with_a_tree_that_does_not_exist(cache: dict[str, str]) -> None:
    r = zpcisim("compare", "--from", "nonsense", "passthrough-kvm", env=cache)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == f"zpcisim compare: no tree 'nonsense'; {TREES}\n"


def test_explain_answers_as_the_checkout_does(cache: dict[str, str]) -> None:
    """The series, the execution index and the test files ship with the package."""
    r = zpcisim("explain", "zpci_store_pci_error", env=cache)
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == render(explain("zpci_store_pci_error", ROOT)) + "\n"
    assert "Tests that run it (" in r.stdout and "series/v17/0004-" in r.stdout


def test_explore_runs_a_race(cache: dict[str, str]) -> None:
    r = run_python("-m", "sim.explore", "error-vs-close", env=cache)
    assert (r.returncode, r.stderr) == (0, "")
    assert re.match(
        r"error-vs-close: 24 schedules \(exhaustive over the visible operations, 0 redundant runs cut "
        r"short, longest 576 steps\), 0 failing, \d+\.\d\d s( |$)",
        " ".join(r.stdout.split()),  # wrapped at 80 columns in a pipe
    ), r.stdout


@needs_installed
def test_the_installed_package_has_no_developer_tools(cache: dict[str, str]) -> None:
    r = run_python("-c", "import sim, tools", env=cache)
    assert r.returncode == 1
    assert r.stderr.splitlines()[-1] == "ModuleNotFoundError: No module named 'tools'"
    r = run_python("-c", "import sim; print(sim.__file__)", env=cache)
    assert not Path(r.stdout.strip()).is_relative_to(ROOT)


@needs_installed
def test_a_tree_of_the_installed_package_is_the_checkouts_without_tests(
    cache: dict[str, str], tmp_path: Path
) -> None:
    """The installed package writes mainline from its kernel/, uapi/ and sim/ and the
    shipped series: the same files, byte for byte, as the tree the checkout writes,
    without tests/."""
    assert zpcisim("run", "host-recovery", "--kernel", "mainline", env=cache).returncode == 0
    r = run_python(
        "-c", "from sim import trees; print(trees.tree_path('mainline'))", env=cache
    )  # fmt: skip
    installed = Path(r.stdout.strip())
    assert installed.parent == Path(cache["ZPCISIM_CACHE"]) / "trees"
    mine = tmp_path / "mainline"
    S.write_tree("mainline", mine, S.checkout_source(ROOT))
    expected = sorted(f for f in S.checkout_source(mine).files if not f.startswith("tests/"))
    assert sorted(S.checkout_source(installed).files) == expected
    assert not (installed / "tests").exists()
    for rel in expected:
        assert (installed / rel).read_bytes() == (mine / rel).read_bytes(), rel
