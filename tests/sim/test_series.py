"""sim/series.py: tree names, the exact patch applier, the sources trees are written
from (a checkout, an installed package), and the cache key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sim import series as S

ROOT = Path(__file__).resolve().parents[2]

BASE = "".join(f"line {n}\n" for n in range(1, 21))
PATCH = """PCI: Make a thing better
Ports: <1@example.org>

A note.
---
diff --git a/kernel/a.py b/kernel/a.py
index 1111111..2222222 100644
--- a/kernel/a.py
+++ b/kernel/a.py
@@ -1,3 +1,4 @@
 line 1
+inserted after 1
 line 2
 line 3
@@ -9,5 +10,5 @@
 line 9
 line 10
-line 11
+LINE 11
 line 12
 line 13
diff --git a/kernel/new.py b/kernel/new.py
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/kernel/new.py
@@ -0,0 +1,2 @@
+new 1
+new 2
diff --git a/tests/test_a.py b/tests/test_a.py
index 4444444..5555555 100644
--- a/tests/test_a.py
+++ b/tests/test_a.py
@@ -1 +1 @@
-old test
+new test
"""


def tree(tmp_path: Path, a: str = BASE) -> Path:
    t = tmp_path / "t"
    (t / "kernel").mkdir(parents=True)
    (t / "tests").mkdir()
    (t / "kernel/a.py").write_text(a)
    (t / "tests/test_a.py").write_text("old test\n")
    (tmp_path / "s").mkdir(exist_ok=True)
    (tmp_path / "s/0001-x.patch").write_text(PATCH)
    return t


def test_parse_diff_reads_files_hunks_and_created_files() -> None:
    a, new, test = S.parse_diff(PATCH)
    assert (a.old, a.new, [(h.old_start, h.new_start) for h in a.hunks]) == ("kernel/a.py", "kernel/a.py", [
        (1, 1), (9, 10)
    ])  # fmt: skip
    assert a.hunks[1].lines[2:4] == (("-", "line 11\n"), ("+", "LINE 11\n"))
    assert (new.old, new.new, new.path) == (None, "kernel/new.py", "kernel/new.py")
    assert test.hunks[0].lines == (("-", "old test\n"), ("+", "new test\n"))


def test_parse_diff_refuses_a_rename() -> None:
    text = "diff --git a/kernel/a.py b/kernel/b.py\nsimilarity index 90%\nrename from kernel/a.py\n"
    with pytest.raises(S.SeriesError, match=r"^x: kernel/b.py: renames, copies and binary diffs"):
        S.parse_diff(text, "x")


def test_apply_then_reverse_gives_the_file_back(tmp_path: Path) -> None:
    t = tree(tmp_path)
    S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=False)
    a = (t / "kernel/a.py").read_text()
    assert a.splitlines()[:2] == ["line 1", "inserted after 1"] and "LINE 11\n" in a
    assert (t / "kernel/new.py").read_text() == "new 1\nnew 2\n"
    assert (t / "tests/test_a.py").read_text() == "new test\n"
    S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=True)
    assert (t / "kernel/a.py").read_text() == BASE
    assert not (t / "kernel/new.py").exists()  # the created file is deleted again
    assert (t / "tests/test_a.py").read_text() == "old test\n"


def test_a_hunk_applies_where_its_context_moved(tmp_path: Path) -> None:
    """As git apply: the lines it names moved down by two, the hunk follows them."""
    t = tree(tmp_path, BASE.replace("line 5\n", "line 5\nextra\nextra\n"))
    S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=False)
    assert (t / "kernel/a.py").read_text().splitlines()[11:15] == ["line 9", "line 10", "LINE 11", "line 12"]


def test_no_fuzz_a_changed_context_line_fails_and_nothing_is_written(tmp_path: Path) -> None:
    t = tree(tmp_path, BASE.replace("line 12\n", "line twelve\n"))
    with pytest.raises(S.SeriesError) as e:
        S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=False)
    assert str(e.value).splitlines() == [
        "s/0001-x.patch no longer applies; files: kernel/a.py",
        "error: patch failed: kernel/a.py: hunk 2 (line 9) does not match",
    ]
    # all or none: the file that did apply is not written either
    assert not (t / "kernel/new.py").exists()
    assert (t / "tests/test_a.py").read_text() == "old test\n"


def test_a_hunk_at_line_1_must_match_at_the_start(tmp_path: Path) -> None:
    t = tree(tmp_path, "line 0\n" + BASE)
    with pytest.raises(S.SeriesError, match=r"kernel/a.py: hunk 1 \(line 1\) does not match"):
        S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=False)


def test_creating_a_file_that_exists_fails(tmp_path: Path) -> None:
    t = tree(tmp_path)
    (t / "kernel/new.py").write_text("already\n")
    with pytest.raises(S.SeriesError, match=r"error: patch failed: kernel/new.py: already exists"):
        S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=False)


def test_dirs_skips_the_hunks_elsewhere(tmp_path: Path) -> None:
    """An installed package has no tests/: its trees skip the series' hunks there."""
    t = tree(tmp_path)
    shutil.rmtree(t / "tests")
    S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=False, dirs=S.PACKAGES)
    assert (t / "kernel/new.py").is_file() and not (t / "tests").exists()
    with pytest.raises(S.SeriesError, match=r"files: tests/test_a.py\n.*tests/test_a.py: does not exist$"):
        S.apply_patch(t, tmp_path / "s/0001-x.patch", reverse=True)


def installed_layout(tmp_path: Path) -> Path:
    """site-packages as ``pip install`` of the wheel leaves it (setup.py's sim/_data)."""
    site = tmp_path / "site"
    for pkg in S.PACKAGES:
        shutil.copytree(ROOT / pkg, site / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "series", site / "sim/_data/series")
    return site


def test_data_root_is_the_checkout_or_the_shipped_copy(tmp_path: Path) -> None:
    assert S.data_root() == ROOT == S.package_root()
    assert S.is_checkout(ROOT)
    site = installed_layout(tmp_path)
    assert not S.is_checkout(site)
    assert S.data_root(site) == site / "sim/_data"
    shutil.rmtree(site / "sim/_data")
    assert S.data_root(site) == site
    with pytest.raises(S.SeriesError, match=r"the series files are not in .*/sim/_data/series: this package"):
        S.installed_source(site)


def test_an_installed_tree_is_the_checkouts_without_tests(tmp_path: Path) -> None:
    site = installed_layout(tmp_path)
    src = S.source_for(site)
    assert src.dirs == S.PACKAGES and src.base == site / "sim/_data"
    assert not any(f.startswith(("tests/", "sim/_data/")) for f in src.files)
    S.write_tree("v17:4", tmp_path / "inst", src)
    S.write_tree("v17:4", tmp_path / "co", S.checkout_source(ROOT))
    files = S.checkout_source(tmp_path / "inst").files
    assert files == tuple(f for f in S.checkout_source(tmp_path / "co").files if not f.startswith("tests/"))
    for rel in files:
        assert (tmp_path / "inst" / rel).read_bytes() == (tmp_path / "co" / rel).read_bytes(), rel


def test_tree_key_follows_the_package_files_and_the_series(tmp_path: Path) -> None:
    site = installed_layout(tmp_path)
    key = S.tree_key("mainline", S.source_for(site))
    assert key == S.tree_key("mainline", S.source_for(site))
    assert key != S.tree_key("baseline", S.source_for(site))
    patch = next((site / "sim/_data/series/mainline").glob("0008-*.patch"))
    patch.write_text(patch.read_text() + "\n")
    changed = S.tree_key("mainline", S.source_for(site))
    assert changed != key
    (site / "kernel/pci/slot.py").write_text("# changed\n")
    last = S.tree_key("mainline", S.source_for(site))
    assert last != changed
    (site / "kernel/__pycache__").mkdir(exist_ok=True)
    (site / "kernel/__pycache__/x.pyc").write_bytes(b"\0")  # compiled files are not sources
    assert S.tree_key("mainline", S.source_for(site)) == last
