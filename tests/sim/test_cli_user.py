"""The command-line defects of issue 21 (item 5) and issue 24 (item 5), each as a user
meets it: the command run as typed (``tests/installed.py``: the installed console
script when ``$ZPCISIM_BIN`` is set, else ``python -m sim`` from a scratch
directory), its exact exit status and lines, and never a traceback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.installed import ROOT, _env, popen_zpcisim, run_zpcisim, zpcisim_argv

# -- Ctrl-C ---------------------------------------------------------------------------


# The delays stay within the start-up: a quiet machine can finish the whole run about
# half a second after sim.cli has loaded (a run interrupted later is test_cli_manners's).
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.1, 0.2])
def test_ctrl_c_during_start_up_says_one_line_and_exits_130(delay: float, tmp_path: Path) -> None:
    """``timeout -s INT 0.3 zpcisim run passthrough-kvm``: at any moment of the start
    -- the model's modules loading, the kernel booting, the guest starting -- one
    line and 130.  The delays count from the moment the command's own first module
    (``sim.cli``) has loaded, which ``PYTHONPROFILEIMPORTTIME`` shows on stderr:
    before it the interpreter is still starting (its ``site`` module and the
    environment's ``.pth`` files, which can take half a second on a loaded machine),
    which no program can answer for."""
    p = popen_zpcisim("run", "passthrough-kvm", env={"PYTHONPROFILEIMPORTTIME": "1"}, cwd=tmp_path)
    assert p.stderr is not None
    seen: list[bytes] = []
    while not (line := p.stderr.readline()).rstrip().endswith(b"| sim.cli"):
        assert line, b"".join(seen).decode()[-2000:]
        seen.append(line)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    said = [ln for ln in err.decode().splitlines() if not ln.startswith("import time:")]
    assert (p.returncode, said) == (130, ["zpcisim: interrupted"])
    assert b": PASS" not in out


def test_ctrl_c_while_another_tree_runs_says_one_line_and_exits_130(tmp_path: Path) -> None:
    """``zpcisim run passthrough-kvm --kernel baseline`` runs the scenario in a child
    process; Ctrl-C (SIGINT to the terminal's process group, both processes) still
    gives one line, from the child, and 130."""
    p = subprocess.Popen(
        [*zpcisim_argv(), "run", "passthrough-kvm", "--kernel", "baseline"],
        cwd=tmp_path,
        env=_env(None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert p.stdout is not None
    assert p.stdout.readline().startswith(b"   1  ")  # the child runs
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert (p.returncode, err.decode()) == (130, "zpcisim: interrupted\n")


# -- a full disk ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["run", "passthrough-kvm"],
        ["run", "passthrough-kvm", "--json"],
        ["run", "ism-error-irq", "--diagram", "-"],
        ["list"],
        ["compare", "perm-failure"],
        ["explain", "zpci_event_error"],
    ],
)
def test_output_to_a_full_disk_says_one_line_and_exits_1(args: list[str]) -> None:
    """``zpcisim run passthrough-kvm > /dev/full``: one line on stderr, exit 1."""
    with tempfile.TemporaryDirectory() as scratch, open("/dev/full", "w") as full:
        r = subprocess.run(
            [*zpcisim_argv(), *args],
            cwd=scratch,
            env=_env(None),
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert (r.returncode, r.stderr) == (1, "zpcisim: write error: No space left on device\n")


# -- --verbose ------------------------------------------------------------------------


def test_verbose_keeps_the_step_numbers_and_marks_debug_lines() -> None:
    """With ``--verbose`` every step has the number it has without it (the docs cite
    them); a debug line is a sub-step of the step before it, ``4.1``, with ``<7>``."""
    plain = run_zpcisim("run", "passthrough-kvm", "--width", "250")
    verbose = run_zpcisim("run", "passthrough-kvm", "--verbose", "--width", "250")
    assert plain.returncode == verbose.returncode == 0
    steps = [ln for ln in verbose.stdout.splitlines() if not re.match(r"^\s*\d+\.\d+ ", ln)]
    debug = [ln for ln in verbose.stdout.splitlines() if re.match(r"^\s*\d+\.\d+ ", ln)]
    assert steps == plain.stdout.splitlines()
    assert len(debug) > 50
    assert debug[0] == " 2.1  host        log    <7>pci_bus 0000:00: dev 00, created physical slot 00000010"
    assert "4.18  host        log    <7>pci 0000:00:00.0: save config 0x3c: 0x00000100" in debug
    assert all(ln[25:28] == "<7>" for ln in debug)


def test_verbose_json_numbers_debug_lines_as_sub_steps() -> None:
    r = run_zpcisim("run", "passthrough-kvm", "--verbose", "--json")
    assert r.returncode == 0
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    steps = [o for o in objs if "sub" not in o]
    debug = [o for o in objs if "sub" in o]
    assert [o["seq"] for o in steps] == list(range(1, len(steps) + 1))
    assert debug[0] == {
        **debug[0],
        "seq": 2,
        "sub": 1,
        "actor": "host",
        "kind": "log",
        "text": "pci_bus 0000:00: dev 00, created physical slot 00000010",
        "level": 7,
    }
    assert {o["level"] for o in debug} == {7}


# -- --diagram ------------------------------------------------------------------------


def test_the_close_step_of_a_diagram_says_close() -> None:
    r = run_zpcisim("run", "passthrough-kvm", "--diagram", "-")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert "    qemu->>host: 84. close /dev/vfio/devices/vfio0" in lines
    assert not [ln for ln in lines if re.search(r": \d+\. /dev/", ln)]


def test_json_and_diagram_to_stdout_is_a_usage_error() -> None:
    """``run --json --diagram -``: both would go to stdout; exit 2, naming the conflict."""
    r = run_zpcisim("run", "passthrough-kvm", "--json", "--diagram", "-")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr.startswith("usage: zpcisim run ")
    assert r.stderr.splitlines()[-1] == (
        "zpcisim: --json and --diagram - would both write to stdout: write the diagram to a file "
        "(--diagram FILE) or leave out --json"
    )


# -- compare --------------------------------------------------------------------------


def test_compare_counts_the_unmet_expectations_in_one_line_per_tree() -> None:
    """``zpcisim compare passthrough-kvm``: on the baseline the scenario's expectations
    are unmet, as they should be; one line says how many and how to list them."""
    r = run_zpcisim("compare", "passthrough-kvm", "--width", "260", timeout=300)
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert lines[2:5] == [
        "  baseline: 38 steps, 57 of the scenario's expectations not met "
        "(exit 1; zpcisim run passthrough-kvm --kernel baseline lists them)",
        "  v17: 86 steps, the scenario's expectations held (exit 0)",
        "",
    ]
    assert not [ln for ln in lines if "not met:" in ln]
    # the baseline's note says what happened there: nobody reset the function
    left = [ln[:128] for ln in lines[7:]]  # (260 - 3) // 2 columns each
    right = [ln[131:] for ln in lines[7:]]
    assert any("error_state is pci_channel_io_perm_failure: nobody reset the function" in ln for ln in left)
    assert not any("user-space driven reset" in ln for ln in left)
    assert any("error_state is pci_channel_io_frozen after the user-space driven reset" in ln for ln in right)


# -- a failing ioctl in a scenario ----------------------------------------------------


def test_multifunction_reset_on_the_baseline_names_the_failed_reset() -> None:
    """Without patch 1 VFIO_DEVICE_RESET of function 1 is -EINVAL: the run names that
    expectation (and those that follow from it), no crash."""
    r = run_zpcisim("run", "multifunction-reset", "--kernel", "baseline", "--width", "200", timeout=300)
    assert (r.returncode, r.stderr) == (1, "")
    lines = r.stdout.splitlines()
    assert "   8  user-driver ioctl  VFIO_DEVICE_RESET = -EINVAL" in lines
    assert lines[-8:] == [
        "multifunction-reset: expectation not met: VFIO_DEVICE_RESET of function 1 succeeds "
        "(it returned -EINVAL)",
        "multifunction-reset: expectation not met: a host/log step with "
        "'vfio-pci 0000:00:00.1: resetting' after step 7",
        "multifunction-reset: expectation not met: a firmware/clp step with "
        "'CLP Set PCI Function disable fid 0x21' after step 7",
        "multifunction-reset: expectation not met: a firmware/reset step with "
        "'fid 0x21 reset by the hardware: hot reset' after step 7",
        "multifunction-reset: expectation not met: a firmware/clp step with "
        "'CLP Set PCI Function enable fid 0x21' after step 7",
        "multifunction-reset: expectation not met: a user-driver/ioctl step with "
        "'VFIO_DEVICE_RESET = 0' after step 7",
        "multifunction-reset: expectation not met: the model: only function 1 went through a reset",
        "multifunction-reset: FAIL: 7 expectations not met",
    ]


@pytest.mark.parametrize(
    ("name", "named"),
    [
        (
            "passthrough-userspace",
            "the driver fetches the records and resets (error 0x3a) (it failed with -ENOTTY)",
        ),
        ("close-with-pending", "the next opener's GET answers (it failed with -ENOTTY)"),
        ("ism-error-irq", "the error eventfd registers (it failed with -EINVAL)"),
        ("efault-lost-record", "the driver GETs until ENOMSG (it failed with -ENOTTY)"),
    ],
)
def test_a_request_the_baseline_refuses_is_a_named_expectation_not_a_crash(name: str, named: str) -> None:
    """The same for every scenario whose requests a kernel without the series refuses
    (VFIO_DEVICE_FEATURE ZPCI_ERROR: -ENOTTY; the error IRQ of a non-PCIe function:
    -EINVAL)."""
    r = run_zpcisim("run", name, "--kernel", "baseline", "--json", timeout=300)
    assert r.returncode == 1
    said = r.stderr.splitlines()
    assert f"{name}: expectation not met: {named}" in said
    assert re.fullmatch(rf"{name}: FAIL: \d+ expectations not met", said[-1])
    assert "crashed" not in r.stderr and "Traceback" not in r.stderr


def test_a_failing_run_fits_80_columns_too() -> None:
    r = run_zpcisim("run", "multifunction-reset", "--kernel", "baseline", timeout=300)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    assert lines[-1] == "multifunction-reset: FAIL: 7 expectations not met"
    assert lines[-3:-1] == [
        "multifunction-reset: expectation not met: the model: only function 1 went",
        "    through a reset",
    ]


# -- list and --errors: per round -----------------------------------------------------


def test_list_says_how_many_rounds_and_errors_per_round() -> None:
    r = run_zpcisim("list", "--width", "250")
    assert (r.returncode, r.stderr) == (0, "")
    said = {ln.split()[0]: ln[ln.index("[") :] for ln in r.stdout.splitlines() if "[" in ln}
    assert said == {
        "passthrough-kvm": "[errors: 2 rounds of 1 on fid 0x10, PEC 0x3a 0x3d in turn]",
        "passthrough-userspace": "[errors: 2 rounds of 1 on fid 0x10, PEC 0x3a 0x3d in turn]",
        "host-recovery": "[errors: 3 rounds of 1 (fid 0x10, 0x10, 0x11), PEC 0x3a]",
        "queue-overflow": "[errors: 1 round of 6 on fid 0x10, PEC 0x3a 0x3c 0x3d 0x3e 0x3f 0x41 in turn]",
        "perm-failure": "[errors: 2 rounds of 1 (fid 0x10, 0x11), PEC 0x40 0x3b in turn; --pec 0x3b|0x40]",
        "close-with-pending": "[errors: 1 round of 2 on fid 0x10, PEC 0x3a 0x3d in turn]",
        "inaccessible-reset": "[errors: 1 round of 1 on fid 0x10, PEC 0x3a]",
        "ism-error-irq": "[errors: 1 round of 1 on fid 0x30, PEC 0x3a]",
        "efault-lost-record": "[errors: 1 round of 2 on fid 0x10, PEC 0x3a 0x3d in turn]",
    }


def test_run_help_says_errors_is_per_round() -> None:
    r = run_zpcisim("run", "--help", "--width", "200")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())
    assert (
        "--errors N how many errors each round of the scenario injects (1 to 64); "
        "'zpcisim list' shows each scenario's rounds" in text
    )


@pytest.mark.parametrize(
    ("name", "fids"),
    [("passthrough-kvm", ["0x10"] * 6), ("host-recovery", ["0x10"] * 6 + ["0x11"] * 3)],
)
def test_errors_n_injects_n_in_each_round(name: str, fids: list[str]) -> None:
    """``--errors 3``: three errors in each of the rounds ``zpcisim list`` names."""
    r = run_zpcisim("run", name, "--errors", "3", "--json")
    assert r.returncode == 0, r.stderr
    events = [json.loads(ln) for ln in r.stdout.splitlines()]
    errors = [e["text"] for e in events if e["actor"] == "firmware" and e["text"].startswith("error event")]
    assert [re.search(r"for fid (0x[0-9a-f]+)", t)[1] for t in errors] == fids  # type: ignore[index]


# -- streaming ------------------------------------------------------------------------


@pytest.mark.parametrize("json_", [False, True])
def test_steps_are_printed_as_they_happen(json_: bool, tmp_path: Path) -> None:
    """The first step's line comes while the run goes on, not at its end (before, it
    came at 1.21 s of a 1.26 s run): well before the last line."""
    args = ["run", "passthrough-kvm", *(["--json"] if json_ else [])]
    t0 = time.perf_counter()
    p = popen_zpcisim(*args, cwd=tmp_path)
    assert p.stdout is not None
    first = p.stdout.readline()
    t_first = time.perf_counter() - t0
    rest, err = p.communicate(timeout=120)
    total = time.perf_counter() - t0
    assert p.returncode == 0, err
    if json_:
        assert json.loads(first)["seq"] == 1
    else:
        assert first == b"   1  qemu        note   guest process started\n"
    assert t_first < 0.8 * total, (t_first, total)
    # the same bytes as a run that is read at its end
    assert first + rest == run_zpcisim(*args).stdout.encode()


#: A run whose scenario boots the machine, says so on stderr, then waits: its first
#: steps must be on stdout by then.
_WAITING_RUN = """
import sys, time
from sim.cli import main
from sim.pci.function import PciFunction
from sim.scenarios import scenario

@scenario("waits", "boots the machine, then waits")
def run(r):
    r.boot({0x10: PciFunction(0x1AF4, 0x1041)})
    sys.stderr.write("ready\\n")
    sys.stderr.flush()
    time.sleep(60)

sys.exit(main(["run", "waits", *sys.argv[1:]]))
"""


@pytest.mark.parametrize(
    ("args", "first"),
    [
        ([], b"   1  host        log    PCI host bridge to bus 0000:00\n"),
        (["--json"], b'{"seq": 1, "actor": "host", "kind": "log", "text": "PCI host bridge to bus 0000:00"'),
    ],
)
def test_steps_of_a_run_still_going_are_on_stdout(args: list[str], first: bytes) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen(
        [sys.executable, "-c", _WAITING_RUN, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stderr is not None
    try:
        assert p.stderr.readline() == b"ready\n"
        line = p.stdout.readline()  # the run is asleep: only a streamed line can come
        assert p.poll() is None
        assert line.startswith(first)
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=60)
    assert p.returncode == 130


# -- python -m sim.explore and python -m bench --------------------------------------


def _module(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("COLUMNS", None)
    with tempfile.TemporaryDirectory() as scratch:
        return subprocess.run(
            [sys.executable, "-m", *args], cwd=scratch, env=env, capture_output=True, text=True, timeout=300
        )


def test_explore_fits_80_columns_in_a_pipe() -> None:
    r = _module("sim.explore", "reset-done-vs-close")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    assert lines[0].startswith("reset-done-vs-close: 7 schedules (exhaustive over the visible")
    assert "  EXPECTED FINDING on this kernel, in 2 of 7 schedules: invariant: BUG: KASAN:" in lines


def test_explore_help_gives_each_race_whole_in_plain_text() -> None:
    from sim.explore.scenarios import SCENARIOS

    r = _module("sim.explore", "--help")
    assert r.returncode == 0
    assert max(len(ln) for ln in r.stdout.splitlines()) <= 80
    assert "`" not in r.stdout
    races = " ".join(r.stdout.split("\nraces:\n", 1)[1].split())
    assert (
        "two-readers Two userspace readers draining with GET (twice each) while EVENTS records arrive "
        "(2 by default: every order of two stores against four GETs; 3 is 8x the schedules)." in races
    )
    assert (
        "reset-done-vs-close A reset through the PCI core (the function's sysfs reset) while the device "
        "is closed: v17 6/7's reset_done against the close freeing the state." in races
    )
    assert all(f" {name} " in f" {races}" for name in SCENARIOS)


def test_explore_replay_prints_the_interleaving_and_the_expected_finding_exits_0() -> None:
    """``python -m sim.explore reset-done-vs-close --replay SCHEDULE``: the timeline of
    the interleaving, the finding as the exploration names it, and its status (0)."""
    r = _module("sim.explore", "reset-done-vs-close", "--replay", "admin*71 user*67 admin*32")
    assert (r.returncode, r.stderr) == (0, "")
    lines = r.stdout.splitlines()
    assert lines[:3] == [
        "reset-done-vs-close: admin*71 user*67 admin*32: 170 steps",
        " step  thread  what it did (the operation, in the kernel function)",
        "    1  admin   start",
    ]
    assert "   72  user    start" in lines
    assert lines[-2:] == [
        "  EXPECTED FINDING on this kernel: invariant: BUG: KASAN: slab-use-after-free in",
        "      pci_load_saved_state: admin reads struct pci_saved_state.cap freed by user",
    ]
    assert max(len(ln) for ln in lines) <= 80


def test_explore_and_bench_refuse_a_width_below_60() -> None:
    for mod in ("sim.explore", "bench"):
        r = _module(mod, "--width", "59")
        assert r.returncode == 2
        assert r.stderr.splitlines()[-1].endswith("--width: 59 is too narrow; at least 60 columns")


def test_bench_table_fits_the_width() -> None:
    from bench.__main__ import table

    rows = [
        ("host error path", "40,000 rec/s", "floor 1,000,000 rec/s", "25x"),
        (
            "explore stale-mediated-recovery",
            "12.3 ms/schedule (CPU 11.0)",
            "plain run 5.0 ms (CPU 4.0)",
            "2.4x",
        ),
    ]
    assert table(rows, "median of 5 runs", 80) == [
        "median of 5 runs",
        "host error path",
        "  40,000 rec/s                 floor 1,000,000 rec/s       25x",
        "explore stale-mediated-recovery",
        "  12.3 ms/schedule (CPU 11.0)  plain run 5.0 ms (CPU 4.0)  2.4x",
    ]
    assert table(rows, "median of 5 runs", 200)[1:] == [
        "host error path                  40,000 rec/s                 floor 1,000,000 rec/s       25x",
        "explore stale-mediated-recovery  12.3 ms/schedule (CPU 11.0)  plain run 5.0 ms (CPU 4.0)  2.4x",
    ]
