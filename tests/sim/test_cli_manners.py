"""sim/cli.py's manners, as a user meets them: usage errors exit 2, widths, a closed
pipe, Ctrl-C, --diagram -, --version, user-chosen errors, other kernel trees, and
output that is the same from run to run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sim import __version__
from sim.cli import MIN_WIDTH, main
from tests.offered import full_queue_line, merged, needs_v17_checkout

ROOT = Path(__file__).resolve().parents[2]


def zpcisim(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_no_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.startswith("usage: zpcisim [-h] [--version] {list,run,compare,explain} ...\n")
    assert cap.err.endswith(
        "zpcisim: choose a command: list, run, compare or explain (zpcisim --help says more)\n"
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"zpcisim {__version__}\n"
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(rf'^version = "{re.escape(__version__)}"$', text, re.M)


@pytest.mark.parametrize("width", ["0", "-5", str(MIN_WIDTH - 1), "wide"])
@pytest.mark.parametrize("cmd", [["list"], ["run", "passthrough-userspace"], ["compare", "perm-failure"]])
def test_a_width_below_the_minimum_is_a_usage_error(
    cmd: list[str], width: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main([*cmd, "--width", width])
    assert e.value.code == 2
    assert "argument --width:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "cmd", [["list"], ["run", "passthrough-kvm"], ["run", "queue-overflow", "--verbose"]]
)
def test_output_to_a_pipe_fits_80_columns(cmd: list[str]) -> None:
    r = zpcisim(*cmd)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) > 8
    assert max(len(ln) for ln in lines) <= 80
    assert max(len(ln) for ln in lines) > 70  # it does use the width


def test_run_wraps_under_the_text_and_never_splits_a_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-userspace", "--width", "64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(ln) <= 64 for ln in lines)
    cont = [ln for ln in lines if ln.startswith(" " * 25)]
    assert cont and all(not ln[25].isspace() for ln in cont)
    # an identifier is never split: each one is whole on some line
    name = "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)"
    assert sum(ln.count(name) for ln in lines) == 4


def test_list_says_which_scenarios_take_chosen_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--width", "200"]) == 0
    out = capsys.readouterr().out.splitlines()
    line = next(x for x in out if x.startswith("passthrough-userspace "))
    assert line.endswith("[errors: 2 rounds of 1 on fid 0x10, PEC 0x3a 0x3d in turn]")
    assert not next(x for x in out if x.startswith("multifunction-reset ")).endswith("]")


def test_a_closed_pipe_ends_quietly() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen(
        [sys.executable, "-m", "sim", "run", "passthrough-userspace", "--errors", "64", "--verbose"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stderr is not None
    first = p.stdout.readline()
    p.stdout.close()  # what head does after its lines
    rc = p.wait(timeout=60)
    err = p.stderr.read().decode()
    assert first.startswith(b"   1  ")
    assert (rc, err) == (141, "")


#: The command line running a scenario that boots the machine, says so on stderr and
#: then waits: the signal arrives in the middle of a run, whatever the machine's speed.
_WAITING_RUN = """
import sys, time
from sim.cli import main
from sim.pci.function import PciFunction
from sim.scenarios import scenario

@scenario("waits", "boots the machine, then waits to be interrupted")
def run(r):
    r.boot({0x10: PciFunction(0x1AF4, 0x1041)})
    sys.stderr.write("ready\\n")
    sys.stderr.flush()
    time.sleep(60)

sys.exit(main(["run", "waits"]))
"""


def test_ctrl_c_says_one_line_and_exits_130() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZPCISIM_INDEX")}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-c", _WAITING_RUN]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stderr is not None
    assert p.stderr.readline() == b"ready\n"
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert (p.returncode, err.decode()) == (130, "zpcisim: interrupted\n")
    # the steps printed as they happened, up to the interrupt; no closing line
    lines = out.decode().splitlines()
    assert lines[0] == "   1  host        log    PCI host bridge to bus 0000:00"
    assert not any(": PASS" in ln or ": FAIL" in ln for ln in lines)


def test_diagram_dash_writes_the_diagram_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "ism-error-irq", "--diagram", "-"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("# zpcisim run ism-error-irq\n\n```mermaid\nsequenceDiagram\n")
    assert cap.out.rstrip().endswith("```")
    assert cap.err == "ism-error-irq: PASS\n"


@pytest.mark.parametrize(
    ("where", "why"),
    [("missing/d.md", "--diagram {p}: no directory {d}"), ("", "--diagram {p}: is a directory")],
)
def test_an_unwritable_diagram_is_refused_before_the_run(
    tmp_path: Path, where: str, why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / where if where else tmp_path
    assert main(["run", "passthrough-kvm", "--diagram", str(path)]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""  # nothing ran
    assert cap.err.splitlines()[-1] == "zpcisim: " + why.format(p=path, d=path.parent)


def test_two_runs_print_the_same_bytes() -> None:
    a, b = zpcisim("run", "passthrough-kvm", "--json"), zpcisim("run", "passthrough-kvm", "--json")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout
    assert "pid" not in a.stdout


def test_the_diagram_in_docs_is_what_the_run_writes(tmp_path: Path) -> None:
    """docs/diagrams/passthrough-kvm.md is regenerated by ``zpcisim run passthrough-kvm
    --diagram docs/diagrams/passthrough-kvm.md``; it must not drift from the run.  It is
    v17's run: on the merged tree the run also has the PCI core's "reset done" after
    each of its three resets (vfio-pci has no reset_done there); without those, and
    numbered again, it is the page."""
    out = tmp_path / "d.md"
    assert main(["run", "passthrough-kvm", "--diagram", str(out)]) == 0
    lines = out.read_text().splitlines(keepends=True)
    done = re.compile(r"    Note over host: \d+\. vfio-pci 0000:00:00\.0: reset done\n")
    reset_done = [ln for ln in lines if done.fullmatch(ln)]
    assert len(reset_done) == (3 if merged() else 0)
    steps = iter(range(1, len(lines) + 1))
    v17 = [
        re.sub(r"^(    [^:]+: )\d+\. ", lambda m: f"{m[1]}{next(steps)}. ", ln)
        for ln in lines
        if ln not in reset_done
    ]
    assert "".join(v17) == (ROOT / "docs/diagrams/passthrough-kvm.md").read_text()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--pec", "zz"], "argument --pec: not a hexadecimal number: 'zz'"),
        (["--pec", "0x10000"], "zpcisim: --pec 0x10000: a PEC is 16 bits (0x0 to 0xffff)"),
        (["--errors", "0"], "argument --errors: 0: from 1 to 64"),
        (["--errors", "65"], "argument --errors: 65: from 1 to 64"),
        (["--fid", "0x100000000"], "zpcisim: --fid 0x100000000: a function id is 32 bits"),
    ],
)
def test_bad_error_choices_are_usage_errors(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        rc = main(["run", "passthrough-userspace", *args])
    except SystemExit as e:
        rc = int(str(e.code))
    assert rc == 2
    assert said in capsys.readouterr().err


def test_errors_for_a_scenario_that_injects_none_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "multifunction-reset", "--pec", "0x3a"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(
        "zpcisim: multifunction-reset injects no errors; --pec, --errors and --fid apply to: "
    )
    assert "passthrough-userspace" in err


def test_six_errors_overflow_the_queue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-userspace", "--errors", "6", "--fid", "0x42", "--width", "200"]) == 0
    out = capsys.readouterr().out
    full = "host        log    " + full_queue_line()[1]  # the tree's line (merged: on the device)
    assert out.count(full) == 4  # two rounds of six: two dropped in each
    gets = re.findall(r"GET\|ZPCI_ERROR\) = 0 \(PEC (0x3a|0x3d) fid 0x42", out)
    assert gets == ["0x3a", "0x3d", "0x3a", "0x3d"] * 2


def test_pec_0x40_is_a_permanent_failure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-userspace", "--pec", "0x40", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "Leaving recovery" not in out
    assert "user-driver ioctl  VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x40 fid 0x10" in out
    assert "user-driver ioctl  VFIO_DEVICE_RESET = -EIO" in out
    assert out.count("error event PEC 0x40") == 1  # the run ends after that round


def test_unmet_expectations_are_all_listed_and_the_run_goes_on(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-userspace", "--pec", "0x2a", "--width", "200"]) == 1
    out = capsys.readouterr().out.splitlines()
    unmet = [ln for ln in out if ln.startswith("passthrough-userspace: expectation not met: ")]
    assert len(unmet) >= 2
    assert out[-1] == f"passthrough-userspace: FAIL: {len(unmet)} expectations not met"
    # both rounds ran: the measurement-block PEC 0x2a twice
    assert sum("error event PEC 0x2a" in ln for ln in out) == 2


@needs_v17_checkout()
def test_run_on_another_kernel_tree_runs_there(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZPCISIM_CACHE", str(tmp_path))
    r = zpcisim("run", "inaccessible-reset", "--kernel", "v17:2", "--width", "200")
    assert r.returncode == 1
    assert "not ready 65535ms after FLR; giving up" in r.stdout
    assert "unable to FLR" not in r.stdout.split("inaccessible-reset: ")[0]
    assert (
        "inaccessible-reset: expectation not met: a host/log step with 'vfio-pci 0000:00:00.0: " in r.stdout
    )


def test_an_unknown_kernel_tree_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-kvm", "--kernel", "v17:9"]) == 2
    assert (
        capsys.readouterr().err.splitlines()[-1]
        == "zpcisim: --kernel: no tree 'v17:9': v17 has patches 1 to 7"
    )
