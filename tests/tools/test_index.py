"""tools/index.py: the execution index -- its format, its check, and a real recording
of a small part of the suite (the plugin in a pytest of its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim.explain import parse_ranges, read_index
from sim.scenarios import run_scenario
from tests.offered import merged
from tools import index as I

ROOT = Path(__file__).resolve().parents[2]
KVM = "tests/sim/scenarios/test_passthrough_kvm.py"


def test_node_ids_become_file_and_test_without_parameters() -> None:
    assert I.split_nodeid("tests/x.py::test_a[1-2]") == ("tests/x.py", "test_a")
    assert I.split_nodeid("tests/x.py::TestC::test_b") == ("tests/x.py", "TestC::test_b")


def test_steps_are_written_as_ranges_and_read_back() -> None:
    assert I.ranges({3, 5, 6, 7, 10}) == "3 5-7 10"
    assert I.ranges(set()) == ""
    assert parse_ranges("3 5-7 10") == [3, 5, 6, 7, 10]


def test_a_file_s_tests_are_listed_by_name_all_or_all_but_a_few() -> None:
    every = {"test_a", "test_b", "test_c", "test_d"}
    assert I.listing(every, every) == "*"
    assert I.listing({"test_a", "test_b", "test_c"}, every) == "* except test_d"
    assert I.listing({"test_b", "test_a"}, every) == "test_a test_b"


def test_function_bodies_leave_out_the_def_line_and_the_docstring(tmp_path: Path) -> None:
    (tmp_path / "kernel").mkdir()
    (tmp_path / "kernel/m.py").write_text(
        '"""doc."""\n'  # 1
        "\n"
        "\n"
        "@decorator\n"  # 4
        "def f(x):\n"  # 5
        '    """Doc\n'  # 6
        '    string."""\n'  # 7
        "    y = x\n"  # 8
        "    return y\n"  # 9
        "\n"
        "\n"
        "X = 1\n"  # 12
        "\n"
        "\n"
        "def g():\n"  # 15
        '    """Only a docstring: its body is the docstring."""\n'  # 16
        "\n"
        "\n"
        "def _python_helper():\n"  # 19
        "    return 0\n"
        "\n"
        "\n"
        "def __c_name():\n"  # 23
        "    return 0\n"  # 24
    )
    (tmp_path / "kernel/lib").mkdir()
    (tmp_path / "kernel/lib/mutex.py").write_text("def mutex_lock(m):\n    m.acquire()\n")
    assert I.function_lines(tmp_path) == {"kernel/m.py": {8: "f", 9: "f", 16: "g", 24: "__c_name"}}


def test_render_is_sorted_by_file_and_line_and_reads_back() -> None:
    idx = I.Index()
    idx.all_tests = {"tests/t.py": {"test_a", "test_b"}}
    idx.add_test(("kernel/b.py", "late"), "tests/t.py::test_a")
    idx.add_test(("kernel/b.py", "early"), "tests/t.py::test_a[x]")
    idx.add_test(("kernel/b.py", "early"), "tests/t.py::test_b")
    idx.add_scenario(("kernel/b.py", "early"), "s1", 4)
    idx.add_scenario(("kernel/b.py", "early"), "s1", 5)
    idx.add_scenario(("kernel/b.py", "early"), "s0")
    idx.add_test(("kernel/a.py", "z"), "tests/t.py::test_b")
    text = idx.render({("kernel/b.py", "early"): 3, ("kernel/b.py", "late"): 9, ("kernel/a.py", "z"): 50})
    assert text == I.HEADER + (
        "\nkernel/a.py z\n  tests/t.py test_b\n"
        "\nkernel/b.py early\n  tests/t.py *\n  scenario s0:\n  scenario s1: 4-5\n"
        "\nkernel/b.py late\n  tests/t.py test_a\n"
    )


def test_check_exits_0_when_fresh_1_with_the_diff_when_stale_2_without_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    committed = tmp_path / "executed.txt"
    committed.write_text(I.HEADER + "\nkernel/a.py f\n  tests/t.py *\n")
    fresh = tmp_path / "fresh.txt"
    fresh.write_text(committed.read_text())
    assert I.main(["--check", str(fresh), "--index", str(committed)]) == 0
    assert capsys.readouterr().out == f"ok: {committed} is the index of this tree's test suite\n"
    fresh.write_text(committed.read_text() + "\nkernel/new.py g\n  tests/t.py test_a\n")
    assert I.main(["--check", str(fresh), "--index", str(committed)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-4:] == [
        "+",
        "+kernel/new.py g",
        "+  tests/t.py test_a",
        f"{committed} is stale: refresh it with python -m tools.index and commit it",
    ]
    assert I.main(["--check", str(tmp_path / "none.txt"), "--index", str(committed)]) == 2
    assert "none.txt: no such file" in capsys.readouterr().out


#: The part of the suite the plugin records in the tests below.
PART = [
    "tests/sim/scenarios/test_ism_error_irq.py",
    "tests/kernel/lib/test_kref_bug.py",
    f"{KVM}::test_guest_drives_the_reset_of_an_error_left_to_userspace",
]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The index of :data:`PART` recorded by a serial pytest and by a pytest-xdist one
    (two workers), run side by side."""
    tmp = tmp_path_factory.mktemp("index")
    runs = []
    for out, xdist in ((tmp / "serial.txt", []), (tmp / "xdist.txt", ["-n", "2"])):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZPCISIM_INDEX")}
        env[I.ENV] = str(out)
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *xdist, *PART]
        runs.append(
            subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        )
    for run in runs:
        text, _ = run.communicate(timeout=300)
        assert run.returncode == 0, text
    return tmp / "serial.txt", tmp / "xdist.txt"


def test_an_xdist_run_writes_the_index_a_serial_run_writes(recorded: tuple[Path, Path]) -> None:
    serial, xdist = recorded
    assert xdist.read_bytes() == serial.read_bytes()


def test_a_worker_s_recording_reaches_the_controller_whole() -> None:
    idx = I.Index()
    idx.all_tests = {"tests/t.py": {"test_a", "test_b"}}
    idx.add_test(("kernel/b.py", "f"), "tests/t.py::test_a[x]")
    idx.add_scenario(("kernel/b.py", "f"), "s1 --errors 6", 4)
    idx.add_scenario(("kernel/b.py", "f"), "s0")
    merged = I.Index()
    merged.add_test(("kernel/b.py", "f"), "tests/t.py::test_b")
    assert I.load_into(merged, I.dump(idx, ["tests/t.py::test_a"])) == ["tests/t.py::test_a"]
    assert merged.tests == {("kernel/b.py", "f"): {"tests/t.py": {"test_a", "test_b"}}}
    assert merged.scenarios == {("kernel/b.py", "f"): {"s1 --errors 6": {4}, "s0": set()}}
    assert merged.all_tests == idx.all_tests


def test_an_observer_sees_the_options_that_chose_the_errors_as_typed() -> None:
    from sim.scenarios import RUN_OBSERVERS, run_scenario

    seen: list[tuple[str, str]] = []

    def observe(name: str, timeline: Any, verbose: bool, options: str) -> Any:
        seen.append((name, options))
        return lambda result: None

    RUN_OBSERVERS.append(observe)
    try:
        run_scenario("ism-error-irq", count=2, fid=0x30)
        run_scenario("perm-failure", pec=0x3B)
        run_scenario("multifunction-reset")
    finally:
        RUN_OBSERVERS.remove(observe)
    assert seen == [
        ("ism-error-irq", "--errors 2 --fid 0x30"),
        ("perm-failure", "--pec 0x3b"),
        ("multifunction-reset", ""),
    ]


def test_the_plugin_records_tests_and_scenario_steps_from_a_real_run(recorded: tuple[Path, Path]) -> None:
    out, _ = recorded
    idx = read_index(out)
    assert idx is not None
    # the step numbers below are v17's; the merged tree's runs have the PCI core's
    # "reset done" lines besides (vfio-pci has no reset_done there)
    ism, kvm = steps_of_v17("ism-error-irq"), steps_of_v17("passthrough-kvm")
    # the ioctl step 24 runs the reset; the firmware's CLP and reset steps 21-23 happen inside it
    reset = idx[("kernel/s390/pci/pci.py", "zpci_hot_reset_device")]
    assert reset.tests == (("tests/sim/scenarios/test_ism_error_irq.py", ("*",)), (KVM, ("*",)))
    kvm_steps = kvm(40, 41, 42, 43, 72, 73, 74, 75)  # twice: CLP disable, reset, enable, VFIO_DEVICE_RESET
    assert reset.scenarios == (("ism-error-irq", ism(21, 22, 23, 24)), ("passthrough-kvm", kvm_steps))
    # it signals the eventfd (11), prints "Leaving recovery ..." (12) and reports the
    # status to the firmware (13, the SCLP call) and in the log (14); the error's first
    # line (10) comes before it is called
    recovery = idx[("kernel/s390/pci/pci_event.py", "zpci_event_attempt_error_recovery")]
    assert recovery.scenarios[0] == ("ism-error-irq", ism(11, 12, 13, 14))
    # the scenario test boots a kernel in its body; the fixture that boots one before
    # every test is not a test, so the kref tests do not run start_kernel
    boot = idx[("kernel/init/main.py", "start_kernel")]
    assert [path for path, _ in boot.tests] == ["tests/sim/scenarios/test_ism_error_irq.py", KVM]
    # only the guest's kernel resets the function itself: its process recorded the
    # test (coverage) and sent the functions each of its lines was printed in (steps:
    # "Initiating reset", the driver's "restarting the controller", twice)
    reset_in_guest = idx[("kernel/s390/pci/pci_event.py", "zpci_event_do_reset")]
    assert reset_in_guest.tests == ((KVM, ("*",)),)
    assert reset_in_guest.scenarios == (("passthrough-kvm", kvm(34, 46, 66, 78)),)
    # the guest's recovery runs after its "Event 0x3a reports an error" line (32): the
    # driver's "frozen state" (33) and "Initiating reset" (34) are printed inside it
    recovery_steps = set(dict(recovery_in(idx))["passthrough-kvm"])
    assert set(kvm(33, 34)) <= recovery_steps and kvm(32)[0] not in recovery_steps
    # and kernel/lib/ (mutex_lock runs everywhere) is not in the index
    assert not [fn for fn in idx if fn[0].startswith("kernel/lib/")]


def steps_of_v17(name: str) -> Callable[..., tuple[int, ...]]:
    """The steps of scenario ``name`` on this tree that are v17's steps ``n...``: the
    same on v17; on the merged tree, numbered past the PCI core's "reset done" lines."""
    res = run_scenario(name)
    assert res.passed, res.unmet
    done = [s.seq for s in res.steps if (s.actor, s.kind, s.text) == ("host", "log", RESET_DONE)]
    assert len(done) == {"ism-error-irq": 2, "passthrough-kvm": 3}[name] if merged() else not done
    kept = [s.seq for s in res.steps if s.seq not in done]
    return lambda *n: tuple(kept[k - 1] for k in n)


RESET_DONE = "vfio-pci 0000:00:00.0: reset done"


def recovery_in(idx: dict[tuple[str, str], Any]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    entry = idx[("kernel/s390/pci/pci_event.py", "zpci_event_attempt_error_recovery")]
    return tuple(entry.scenarios)


# -- the committed index, checked against the runs a user makes --------------------------

#: Functions whose scenario steps are checked against ``zpcisim run NAME``: the error
#: path of the series from the event to the reset, host and guest.
CHECKED = (
    ("kernel/s390/pci/pci_event.py", "zpci_store_pci_error"),
    ("kernel/s390/pci/pci_event.py", "zpci_event_attempt_error_recovery"),
    ("kernel/vfio/pci/vfio_pci_zdev.py", "vfio_pci_zdev_feature_err"),
    ("kernel/pci/pci.py", "pcie_flr"),
    ("kernel/s390/pci/pci.py", "zpci_hot_reset_device"),
)


def _listed() -> dict[str, dict[tuple[str, str], tuple[int, ...]]]:
    """scenario -> checked function -> the steps tests/executed.txt lists for the run
    without options (what ``zpcisim explain`` lists under "Scenarios that run it"), of
    the scenarios ``zpcisim list`` shows (a test may record a scenario of its own)."""
    from sim.scenarios import load

    shipped = set(load())
    idx = read_index(ROOT / I.INDEX) or {}
    out: dict[str, dict[tuple[str, str], tuple[int, ...]]] = {}
    for fn in CHECKED:
        for run, steps in idx[fn].scenarios if fn in idx else ():
            if " " not in run and run in shipped:
                out.setdefault(run, {})[fn] = steps
    return out


LISTED = _listed()

#: These tests check the committed index; a run that records a new one (python -m
#: tools.index, CI) must not fail on the old one it replaces (CI compares the two).
committed = pytest.mark.skipif(
    bool(os.environ.get(I.ENV)), reason="this run records the index that replaces the committed one"
)


@committed
def test_the_index_lists_the_checked_functions_in_runs_with_and_without_options() -> None:
    idx = read_index(ROOT / I.INDEX)
    assert idx is not None
    for fn in CHECKED:
        assert [s for _, s in idx[fn].scenarios if s], fn  # each runs at some step
    # a run with options is listed apart, with them, never in the numbers of the run
    # without (the steps of passthrough-kvm --errors 6 go past the 86 of the run)
    store = dict(idx[CHECKED[0]].scenarios)
    assert "passthrough-kvm --errors 6" in store
    assert max(store["passthrough-kvm --errors 6"]) > 86 >= max(store["passthrough-kvm"])


@committed
@pytest.mark.parametrize("scenario", sorted(LISTED))
def test_listed_steps_are_the_steps_of_zpcisim_run_name_that_run_the_function(
    scenario: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs ``zpcisim run NAME --json`` as typed (no options) once, recording at each
    step what the index counts (:func:`tools.index.step_functions`), and checks that
    the steps the index lists for each checked function are exactly those of this run
    at which the function runs, numbered as the run prints them."""
    from sim.cli import main
    from sim.scenarios import RUN_OBSERVERS

    ran: dict[int, set[tuple[str, str]]] = {}

    def observe(name: str, timeline: Any, verbose: bool, options: str) -> Any:
        assert (name, verbose, options) == (scenario, False, "")
        timeline.subscribe(lambda step: ran.__setitem__(step.seq, I.step_functions(step)))
        return lambda result: None

    RUN_OBSERVERS.append(observe)
    try:
        assert main(["run", scenario, "--json"]) == 0
    finally:
        RUN_OBSERVERS.remove(observe)
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["seq"] for s in printed] == list(range(1, len(printed) + 1)) == sorted(ran)
    for fn, steps in LISTED[scenario].items():
        assert steps == tuple(n for n in sorted(ran) if fn in ran[n]), (scenario, fn)
        for n in steps:
            step = printed[n - 1]
            # a step the function made itself names it, in its own file
            if step.get("function") == fn[1]:
                assert step["source"].startswith(fn[0] + ":")


@pytest.mark.parametrize(("args", "xdist"), [([], []), (["-n", "2"], ["-n", "2"])])
def test_tools_index_runs_the_suite_with_the_index_variable_set(
    args: list[str], xdist: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], str]] = []

    def call(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        calls.append((argv, env[I.ENV]))
        return 0

    monkeypatch.setattr(subprocess, "call", call)  # as tools.index calls it
    out = tmp_path / "executed.txt"
    assert I.main([*args, "--index", str(out)]) == 0
    assert calls == [([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *xdist], str(out))]
