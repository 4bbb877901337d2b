"""tools/mapping.py: docs/mapping.md is generated from the code and kept current."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.offered import dropped_when_merged, merged
from tools import mapping as M

ROOT = Path(__file__).resolve().parents[2]


def test_mapping_doc_is_current() -> None:
    """Fails when a module or function was added, removed or moved without running
    ``python -m tools.mapping`` (the message says so).  The page is this checkout's
    (v17); on the merged tree it is the page without the rows of the functions v17
    adds and the merged series does not (:func:`tests.offered.dropped_when_merged`)."""
    doc = (ROOT / M.DOC).read_text()
    if merged():
        dropped = dropped_when_merged()
        rows = [ln for ln in doc.splitlines(keepends=True) if any(f"| `{f}` |" in ln for f in dropped)]
        assert rows  # vfio_pci_core_aer_reset_done, in scope (6/7)
        doc = "".join(ln for ln in doc.splitlines(keepends=True) if ln not in rows)
    stale = "docs/mapping.md is stale: run `python -m tools.mapping` and commit it"
    assert doc == M.generate(ROOT) + "\n", stale


def test_every_scope_function_has_a_python_counterpart() -> None:
    """On the merged tree: all but the scope functions of v17 the merged series drops."""
    dropped = dropped_when_merged() if merged() else set()
    missing = M.missing_scope(M.scan_modules(ROOT))
    assert [m for m in missing if m.split(": ")[1] not in dropped] == []
    # merged: drivers/vfio/pci/vfio_pci_core.c: vfio_pci_core_aer_reset_done
    assert len(missing) == (1 if merged() else 0)


def test_scope_function_in_its_c_files_module_when_the_convention_allows() -> None:
    homes = M.scope_homes(M.scan_modules(ROOT))
    assert homes[("arch/s390/pci/pci_event.c", "zpci_store_pci_error")] == "kernel/s390/pci/pci_event.py"
    assert homes[("drivers/pci/slot.c", "pci_dev_matches_slot")] == "kernel/pci/slot.py"
    assert homes[("arch/s390/pci/pci_bus.h", "zpci_zdev_get")] == "kernel/s390/pci/pci_bus.py"


@pytest.mark.parametrize(
    ("c_file", "module"),
    [
        ("drivers/pci/slot.c", "kernel/pci/slot.py"),
        ("drivers/pci/hotplug/s390_pci_hpc.c", "kernel/pci/hotplug/s390_pci_hpc.py"),
        ("drivers/pci/pci-driver.c", "kernel/pci/pci_driver.py"),
        ("arch/s390/pci/pci_event.c", "kernel/s390/pci/pci_event.py"),
        ("arch/s390/include/asm/pci.h", "kernel/s390/include/asm/pci.py"),
        ("include/linux/pci.h", "kernel/include/linux/pci.py"),
        ("include/uapi/linux/vfio.h", "uapi/linux/vfio.py"),
        ("include/uapi/asm-generic/ioctl.h", "uapi/asm_generic/ioctl.py"),
        ("virt/kvm/vfio.c", "kernel/virt/kvm/vfio.py"),
    ],
)
def test_convention_path_follows_conventions_md(c_file: str, module: str) -> None:
    assert M.convention_path(c_file) == module


def _mini_tree(tmp_path: Path) -> Path:
    (tmp_path / "kernel/pci").mkdir(parents=True)
    (tmp_path / "kernel/pci/slot.py").write_text(
        '"""drivers/pci/slot.c (test): slots."""\n\n\ndef address_read_file():\n    pass\n'
    )
    (tmp_path / "docs").mkdir()
    return tmp_path


def test_check_reports_a_missing_scope_function_and_a_stale_table(tmp_path: Path) -> None:
    root = _mini_tree(tmp_path)
    problems = M.check(root)
    assert "no Python counterpart for drivers/pci/slot.c: pci_create_slot" in problems
    assert "no Python counterpart for arch/s390/pci/pci_event.c: zpci_store_pci_error" in problems
    assert problems[-1].startswith("docs/mapping.md is stale")


def test_check_sees_an_added_function_as_stale(tmp_path: Path) -> None:
    root = _mini_tree(tmp_path)
    (root / M.DOC).write_text(M.generate(root) + "\n")
    assert not any("stale" in p for p in M.check(root))
    with (root / "kernel/pci/slot.py").open("a") as f:
        f.write("\n\ndef pci_create_slot():\n    pass\n")
    assert any("stale" in p for p in M.check(root))


def test_table_lists_functions_in_file_order_with_scope_and_patch_marks(tmp_path: Path) -> None:
    root = _mini_tree(tmp_path)
    (root / "kernel/pci/slot.py").write_text(
        '"""drivers/pci/slot.c (test)."""\n\n\ndef pci_slot_release():\n    pass\n\n\n'
        "def local_helper():\n"
        '    """Exists only in Python."""\n\n\n'
        "def address_read_file():\n    return 1\n"
    )
    (root / "series/v17").mkdir(parents=True)
    [patch1] = (ROOT / "series/v17").glob("0001-*.patch")
    shutil.copy(patch1, root / "series/v17")
    doc = M.generate(root)
    rows = [ln for ln in doc.splitlines() if ln.startswith("| ") and "kernel.pci.slot." in ln]
    assert rows == [
        "| `pci_slot_release` | `kernel.pci.slot.pci_slot_release` | **in scope** 1/7 |",
        "| (Python only) | `kernel.pci.slot.local_helper` |  |",
        "| `address_read_file` | `kernel.pci.slot.address_read_file` | **in scope** 1/7 |",
    ]
    assert "## drivers/pci/slot.c -> kernel/pci/slot.py" in doc


def test_rows_mark_the_merged_series_apart_from_v17() -> None:
    """The FLR check moved: v17 3/7 changes pcie_reset_flr(), the merged commit 4
    (ad05c16b290b) pcie_flr(); the MSI-X restore is changed by merged commit 5 only."""
    doc = (ROOT / "docs/mapping.md").read_text()
    assert "| `pcie_flr` | `kernel.pci.pci.pcie_flr` | **in scope** ml4 |" in doc
    assert "| `pcie_reset_flr` | `kernel.pci.pci.pcie_reset_flr` | **in scope** 3/7 |" in doc
    assert "| `__pci_restore_msix_state` | `kernel.pci.msi.msi.__pci_restore_msix_state` | ml5 |" in doc
