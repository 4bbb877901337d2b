"""tools/series.py: the seven patches of series/ against this tree."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

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
    files = S.patch_files(ROOT / "series")
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
    for f in S.patch_files(ROOT / "series"):
        files = re.findall(r"^diff --git a/(\S+) b/", f.read_text(), flags=re.M)
        assert files and all(p.startswith(S.PATCHABLE) for p in files), f.name


def test_series_reverse_applies_to_this_tree() -> None:
    assert S.check(ROOT) == 7


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


def test_a_patch_that_no_longer_reverse_applies_is_named_with_its_file(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    S.copy_tree(ROOT, tree)
    slot = tree / "kernel/pci/slot.py"
    text = slot.read_text()
    assert "        if pci_slot_enabled_per_func():\n" in text
    slot.write_text(text.replace("        if pci_slot_enabled_per_func():\n", "        if True:\n"))
    with pytest.raises(S.SeriesError) as e:
        S.reverse_apply(tree, tree / "series")
    assert "0001-PCI-Allow-per-function-PCI-slots" in str(e.value)
    assert "kernel/pci/slot.py" in str(e.value)


def test_export_then_import_gives_the_same_series(tmp_path: Path) -> None:
    """The maintainer's round trip: export to a scratch repository (baseline + one
    commit per patch), import back: the series files come out unchanged."""
    scratch = tmp_path / "scratch"
    assert S.export(scratch, ROOT) == 7
    log = subprocess.run(
        ["git", "log", "--reverse", "--format=%s"], cwd=scratch, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert log == ["baseline: Linux 7.1-rc4 before the v17 series"] + [s for s, _ in KERNEL_PATCHES]

    copy = tmp_path / "copy"
    S.copy_tree(ROOT, copy)
    assert S.import_series(scratch, None, copy) == (7, _touched(scratch))
    for f in S.patch_files(ROOT / "series"):
        assert (copy / "series" / f.name).read_text() == f.read_text(), f.name


def _touched(repo: Path) -> int:
    out = subprocess.run(
        ["git", "diff", "--name-only", "HEAD~7", "HEAD", "--", *S.PATCHABLE],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(out.split())
