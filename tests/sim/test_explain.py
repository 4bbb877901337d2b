"""sim/explain.py: ``zpcisim explain NAME`` on small trees made for each test (so the
tests hold on the baseline tree too) and on this checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import explain as X

#: A context line that is blank in the file is a single space in a diff; "|" stands for it.
PATCH = """\
PCI: Make a thing better
Ports: <1-2-a@b>

Note.
---
diff --git a/kernel/pci/slot.py b/kernel/pci/slot.py
index 1111111..2222222 100644
--- a/kernel/pci/slot.py
+++ b/kernel/pci/slot.py
@@ -10,6 +10,14 @@ def address_read_file(slot):
     x = 1
-    return "%02x" % x
+    return "%04x" % x
|
|
+def pci_dev_matches_slot(dev, slot):
+    return dev.devfn == slot.number
+
+
 def pci_slot_release(kobj):
     for dev in devices:
-        if PCI_SLOT(dev.devfn) == slot.number:
+        if pci_dev_matches_slot(dev, slot):
             dev.slot = None
@@ -40,7 +48,6 @@ def pci_create_slot(parent):
     return slot
|
|
-def is_passed_through(pdev):
-    return False
-
-
 __all__ = ["x"]
-EXTRA = 1
diff --git a/tests/kernel/pci/test_slot.py b/tests/kernel/pci/test_slot.py
--- a/tests/kernel/pci/test_slot.py
+++ b/tests/kernel/pci/test_slot.py
@@ -1,3 +1,4 @@ import x
+from kernel.pci.slot import pci_dev_matches_slot
""".replace("|\n", " \n")

SLOT = '''"""drivers/pci/slot.c and pci.h (test tree): slots."""


def address_read_file(slot):
    return 1


def pci_dev_matches_slot(dev, slot):
    """The helper."""
    return True


def local_helper():
    """Exists only in Python."""


class pci_slot:
    pass


PCI_SLOT_PLACEHOLDER = -1
'''

TEST = '''"""test."""
from kernel.pci.slot import pci_dev_matches_slot


def test_matches_by_devfn():
    assert pci_dev_matches_slot(1, 2)


def helper():
    return 0


def test_other():
    pci_dev_matches_slot(3, 4)
'''


def make_tree(tmp_path: Path, *, checkout: bool = True) -> Path:
    (tmp_path / "kernel/pci").mkdir(parents=True)
    (tmp_path / "kernel/pci/slot.py").write_text(SLOT)
    if checkout:
        (tmp_path / "series/v17").mkdir(parents=True)
        (tmp_path / "series/v17/0001-PCI-Make-a-thing-better.patch").write_text(PATCH)
        (tmp_path / "tests/kernel/pci").mkdir(parents=True)
        (tmp_path / "tests/kernel/pci/test_slot.py").write_text(TEST)
    return tmp_path


def test_c_files_of_reads_the_docstring_first_line_and_completes_bare_names() -> None:
    doc = "drivers/pci/slot.c (Linux 7.1-rc4): slots.\n\nmore arch/x.c"
    assert X.c_files_of(doc) == ("drivers/pci/slot.c",)
    assert X.c_files_of("arch/s390/pci/pci_bus.c and pci_bus.h: buses") == (
        "arch/s390/pci/pci_bus.c",
        "arch/s390/pci/pci_bus.h",
    )
    assert X.c_files_of("The boundary between the kernel and the machine.") == ()
    assert X.c_files_of(None) == ()


def test_scan_lists_functions_structs_constants_in_file_order(tmp_path: Path) -> None:
    [m] = X.scan_modules(make_tree(tmp_path))
    assert m.path == "kernel/pci/slot.py"
    assert m.c_files == ("drivers/pci/slot.c", "drivers/pci/pci.h")
    assert [(d.name, d.kind, d.python_only) for d in m.definitions] == [
        ("address_read_file", "function", False),
        ("pci_dev_matches_slot", "function", False),
        ("local_helper", "function", True),
        ("pci_slot", "struct", False),
        ("PCI_SLOT_PLACEHOLDER", "constant", False),
    ]
    assert m.definitions[1].line == 8


def test_changed_functions_follows_the_hunk_context_and_def_lines() -> None:
    # The test file's hunk adds an import only: module level, no function.
    assert X.changed_functions(PATCH) == {
        "kernel/pci/slot.py": {
            "address_read_file",
            "pci_dev_matches_slot",
            "pci_slot_release",
            "is_passed_through",
        },
    }


def test_module_level_lines_end_the_enclosing_function() -> None:
    # "__all__" and "EXTRA" follow the removed function at module level: they are not
    # attributed to pci_create_slot (the hunk's context) or to is_passed_through.
    changed = X.changed_functions(PATCH)["kernel/pci/slot.py"]
    assert "pci_create_slot" not in changed


def test_patches_touching_separates_changed_from_mentioned(tmp_path: Path) -> None:
    series = X.load_series(make_tree(tmp_path))
    assert series is not None
    [p] = series
    assert (p.number, p.subject, p.msgid) == (1, "PCI: Make a thing better", "1-2-a@b")
    [t] = X.patches_touching("pci_dev_matches_slot", series)
    assert t.changed == ("kernel/pci/slot.py",) and t.mentioned == ()
    [t] = X.patches_touching("PCI_SLOT", series)
    assert t.changed == () and t.mentioned == ("kernel/pci/slot.py",)
    assert X.patches_touching("get_slot", series) == []


def test_tests_mentioning_names_the_enclosing_test_functions(tmp_path: Path) -> None:
    hits = X.tests_mentioning("pci_dev_matches_slot", make_tree(tmp_path))
    assert hits == [X.TestHit("tests/kernel/pci/test_slot.py", ("test_matches_by_devfn", "test_other"), 3)]


def test_explain_renders_home_patches_tests_and_scenarios(tmp_path: Path) -> None:
    text = X.render(X.explain("pci_dev_matches_slot", make_tree(tmp_path)))
    lines = text.splitlines()
    assert lines[0] == (
        "pci_dev_matches_slot: function in kernel.pci.slot (kernel/pci/slot.py:8); "
        "C: drivers/pci/slot.c and drivers/pci/pci.h"
    )
    assert "  1/7 PCI: Make a thing better" in lines
    assert "      changes it in kernel/pci/slot.py" in lines
    assert "      series/v17/0001-PCI-Make-a-thing-better.patch  <1-2-a@b>" in lines
    assert "Tests that name it (2 functions in 1 file):" in lines
    assert "  tests/kernel/pci/test_slot.py: test_matches_by_devfn, test_other" in lines
    assert "  multifunction-reset    patch 1" in lines


def test_explain_of_a_removed_function_points_to_the_baseline(tmp_path: Path) -> None:
    text = X.render(X.explain("is_passed_through", make_tree(tmp_path)))
    assert text.splitlines()[:2] == [
        "is_passed_through: not defined in kernel/ or uapi/.",
        "  The series removes it (patch 1); the tree before the series has it: "
        "python -m tools.series baseline DIR",
    ]


def test_explain_suggests_close_names(tmp_path: Path) -> None:
    e = X.explain("pci_dev_match_slot", make_tree(tmp_path))
    assert e.definitions == () and e.similar == ("pci_dev_matches_slot",)
    assert "  Did you mean: pci_dev_matches_slot?" in X.render(e)


def test_explain_without_a_checkout_says_what_it_cannot_answer(tmp_path: Path) -> None:
    text = X.render(X.explain("local_helper", make_tree(tmp_path, checkout=False)))
    assert "(a Python-only helper of that module: no C function of this name)" in text.splitlines()[0]
    assert "Patches: series/ is not here (an installed package, not a source checkout)." in text
    assert "Tests: tests/ is not here (an installed package, not a source checkout)." in text


def test_main_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert X.main(["pci_create_slot"]) == 0
    assert capsys.readouterr().out.startswith(
        "pci_create_slot: function in kernel.pci.slot (kernel/pci/slot.py:"
    )
    assert X.main(["no_such_function_anywhere"]) == 1
    assert X.main([]) == 2
    assert "usage: zpcisim explain NAME" in capsys.readouterr().err


def test_a_comment_in_column_0_belongs_to_module_level() -> None:
    patch = (
        "diff --git a/kernel/x.py b/kernel/x.py\n"
        "--- a/kernel/x.py\n+++ b/kernel/x.py\n"
        "@@ -1,4 +1,4 @@ def err_detected(pdev):\n"
        "     return 1\n"
        "-#: the handlers table (old comment)\n"
        "+#: the handlers table\n"
        " handlers = table(err_detected)\n"
    )
    assert X.changed_functions(patch) == {}


def test_zpcisim_explain_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["explain", "pci_create_slot"]) == 0
    assert capsys.readouterr().out.startswith("pci_create_slot: function in kernel.pci.slot")
