"""tools/series.py: the seven patches of series/v17/ against this tree, the trees it writes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.offered import needs_v17_checkout
from tools import series as S

ROOT = Path(__file__).resolve().parents[2]

#: v17's patches: subject and the Message-ID each was posted with.
KERNEL_PATCHES = [
    ("PCI: Allow per function PCI slots to fix slot reset on s390", 2),
    ("PCI: Avoid saving config space state if inaccessible", 3),
    ("PCI: Fail FLR when config space is inaccessible", 4),
    ("s390/pci: Store PCI error information for passthrough devices", 5),
    ("vfio-pci/zdev: Add a device feature for error information", 6),
    ("vfio/pci: Add a reset_done callback for vfio-pci driver", 7),
    ("vfio/pci: Remove the pcie check for VFIO_PCI_ERR_IRQ_INDEX", 8),
]


def test_patch_files_are_named_and_headed_like_the_kernel_patches() -> None:
    files = S.patch_files(ROOT / "series/v17")
    assert [f.name for f in files] == [
        "0001-PCI-Allow-per-function-PCI-slots-to-fix-slot-reset-on-s390.patch",
        "0002-PCI-Avoid-saving-config-space-state-if-inaccessible.patch",
        "0003-PCI-Fail-FLR-when-config-space-is-inaccessible.patch",
        "0004-s390-pci-Store-PCI-error-information-for-passthrough-devices.patch",
        "0005-vfio-pci-zdev-Add-a-device-feature-for-error-information.patch",
        "0006-vfio-pci-Add-a-reset_done-callback-for-vfio-pci-driver.patch",
        "0007-vfio-pci-Remove-the-pcie-check-for-VFIO_PCI_ERR_IRQ_INDEX.patch",
    ]
    for f, (subject, n) in zip(files, KERNEL_PATCHES, strict=True):
        msgid = f"<20260520171113.1111-{n}-alifm@linux.ibm.com>"
        assert S.parse_header(f.read_text(), f.name) == (subject, msgid)


def test_patches_touch_only_code_and_tests() -> None:
    for f in S.patch_files(ROOT / "series/v17"):
        files = re.findall(r"^diff --git a/(\S+) b/", f.read_text(), flags=re.M)
        assert files and all(p.startswith(S.PATCHABLE) for p in files), f.name


@needs_v17_checkout()
def test_series_reverse_applies_to_this_tree() -> None:
    assert S.check(ROOT)["v17"] == 7


@needs_v17_checkout()
def test_baseline_is_the_tree_before_the_series(tmp_path: Path) -> None:
    base = tmp_path / "base"
    S.baseline(base, ROOT)
    pci_h = (base / "kernel/include/linux/pci.py").read_text()
    assert "PCI_SLOT_ALL_DEVICES: Final = 0xFE\n" in pci_h
    assert "PCI_SLOT_PLACEHOLDER: Final" not in pci_h
    assert "def is_passed_through(" in (base / "kernel/s390/pci/pci_event.py").read_text()
    assert "VFIO_DEVICE_FEATURE_ZPCI_ERROR: Final" not in (base / "uapi/linux/vfio.py").read_text()
    assert not (base / "tests/kernel/vfio/pci/test_vfio_pci_zdev.py").exists()
    with pytest.raises(S.SeriesError, match="not empty"):
        S.baseline(base, ROOT)


@needs_v17_checkout()
def test_a_patch_that_no_longer_reverse_applies_is_named_with_its_file(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    S.copy_tree(ROOT, tree)
    slot = tree / "kernel/pci/slot.py"
    text = slot.read_text()
    assert "        if pci_slot_enabled_per_func():\n" in text
    slot.write_text(text.replace("        if pci_slot_enabled_per_func():\n", "        if True:\n"))
    with pytest.raises(S.SeriesError) as e:
        S.reverse_apply(tree, tree / "series/v17")
    assert "v17/0001-PCI-Allow-per-function-PCI-slots" in str(e.value)
    assert "no longer reverse-applies" in str(e.value)
    assert "kernel/pci/slot.py" in str(e.value)


@needs_v17_checkout()
def test_export_then_import_gives_the_same_series(tmp_path: Path) -> None:
    """The maintainer's round trip: export to a scratch repository (baseline + one
    commit per patch), import back: the series files come out unchanged."""
    scratch = tmp_path / "scratch"
    assert S.export(scratch, ROOT) == 7
    log = subprocess.run(
        ["git", "log", "--reverse", "--format=%s"], cwd=scratch, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert log == ["baseline: Linux 7.1-rc4 before the series"] + [s for s, _ in KERNEL_PATCHES]

    copy = tmp_path / "copy"
    S.copy_tree(ROOT, copy)
    assert S.import_series(scratch, None, copy) == (7, _touched(scratch))
    for f in S.patch_files(ROOT / "series/v17"):
        assert (copy / "series/v17" / f.name).read_text() == f.read_text(), f.name


def _touched(repo: Path) -> int:
    out = subprocess.run(
        ["git", "diff", "--name-only", "HEAD~7", "HEAD", "--", *S.PATCHABLE],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.split())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("baseline", S.TreeName(None, 0)), ("v17", S.TreeName("v17", 7)), ("v17:1", S.TreeName("v17", 1))],
)
def test_tree_names(spec: str, expected: S.TreeName) -> None:
    assert S.parse_tree(spec, ROOT) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("v18", "no tree 'v18'; trees: baseline, v17, v17:N"),
        ("v17:0", "no tree 'v17:0': v17 has patches 1 to 7"),
        ("v17:8", "no tree 'v17:8': v17 has patches 1 to 7"),
        ("v17:x", "no tree 'v17:x': v17 has patches 1 to 7"),
        ("", "no tree ''"),
    ],
)
def test_a_tree_that_does_not_exist_is_a_usage_error(
    spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(S.UsageError, match=re.escape(message)):
        S.parse_tree(spec, ROOT)
    assert S.main(["tree", spec, "/nonexistent/never-written"]) == 2
    assert capsys.readouterr().err.startswith(f"series: {message}")


@needs_v17_checkout()
def test_tree_v17_n_is_the_baseline_plus_the_first_n_patches(tmp_path: Path) -> None:
    S.write_tree("v17:2", tmp_path / "t", ROOT)
    pci = (tmp_path / "t/kernel/pci/pci.py").read_text()
    # patch 2 (saving an inaccessible device) is in, patch 3 (FLR) is not
    assert 'if not pci_dev_config_accessible(dev, "save state"):' in pci
    assert 'if not pci_dev_config_accessible(dev, "FLR"):' not in pci
    assert "PCI_SLOT_PLACEHOLDER" in (tmp_path / "t/kernel/include/linux/pci.py").read_text()
    assert not (tmp_path / "t/tests/kernel/vfio/pci/test_vfio_pci_zdev.py").exists()


@needs_v17_checkout()
def test_tree_v17_is_this_tree(tmp_path: Path) -> None:
    S.write_tree("v17", tmp_path / "t", ROOT)
    for rel in ("kernel/pci/pci.py", "kernel/s390/pci/pci_event.py", "uapi/linux/vfio.py"):
        assert (tmp_path / "t" / rel).read_text() == (ROOT / rel).read_text(), rel


@needs_v17_checkout()
def test_a_v17_import_needs_seven_patch_commits(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    S.export(scratch, ROOT)
    with pytest.raises(S.SeriesError, match="3 patch commits, not the seven patches of v17"):
        S.import_series(scratch, "HEAD~3..HEAD", tmp_path / "nowhere")
