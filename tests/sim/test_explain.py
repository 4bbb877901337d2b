"""sim/explain.py: ``zpcisim explain NAME`` on small trees made for each test (so the
tests hold on the baseline tree too) and on this checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim import explain as X

#: A width no line of the small trees' answers reaches: for the tests of what is said.
WIDE = 200

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


#: The execution index of the test tree (as tools/index.py writes it).
INDEX = """\
# zpcisim execution index (test tree)

kernel/pci/slot.py pci_dev_matches_slot
  tests/kernel/pci/test_misc.py * except test_c
  tests/kernel/pci/test_slot.py test_matches_by_devfn
  scenario multifunction-reset: 3 5-7
  scenario passthrough-kvm:
  scenario passthrough-kvm --errors 6: 46 53 146 153
  scenario perm-failure --pec 0x3b:
"""

OTHER_TESTS = """\
def test_a():
    pass


def test_b():
    pass


def test_c():
    pass
"""


def make_tree(tmp_path: Path, *, checkout: bool = True, index: bool = True) -> Path:
    (tmp_path / "kernel/pci").mkdir(parents=True)
    (tmp_path / "kernel/pci/slot.py").write_text(SLOT)
    if checkout:
        (tmp_path / "series/v17").mkdir(parents=True)
        (tmp_path / "series/v17/0001-PCI-Make-a-thing-better.patch").write_text(PATCH)
        (tmp_path / "tests/kernel/pci").mkdir(parents=True)
        (tmp_path / "tests/kernel/pci/test_slot.py").write_text(TEST)
        (tmp_path / "tests/kernel/pci/test_misc.py").write_text(OTHER_TESTS)
        if index:
            (tmp_path / "tests/executed.txt").write_text(INDEX)
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


def test_explain_renders_home_patches_and_the_tests_and_steps_that_run_it(tmp_path: Path) -> None:
    # in 80 columns (a pipe's); a run with options is listed apart, with them, never
    # in the numbers of the run zpcisim run NAME makes
    text = X.render(X.explain("pci_dev_matches_slot", make_tree(tmp_path)))
    assert text.splitlines() == [
        "pci_dev_matches_slot: function in kernel.pci.slot (kernel/pci/slot.py:8); C:",
        "  drivers/pci/slot.c and drivers/pci/pci.h",
        "",
        "Patches (v17, series/):",
        "  v17 1/1 PCI: Make a thing better",
        "      changes it in kernel/pci/slot.py",
        "      series/v17/0001-*.patch  <1-2-a@b>",
        "",
        "Tests that run it (3 tests in 2 files; from tests/executed.txt):",
        "  tests/kernel/pci/test_misc.py: every test (3) but test_c",
        "  tests/kernel/pci/test_slot.py: test_matches_by_devfn",
        "",
        "Scenarios that run it (steps as zpcisim run NAME numbers them):",
        "  multifunction-reset    steps 3, 5-7",
        "  passthrough-kvm        runs between steps (at none of its own)",
        "",
        "Runs with options a test chose (as zpcisim run NAME OPTIONS numbers them):",
        "  passthrough-kvm --errors 6",
        "                         steps 46, 53, 146, 153",
        "  perm-failure --pec 0x3b",
        "                         runs between steps (at none of its own)",
    ]


def test_the_answer_wraps_to_the_width_asked_inside_its_column(tmp_path: Path) -> None:
    e = X.explain("pci_dev_matches_slot", make_tree(tmp_path))
    lines = X.render(e, width=60).splitlines()
    assert lines[:2] == [
        "pci_dev_matches_slot: function in kernel.pci.slot",
        "  (kernel/pci/slot.py:8); C: drivers/pci/slot.c and",
    ]
    assert lines[-7:-2] == [
        "Runs with options a test chose (as zpcisim run NAME OPTIONS",
        "  numbers them):",
        "  passthrough-kvm --errors 6",
        "                         steps 46, 53, 146, 153",
        "  perm-failure --pec 0x3b",
    ]
    assert max(map(len, lines)) <= 60
    wide = X.render(e, width=200).splitlines()
    assert wide[0] == (
        "pci_dev_matches_slot: function in kernel.pci.slot (kernel/pci/slot.py:8); "
        "C: drivers/pci/slot.c and drivers/pci/pci.h"
    )


def test_a_helper_that_names_a_function_is_not_a_test_that_runs_it(tmp_path: Path) -> None:
    # test_slot.py's test_other calls it too, but the index (what ran) does not list
    # it: only what the suite run recorded counts, never a text search.
    text = X.render(X.explain("pci_dev_matches_slot", make_tree(tmp_path)))
    assert "test_other" not in text and "helper" not in text


def test_explain_without_an_index_says_how_to_make_one(tmp_path: Path) -> None:
    text = X.render(X.explain("pci_dev_matches_slot", make_tree(tmp_path, index=False)), width=WIDE)
    assert text.splitlines()[-1] == (
        "Tests: tests/executed.txt is not here (python -m tools.index writes it, in a source checkout)."
    )


def test_a_function_the_index_does_not_list_runs_in_no_test(tmp_path: Path) -> None:
    text = X.render(X.explain("address_read_file", make_tree(tmp_path)))
    assert text.splitlines()[-3:] == [
        "Tests: none runs it (tests/executed.txt).",
        "",
        "Scenarios: none runs it.",
    ]


@pytest.mark.parametrize(
    ("asked", "query"),
    [
        ("zpci_hot_reset_device", X.Query("zpci_hot_reset_device")),
        ("  zpci_hot_reset_device\n", X.Query("zpci_hot_reset_device")),
        ("zpci_hot_reset_device()", X.Query("zpci_hot_reset_device")),
        ("zpci_hot_reset_device(zdev);", X.Query("zpci_hot_reset_device")),
        ("struct zpci_dev", X.Query("zpci_dev", struct=True)),
        ("struct zpci_ccdf_err {", X.Query("zpci_ccdf_err", struct=True)),
        ("struct zpci_ccdf_err *ccdf", X.Query("zpci_ccdf_err", struct=True)),
        ("zdev->pending_errs_lock", X.Query("pending_errs_lock", owner="zdev")),
        ("&zdev->pending_errs_lock", X.Query("pending_errs_lock", owner="zdev")),
        ("zpci_dev.pending_errs_lock", X.Query("pending_errs_lock", owner="zpci_dev")),
    ],
)
def test_names_are_read_as_a_reader_copies_them(asked: str, query: X.Query) -> None:
    assert X.parse_name(asked) == query


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("", "NAME is empty"),
        ("   ", "NAME is blank"),
        ("a b c", "'a b c' is not a C name (a function, 'struct NAME', a field, a macro or a constant)"),
        ("struct", "'struct' is not a C name"),
        ("1abc", "'1abc' is not a C name"),
    ],
)
def test_empty_blank_and_unparsable_names_are_usage_errors(
    asked: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(X.UsageError) as e:
        X.parse_name(asked)
    assert str(e.value).startswith(message)
    assert X.main([asked]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"zpcisim explain: {message}")
    assert err[1].startswith("usage: zpcisim explain [--code] NAME")


def test_explain_of_a_removed_function_points_to_the_baseline(tmp_path: Path) -> None:
    text = X.render(X.explain("is_passed_through", make_tree(tmp_path)), width=WIDE)
    assert text.splitlines()[:2] == [
        "is_passed_through: not defined in kernel/ or uapi/.",
        "  The series removes it (v17 1/1); the tree before the series has it: "
        "python -m tools.series tree baseline DIR",
    ]


def test_explain_suggests_close_names(tmp_path: Path) -> None:
    e = X.explain("pci_dev_match_slot", make_tree(tmp_path))
    assert e.definitions == () and e.similar == ("pci_dev_matches_slot",)
    assert "  Did you mean: pci_dev_matches_slot?" in X.render(e)


def test_explain_without_a_checkout_says_what_it_cannot_answer(tmp_path: Path) -> None:
    text = X.render(X.explain("local_helper", make_tree(tmp_path, checkout=False)), width=WIDE)
    assert "(a Python-only helper of that module: no C function of this name)" in text.splitlines()[0]
    assert "Patches: series/ is not here (an installed package, not a source checkout)." in text
    no_index = "Tests: tests/executed.txt is not here (python -m tools.index writes it, in a source checkout)"
    assert no_index in text


def test_main_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert X.main(["pci_create_slot"]) == 0
    assert capsys.readouterr().out.startswith(
        "pci_create_slot: function in kernel.pci.slot (kernel/pci/slot.py:"
    )
    assert X.main(["no_such_function_anywhere"]) == 1
    assert X.main([]) == 2
    assert "usage: zpcisim explain [--code] NAME" in capsys.readouterr().err


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


STRUCTS = '''"""arch/s390/include/asm/pci.h (test tree)."""
import ctypes

import attrs


class zpci_ccdf_err(ctypes.BigEndianStructure):
    _pack_ = 1
    _fields_ = [
        ("fh", ctypes.c_uint32),
        ("pec", ctypes.c_uint16),
    ]


@attrs.define
class zpci_dev:
    fid: int = 0
    pending_errs_lock: object = None


ZPCI_ERR_PENDING_MAX = 4


def zpci_get_pending_error(zdev, ccdf):
    with zdev.pending_errs_lock:
        return ZPCI_ERR_PENDING_MAX
'''


def make_structs(tmp_path: Path) -> Path:
    root = make_tree(tmp_path)
    (root / "kernel/s390").mkdir(parents=True)
    (root / "kernel/s390/pci.py").write_text(STRUCTS)
    return root


def test_a_field_is_found_in_its_struct_with_the_functions_that_use_it(tmp_path: Path) -> None:
    root = make_structs(tmp_path)
    for asked in ("pending_errs_lock", "zdev->pending_errs_lock", "zpci_dev.pending_errs_lock"):
        e = X.explain(asked, root)
        field = X.Field("pending_errs_lock", "zpci_dev", "kernel/s390/pci.py", 18)
        assert e.found and e.fields[0][0] == field
        lines = X.render(e, width=WIDE).splitlines()
        assert lines[0] == (
            "pending_errs_lock: a field of struct zpci_dev (kernel/s390/pci.py:18); "
            "C: arch/s390/include/asm/pci.h"
        )
        assert lines[2:4] == [
            "Functions that use the field (1):",
            "  kernel/s390/pci.py: zpci_get_pending_error",
        ]
    assert not X.explain("zpci_ccdf_err.pending_errs_lock", root).found  # not a field of that struct
    assert X.explain("pec", root).fields[0][0].struct == "zpci_ccdf_err"  # a ctypes field


def test_struct_name_as_copied_from_a_patch(tmp_path: Path) -> None:
    root = make_structs(tmp_path)
    lines = X.render(X.explain("struct zpci_ccdf_err {", root), width=WIDE).splitlines()
    assert lines[0] == (
        "struct zpci_ccdf_err: struct in kernel.s390.pci (kernel/s390/pci.py:7); "
        "C: arch/s390/include/asm/pci.h"
    )
    assert not X.explain("struct ZPCI_ERR_PENDING_MAX", root).found  # a constant, not a struct


def test_a_constant_lists_its_users_and_code_prints_its_source(tmp_path: Path) -> None:
    root = make_structs(tmp_path)
    lines = X.render(X.explain("ZPCI_ERR_PENDING_MAX", root), code=True).splitlines()
    assert "  kernel/s390/pci.py: zpci_get_pending_error" in lines
    assert lines[-3:] == ["", "kernel/s390/pci.py:", "   21  ZPCI_ERR_PENDING_MAX = 4"]
    lines = X.render(X.explain("zpci_get_pending_error", root), code=True).splitlines()
    assert lines[-4:] == [
        "kernel/s390/pci.py:",
        "   24  def zpci_get_pending_error(zdev, ccdf):",
        "   25      with zdev.pending_errs_lock:",
        "   26          return ZPCI_ERR_PENDING_MAX",
    ]


MAINLINE = """\
PCI: Make a thing better
Ports: <1-2-a@b>
Commit: 0123456789abcdef0123456789abcdef01234567

Merged.
---
diff --git a/kernel/pci/slot.py b/kernel/pci/slot.py
--- a/kernel/pci/slot.py
+++ b/kernel/pci/slot.py
@@ -1,3 +1,3 @@ def pci_dev_matches_slot(dev, slot):
-    return dev.devfn == slot.number
+    return dev.devfn == slot.nr
"""


def test_patches_of_both_series_are_listed_and_marked(tmp_path: Path) -> None:
    root = make_tree(tmp_path)
    (root / "series/mainline").mkdir()
    (root / "series/mainline/0003-PCI-Make-a-thing-better.patch").write_text(MAINLINE)
    [m] = X.load_series(root, "mainline") or []
    assert (m.label, m.commit) == ("mainline 3", "0123456789abcdef0123456789abcdef01234567")
    lines = X.render(X.explain("pci_dev_matches_slot", root)).splitlines()
    # the patch file by its number (the subject says the rest): a patch's file name
    # alone can be wider than 80 columns
    assert lines[3:12] == [
        "Patches (v17 or mainline, series/):",
        "  v17 1/1 PCI: Make a thing better",
        "      changes it in kernel/pci/slot.py",
        "      series/v17/0001-*.patch  <1-2-a@b>",
        "  mainline 3 PCI: Make a thing better",
        "      changes it in kernel/pci/slot.py",
        "      series/mainline/0003-*.patch  <1-2-a@b>  commit",
        "      0123456789abcdef0123456789abcdef01234567",
        "",
    ]


def test_a_docstring_change_is_not_a_change_to_the_function() -> None:
    patch = (
        "diff --git a/kernel/x.py b/kernel/x.py\n"
        "--- a/kernel/x.py\n+++ b/kernel/x.py\n"
        "@@ -1,9 +1,9 @@\n"
        " def reworded(pdev):\n"
        '-    """Old words.\n'
        '+    """New words.\n'
        "     more\n"
        '     """\n'
        "     return 1\n"
        " \n"
        " \n"
        " def changed(\n"
        "     pdev,\n"
        " ) -> int:\n"
        '     """Doc."""\n'
        "-    return 1\n"
        "+    return 2\n"
    )
    assert X.changed_functions(patch) == {"kernel/x.py": {"changed"}}


def test_the_checkout_answers_the_issue_s_questions(capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's examples, on this tree and its index."""
    if not (X.default_root() / X.INDEX).is_file():  # only while python -m tools.index makes the first one
        pytest.skip("no tests/executed.txt yet")
    assert X.main(["vfio_pci_core_ioctl_feature"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  tests/kernel/vfio/\S+\.py: ", out, re.M)
    assert X.main(["zpci_hot_reset_device"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  passthrough-kvm +steps \d", out, re.M)
    assert X.main(["struct zpci_ccdf_err"]) == 0
    assert capsys.readouterr().out.startswith("struct zpci_ccdf_err: struct in kernel.s390.include.asm.pci")
    assert X.main(["pending_errs_lock"]) == 0
    assert capsys.readouterr().out.startswith("pending_errs_lock: a field of struct zpci_dev")


def _too_wide(lines: list[str], width: int) -> list[str]:
    """The lines wider than ``width`` that are not one word standing alone (a test's
    or a function's name longer than the line: never split, sim/cli.py's rule)."""
    return [ln for ln in lines if len(ln) > width and " " in ln.strip()]


@pytest.mark.parametrize(
    "name",
    [
        "zpci_store_pci_error",
        "zpci_event_attempt_error_recovery",
        "vfio_pci_zdev_feature_err",
        "pcie_flr",
        "zpci_hot_reset_device",
        "struct zpci_dev",
        "pending_errs_lock",
        "PCI_SLOT_PLACEHOLDER",
    ],
)
def test_the_checkout_s_answers_fit_80_columns_in_a_pipe_and_the_width_asked(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sim.cli import main

    assert main(["explain", "--code", name]) == 0  # stdout is not a terminal here
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 5 and _too_wide(lines, 80) == []
    assert main(["explain", "--width", "60", name]) == 0
    narrow = capsys.readouterr().out.splitlines()
    assert _too_wide(narrow, 60) == [] and max(map(len, narrow)) > 55


def test_zpcisim_explain_in_a_pipe_is_80_columns_as_a_user_runs_it() -> None:
    from tests.installed import HOW, run_zpcisim

    run = run_zpcisim("explain", "zpci_store_pci_error")
    assert run.returncode == 0, (HOW, run.stderr)
    lines = run.stdout.splitlines()
    assert lines[:2] == [
        "zpci_store_pci_error: function in kernel.s390.pci.pci_event",
        "  (kernel/s390/pci/pci_event.py:138); C: arch/s390/pci/pci_event.c",
    ], HOW
    assert _too_wide(lines, 80) == []
    assert "Scenarios that run it (steps as zpcisim run NAME numbers them):" in lines
