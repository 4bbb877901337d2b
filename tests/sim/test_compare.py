"""sim/compare.py: aligning and printing two timelines, and what compare says when it
cannot compare.  The runs are stand-ins here (the real subprocess runs are in
tests/tools/test_compare_checkout.py, which needs the series to reverse-apply)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sim import compare as C
from tests.offered import needs_v17_checkout


def step(seq: int, actor: str, kind: str, text: str, **kw: Any) -> dict[str, Any]:
    return {"seq": seq, "actor": actor, "kind": kind, "text": text, **kw}


BASE = (
    step(1, "firmware", "event", "error event PEC 0x2 for fid 0x10"),
    step(2, "host", "log", "zpci: 0000:00:00.0: Event 0x2 reports an error for PCI function 0x10"),
    step(
        3,
        "host",
        "log",
        "zpci: 0000:00:00.0: Cannot be recovered in the host because it is a pass-through device",
    ),
    step(4, "qemu", "note", "nothing to do"),
)
NEW = (
    step(1, "firmware", "event", "error event PEC 0x2 for fid 0x10"),
    step(2, "host", "log", "zpci: 0000:00:00.0: Event 0x2 reports an error for PCI function 0x10"),
    step(3, "host", "irq", "eventfd_signal"),
    step(4, "host", "log", "zpci: 0000:00:00.0: Leaving recovery of pass-through device to user-space"),
    step(5, "qemu", "ioctl", "VFIO_DEVICE_FEATURE GET ZPCI_ERROR", request="VFIO_DEVICE_FEATURE", ret=0),
)


def test_align_matches_equal_steps_and_marks_the_rest() -> None:
    rows = C.align(BASE, NEW)
    # The eventfd signal is new; the host's third log line faces the host's other one;
    # the qemu note faces nothing (qemu's ioctl is another kind of step).
    assert [r.mark for r in rows] == ["=", "=", ">", "|", "<", ">"]
    assert rows[3].left is BASE[2] and rows[3].right is NEW[3]
    assert rows[0].left is BASE[0] and rows[0].right is NEW[0]
    assert sum(r.left is not None for r in rows) == len(BASE)
    assert sum(r.right is not None for r in rows) == len(NEW)


def test_align_of_identical_runs_is_all_equal_though_seq_differs() -> None:
    shifted = [dict(s, seq=s["seq"] + 7) for s in BASE]
    assert [r.mark for r in C.align(BASE, shifted)] == ["="] * len(BASE)


def test_align_only_left_and_only_right() -> None:
    assert [r.mark for r in C.align(BASE[:2], ())] == ["<", "<"]
    assert [r.mark for r in C.align((), NEW[:1])] == [">"]


def render(width: int = 120, diff_only: bool = False) -> list[str]:
    base, new = C.Run(BASE, 1, ""), C.Run(NEW, 0, "")
    return C.render("demo", base, new, C.align(BASE, NEW), width, diff_only).splitlines()


def test_render_puts_the_two_columns_side_by_side_with_the_marker_between() -> None:
    lines = render()
    col = (120 - 3) // 2
    assert lines[0] == "zpcisim compare demo: the same scenario on baseline (left) and v17 (right)"
    assert lines[1] == "  2 steps the same, 1 differ, 1 only on baseline, 2 only on v17"
    assert lines[2] == "  baseline: 4 steps, the run failed (exit 1)"
    assert lines[3] == "  v17: 5 steps, the scenario's expectations held (exit 0)"
    assert lines[5].startswith("baseline (Linux 7.1-rc4)") and lines[5].endswith("v17 (this tree)")
    first = lines[7]
    assert first[:col].rstrip() == "firmware    event error event PEC 0x2 for fid 0x10"
    assert first[col : col + 3] == " = "
    assert first[col + 3 :] == "firmware    event error event PEC 0x2 for fid 0x10"
    # Long texts wrap inside their column, under the text.
    assert all(len(ln) <= 120 for ln in lines)
    left = " ".join(ln[:col].strip() for ln in lines[7:])
    right = " ".join(ln[col + 3 :].strip() for ln in lines[7:])
    assert "host log zpci: 0000:00:00.0: Cannot be recovered in the host because it is a pass-through" in (
        " ".join(left.split())
    )
    assert "Leaving recovery of pass-through device to user-space" in " ".join(right.split())
    assert "Leaving" not in left and "Cannot" not in right


def test_render_shows_an_ioctl_result_unless_the_text_has_it() -> None:
    assert any(ln.endswith("VFIO_DEVICE_FEATURE GET ZPCI_ERROR = 0") for ln in render(200))
    said = C.Run((step(1, "qemu", "ioctl", "VFIO_DEVICE_RESET = -ENOTTY", ret=-25),), 0, "")
    rows = C.align(said.steps, said.steps)
    assert C.render("x", said, said, rows, 120).splitlines()[-1].endswith("VFIO_DEVICE_RESET = -ENOTTY")


def test_render_diff_only_folds_equal_steps() -> None:
    lines = render(diff_only=True)
    assert sum("... 2 equal steps" in ln for ln in lines) == 1
    assert not any(" = " in ln[50:60] for ln in lines[7:])


def _fake_checkout(root: Path) -> None:
    """What makes ``root`` a checkout for :func:`sim.series.is_checkout`."""
    (root / "kernel").mkdir()
    (root / "series/v17").mkdir(parents=True)
    (root / "series/v17/0001-x.patch").write_text("")


def test_compare_runs_the_patched_tree_then_the_baseline(tmp_path: Path) -> None:
    _fake_checkout(tmp_path)
    calls: list[tuple[str, str]] = []

    def runner(tree: Path, name: str) -> C.Run:
        calls.append((tree.name, name))
        return C.Run(NEW, 0, "") if tree == tmp_path else C.Run(BASE, 1, "AssertionError")

    def writer(spec: str, root: Path) -> Path:
        assert root == tmp_path
        calls.append(("write", spec))
        dst = tmp_path / spec
        dst.mkdir()
        return dst

    out = C.compare("demo", tmp_path, runner=runner, tree_writer=writer, width=120)
    assert calls == [(tmp_path.name, "demo"), ("write", "baseline"), ("baseline", "demo")]
    assert "  baseline: 4 steps, the run failed (exit 1)" in out.splitlines()


def test_compare_without_a_checkout_says_so(tmp_path: Path) -> None:
    said = f"{tmp_path} is not a zpcisim source checkout: it has no series/v17/"
    with pytest.raises(C.CompareError, match=f"^{re.escape(said)}$"):
        C.compare("demo", tmp_path, runner=lambda t, n: C.Run(NEW, 0, ""))


def test_compare_reports_a_run_without_steps_with_its_stderr(tmp_path: Path) -> None:
    _fake_checkout(tmp_path)
    err = "zpcisim: unknown scenario 'nope'; scenarios: passthrough-kvm"
    with pytest.raises(C.CompareError) as e:
        C.compare("nope", tmp_path, runner=lambda t, n: C.Run((), 2, err + "\n"))
    assert e.value.usage
    assert str(e.value) == f"the run of 'nope' on this tree printed no steps (exit 2):\n{err}"


def test_checkout_root_of_this_package_is_the_checkout() -> None:
    root = C.checkout_root()
    assert root is not None and (root / "series").is_dir()


def test_zpcisim_compare_of_an_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["compare", "no-such-scenario"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "zpcisim compare: the run of 'no-such-scenario' on this tree printed no steps (exit 2):"
    )
    assert "unknown scenario 'no-such-scenario'" in err


@needs_v17_checkout()
def test_compare_passthrough_kvm_shows_the_series_turning_give_up_into_mediated_recovery() -> None:
    """End to end, as a reader runs it: the baseline kernel gives up on the KVM
    pass-through function ("Cannot be recovered in the host ..."), v17 leaves the
    recovery to userspace and the guest drives the reset."""
    out = C.compare("passthrough-kvm", width=220, diff_only=True)
    lines = out.splitlines()
    gave_up = [ln for ln in lines if "Cannot be recovered in the host because it is a pass-through" in ln]
    assert len(gave_up) == 1
    left, _, right = gave_up[0].partition(" | ")
    assert "Cannot be recovered" in left and "Leaving recovery of pass-through device to user-space" in right
    assert any("VFIO_DEVICE_FEATURE(PROBE|13) = -ENOTTY" in ln for ln in lines)
    assert any(ln.lstrip().startswith("> qemu") and "VFIO_DEVICE_RESET = 0" in ln for ln in lines)


@needs_v17_checkout()
def test_compare_v17_2_to_v17_3_shows_patch_3_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Patch 3 (fail FLR when config space is inaccessible): "unable to FLR" on the
    right only; on the left the FLR is tried and times out."""
    monkeypatch.setenv("ZPCISIM_CACHE", str(tmp_path))
    out = C.compare("inaccessible-reset", left="v17:2", right="v17:3", width=240)
    lines = out.splitlines()
    col = (240 - 3) // 2
    table = lines[lines.index("-" * col + "   " + "-" * col) + 1 :]
    flr = [ln for ln in table if "unable to FLR" in ln]
    assert flr and all("unable to FLR" in ln[col:] and "unable to FLR" not in ln[:col] for ln in flr)
    assert any("not ready 65535ms after FLR; giving up" in ln[:col] and ln[col + 1] == "<" for ln in table)
    assert lines[2] == (
        "  v17:2: 31 steps, 2 of the scenario's expectations not met "
        "(exit 1; zpcisim run inaccessible-reset --kernel v17:2 lists them)"
    )
    assert lines[3] == (
        "  v17:3: 24 steps, 1 of the scenario's expectations not met "
        "(exit 1; zpcisim run inaccessible-reset --kernel v17:3 lists them)"
    )


@needs_v17_checkout()
def test_trees_are_cached_by_content(tmp_path: Path) -> None:
    from sim import trees

    first = trees.tree_path("v17:1", cache=tmp_path)
    assert first.parent == tmp_path / "trees"
    assert (first / ".zpcisim-tree").read_text() == first.name
    assert trees.tree_path("v17:1", cache=tmp_path) == first
    assert trees.tree_path("v17:7", cache=tmp_path) == trees.checkout_root()  # this tree
    (first / ".zpcisim-tree").write_text("torn")  # a damaged entry is written again
    assert trees.tree_path("v17:1", cache=tmp_path) == first
    assert (first / ".zpcisim-tree").read_text() == first.name
    assert [p.name for p in (tmp_path / "trees").iterdir()] == [first.name]  # no leftovers
