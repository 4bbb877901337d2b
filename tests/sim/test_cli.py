"""sim/cli.py: zpcisim list / run, exit codes, --json and --diagram."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenarios import SCENARIOS, Run, scenario


@pytest.fixture
def failing() -> Iterator[str]:
    @scenario("test-failing", "always fails its expectation")
    def run(r: Run) -> None:
        r.note("about to fail")
        r.expect(False, "the impossible")

    yield "test-failing"
    del SCENARIOS["test-failing"]


def test_list_prints_each_scenario_with_its_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    line = next(x for x in out if x.startswith("passthrough-userspace "))
    assert "plain userspace driver" in line


def test_unknown_scenario_is_a_usage_error_listing_the_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "no-such"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario 'no-such'" in err and "passthrough-userspace" in err


def test_missing_name_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as e:
        main(["run"])
    assert e.value.code == 2


def test_run_prints_one_line_per_step_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-userspace"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "passthrough-userspace: PASS"
    assert any(x.split()[1:3] == ["user-driver", "ioctl"] and "VFIO_DEVICE_RESET = 0" in x for x in out)


def test_json_lines_carry_request_and_ret_on_ioctls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "passthrough-userspace", "--json"]) == 0
    cap = capsys.readouterr()
    steps = [json.loads(x) for x in cap.out.splitlines()]
    assert [s["seq"] for s in steps] == list(range(1, len(steps) + 1))
    reset = next(s for s in steps if s.get("request") == "VFIO_DEVICE_RESET")
    assert (reset["actor"], reset["kind"], reset["ret"]) == ("user-driver", "ioctl", 0)
    assert all({"seq", "actor", "kind", "text"} <= s.keys() for s in steps)
    assert cap.err.strip() == "passthrough-userspace: PASS"


def test_failed_expectation_exits_1_and_names_it(
    failing: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    diagram = tmp_path / "d.md"
    assert main(["run", failing, "--diagram", str(diagram)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "test-failing: FAIL: expectation not met: the impossible"
    assert "Note over host: 1. about to fail" in diagram.read_text()


def test_unwritable_diagram_is_a_usage_error(failing: str, tmp_path: Path) -> None:
    assert main(["run", failing, "--diagram", str(tmp_path / "missing" / "d.md")]) == 2
