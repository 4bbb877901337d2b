"""tools/mutate.py: the operators on small snippets, the mapping of the series' lines
onto the tree, the runner in scratch trees, and the report."""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.offered import needs_v17_checkout
from tools import mutate as M
from tools import series as S

SNIPPET = textwrap.dedent(
    '''\
    import errno


    def f(zdev, ccdf, err):
        """Doc."""
        with guard(mutex)(zdev.lock):
            if not zdev.on:
                return -errno.EINVAL
            if zdev.count >= 4 and zdev.x is None:
                pci_warn(zdev, "full\\n")
                return -errno.ENOMEM
            zdev.count += 1
        err.fh = ccdf.fh
        err.fid = ccdf.fid
        return 0
    '''
)


def mutants(
    text: str = SNIPPET, lines: set[int] | None = None, ops: tuple[str, ...] = M.OPERATORS
) -> list[M.Mutant]:
    n = text.count("\n") + 1
    chosen = set(range(1, n + 1)) if lines is None else lines
    return M.generate("kernel/x.py", text.encode(), {ln: 4 for ln in chosen}, ops)


def changes(ms: list[M.Mutant]) -> list[tuple[int, str, str, str]]:
    return [(m.line, m.operator, M._squash(m.old), M._squash(m.new)) for m in ms]


def test_negate_and_condition_of_an_if() -> None:
    got = changes(mutants(lines={7}, ops=("negate", "condition")))
    assert got == [
        (7, "negate", "not zdev.on", "zdev.on"),
        (7, "condition", "not zdev.on", "True"),
    ]


def test_condition_drops_each_operand_of_a_boolean_and_compare_swaps() -> None:
    got = changes(mutants(lines={9}, ops=("condition", "compare")))
    assert got == [
        (9, "condition", "zdev.count >= 4 and zdev.x is None", "True"),
        (9, "condition", "zdev.count >= 4 and zdev.x is None", "zdev.count >= 4"),
        (9, "condition", "zdev.count >= 4 and zdev.x is None", "zdev.x is None"),
        (9, "compare", "zdev.count >= 4", "zdev.count > 4"),
        (9, "compare", "zdev.x is None", "zdev.x is not None"),
    ]


def test_constants_errnos_and_log_levels() -> None:
    got = changes(mutants(lines={8, 9, 10, 15}, ops=("constant", "errno", "loglevel")))
    assert got == [
        (8, "errno", "errno.EINVAL", "errno.EPERM"),
        (9, "constant", "4", "5"),
        (10, "loglevel", "pci_warn", "pci_info"),
        (15, "constant", "0", "1"),
    ]
    warn = next(m for m in mutants(lines={10}, ops=("loglevel",)))
    assert warn.append == "from kernel.lib.printk import pci_info"  # the new name is bound


def test_drop_statement_and_early_return_become_pass() -> None:
    got = changes(mutants(lines={8, 12}, ops=("statement",)))
    assert got == [
        (8, "statement", "return -errno.EINVAL", "pass"),
        (12, "statement", "zdev.count += 1", "pass"),
    ]


def test_swap_of_adjacent_statements_and_field_copy() -> None:
    # the two field copies are not swapped: independent call-free assignments
    got = changes(mutants(lines={13}, ops=("swap", "field")))
    with_block = M._squash(SNIPPET[SNIPPET.index("with") : SNIPPET.index("    err.fh")])
    assert got == [
        (6, "swap", f"{with_block} err.fh = ccdf.fh", f"err.fh = ccdf.fh {with_block}"),
        (13, "field", "ccdf.fh", "ccdf.fid"),
    ]


def test_unguard_replaces_the_guard_with_nullcontext_and_imports_it() -> None:
    (m,) = mutants(lines={6}, ops=("unguard",))
    assert (m.old, m.new, m.append) == (
        "guard(mutex)(zdev.lock)",
        "nullcontext()",
        "from contextlib import nullcontext",
    )
    out = m.apply(SNIPPET.encode()).decode()
    assert "    with nullcontext():\n" in out
    assert out.endswith("    return 0\n\nfrom contextlib import nullcontext\n")


def test_only_the_given_lines_are_mutated_and_every_mutant_parses_and_differs() -> None:
    ms = mutants()
    only12 = mutants(lines={12})
    assert {m.line for m in only12 if m.operator != "swap"} == {12}
    # a swap moves line 12 past its neighbour: the if before it (it is last in its block)
    assert [(m.line, m.old.count("\n") + m.line) for m in only12 if m.operator == "swap"] == [(9, 12)]
    texts = [m.apply(SNIPPET.encode()) for m in ms]
    assert len(set(texts)) == len(texts)
    for t in texts:
        assert ast.dump(ast.parse(t)) != ast.dump(ast.parse(SNIPPET))
    assert all(m.function == "f" and m.patch == 4 for m in ms)


def test_docstrings_imports_all_and_declarations_are_left_alone() -> None:
    text = (
        'import errno\n__all__ = ["f"]\n\n\ndef f():\n    """Doc 1."""\n    x: int\n    y = 1\n    return y\n'
    )
    got = changes(mutants(text))
    assert got == [
        (8, "statement", "y = 1", "pass"),
        (8, "swap", "y = 1 return y", "return y y = 1"),
        (8, "constant", "1", "0"),
        (9, "statement", "return y", "pass"),
    ]


def test_hex_constants_stay_hex_and_utf8_columns_are_bytes() -> None:
    text = '"""Grüße."""\nX = "ä"; Y = 0xFEFF\n'
    (m,) = mutants(text, lines={2})
    assert (m.old, m.new) == ("0xFEFF", "0xff00")
    assert m.apply(text.encode()).decode() == '"""Grüße."""\nX = "ä"; Y = 0xff00\n'


def test_key_names_the_mutant_without_its_line_number() -> None:
    (m,) = mutants(lines={12}, ops=("statement",))
    assert m.key == "kernel/x.py::f::statement::zdev.count += 1 -> pass"


def test_diff_is_a_unified_diff_of_the_one_change() -> None:
    (m,) = mutants(lines={12}, ops=("statement",))
    assert m.diff(SNIPPET.encode()) == (
        "--- a/kernel/x.py\n+++ b/kernel/x.py\n@@ -10,5 +10,5 @@\n"
        '             pci_warn(zdev, "full\\n")\n'
        "             return -errno.ENOMEM\n"
        "-        zdev.count += 1\n"
        "+        pass\n"
        "     err.fh = ccdf.fh\n"
        "     err.fid = ccdf.fid\n"
    )


# ------------------------------------------------------------------ the series' lines


def git(args: list[str], cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


def test_series_lines_are_those_a_commit_after_the_baseline_wrote(tmp_path: Path) -> None:
    git(["init", "-q"], tmp_path)
    f = tmp_path / "kernel" / "a.py"
    f.parent.mkdir()
    f.write_text("a = 1\nb = 2\nc = 3\n")
    git(["add", "-A"], tmp_path)
    git(["commit", "-qm", "baseline: x"], tmp_path)
    base = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    f.write_text("a = 1\nb = 20\nc = 3\nd = 4\n")
    git(["commit", "-qam", "patch 1"], tmp_path)
    f.write_text("z = 0\na = 1\nb = 20\nc = 3\nd = 40\n")
    git(["commit", "-qam", "patch 2"], tmp_path)
    assert M.series_lines(tmp_path, base, ["kernel/a.py", "kernel/gone.py"]) == {
        "kernel/a.py": {1: 2, 3: 1, 5: 2}
    }


@needs_v17_checkout()
def test_v17_lines_map_onto_this_tree(tmp_path: Path) -> None:
    files = M.patched_sources(S.series_dir("v17"))
    assert "kernel/s390/pci/pci_event.py" in files and not any(f.startswith("tests/") for f in files)
    tree = tmp_path / "t"
    S.export(tree)
    base = subprocess.run(
        ["git", "rev-list", "--max-parents=0", "HEAD"], cwd=tree, capture_output=True, text=True
    ).stdout.split()[0]
    lines = M.series_lines(tree, base, ["kernel/pci/pci.py"])["kernel/pci/pci.py"]
    text = (S.ROOT / "kernel/pci/pci.py").read_text().splitlines()
    added = {text[n - 1].strip(): p for n, p in lines.items()}
    assert added['if not pci_dev_config_accessible(dev, "FLR"):'] == 3
    assert added['if not pci_dev_config_accessible(dev, "save state"):'] == 2
    assert "def pcie_flr(dev: pci_dev) -> int:" not in added  # the baseline's


# ------------------------------------------------------------------ the runner


def small_tree(root: Path, body: str) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "m.py").write_text(body)
    (root / "tests").mkdir()
    (root / "tests" / "test_m.py").write_text(
        "from pkg.m import f\n\n"
        "def test_f_returns_two():\n    assert f() == 2\n\n"
        "def test_f_runs():\n    f()\n"
    )
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["."]\n')
    git(["init", "-q"], root)
    git(["add", "-A"], root)
    return root


def test_runner_kills_and_lets_survive_in_scratch_copies(tmp_path: Path) -> None:
    body = "def f():\n    x = 1\n    x = 2\n    return x\n"
    tree = small_tree(tmp_path / "tree", body)
    ms = M.generate("pkg/m.py", body.encode(), {2: 1, 3: 1}, ("statement", "constant"))
    assert changes(ms) == [
        (2, "statement", "x = 1", "pass"),
        (2, "constant", "1", "0"),
        (3, "statement", "x = 2", "pass"),
        (3, "constant", "2", "3"),
    ]
    runner = M.Runner(tree, jobs=1)
    try:
        tests = ["tests/test_m.py::test_f_runs", "tests/test_m.py::test_f_returns_two"]
        results = [runner.run(m, tests, {}) for m in ms]
        assert runner.run(ms[0], [], {}).status == "no-test"
    finally:
        runner.close()
    assert [(r.status, r.killer) for r in results] == [
        ("survived", ""),
        ("survived", ""),
        ("killed", "tests/test_m.py::test_f_returns_two"),
        ("killed", "tests/test_m.py::test_f_returns_two"),
    ]
    assert (tree / "pkg" / "m.py").read_text() == body  # never mutated in place
    assert not Path(runner.tmp.name).exists()


# ------------------------------------------------------------------ the report


def ns(**kw: object) -> argparse.Namespace:
    d: dict[str, object] = {
        "series": "v17",
        "sample": None,
        "seed": 17,
        "file": None,
        "patch": None,
        "operator": None,
        "json": False,
        "jobs": 2,
    }
    d.update(kw)
    return argparse.Namespace(**d)


def test_report_shows_survivors_as_diffs_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    ms = mutants(lines={8, 12}, ops=("statement",))
    plan = M.Plan(Path("/nowhere"), ms, {"kernel/x.py": SNIPPET.encode()}, {})
    results = [M.Result(ms[0], "killed", 3, "tests/t.py::a", 1.0), M.Result(ms[1], "survived", 5, "", 2.0)]
    assert M.report(plan, results, {}, ns(), 12.0) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "SURVIVED kernel/x.py:12 (patch 4, statement, f): 5 tests ran, none failed\n"
        "  key: kernel/x.py::f::statement::zdev.count += 1 -> pass\n"
        "--- a/kernel/x.py\n"
    )
    assert out.endswith(
        "operator    mutants  killed\n"
        "statement         2       1\n"
        "v17: 2 mutants: 1 killed, 0 equivalent (listed), 1 survived; 50.0% killed, 50.0% of the "
        "non-equivalent; 12 s with 2 jobs\n"
    )


def test_report_passes_when_every_survivor_is_a_listed_equivalent(capsys: pytest.CaptureFixture[str]) -> None:
    ms = mutants(lines={8, 12}, ops=("statement",))
    plan = M.Plan(Path("/nowhere"), ms, {"kernel/x.py": SNIPPET.encode()}, {})
    results = [M.Result(ms[0], "killed", 3, "t", 1.0), M.Result(ms[1], "survived", 5, "", 2.0)]
    eq = {ms[1].key: M.Equivalent(ms[1].key, "because")}
    assert M.report(plan, results, eq, ns(), 1.0) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith(
            "v17: 2 mutants: 1 killed, 1 equivalent (listed), 0 survived; "
            "50.0% killed, 100.0% of the non-equivalent"
        )
    )
    # a listed mutant that is killed, and (in a full run) a listed one no longer made, fail
    eq[ms[0].key] = M.Equivalent(ms[0].key, "wrong")
    eq["kernel/x.py::f::statement::gone -> pass"] = M.Equivalent(
        "kernel/x.py::f::statement::gone -> pass", "old"
    )
    assert M.report(plan, results, eq, ns(), 1.0) == 1
    out = capsys.readouterr().out
    assert f"LISTED AS EQUIVALENT BUT KILLED by t: {ms[0].key}\n" in out
    assert "STALE EQUIVALENT (no such mutant any more): kernel/x.py::f::statement::gone -> pass\n" in out


def test_equivalents_file_needs_a_reason(tmp_path: Path) -> None:
    f = tmp_path / "eq.toml"
    f.write_text('[[v17]]\nmutant = "a::b::statement::x -> pass"\nreason = "dead store"\n')
    assert M.load_equivalents(f) == {
        "a::b::statement::x -> pass": M.Equivalent("a::b::statement::x -> pass", "dead store")
    }
    f.write_text('[[v17]]\nmutant = "a::b::statement::x -> pass"\nreason = " "\n')
    with pytest.raises(M.MutateError, match=r"entry 1 needs 'mutant' and a non-empty 'reason'"):
        M.load_equivalents(f)


def test_both_series_share_the_entries_under_both_and_an_entry_is_listed_once(tmp_path: Path) -> None:
    f = tmp_path / "eq.toml"
    f.write_text(
        '[[v17]]\nmutant = "a::f::statement::x -> pass"\nreason = "only in v17"\n'
        '[[both]]\nmutant = "a::g::statement::y -> pass"\nreason = "in either"\n'
    )
    both = "a::g::statement::y -> pass"
    assert sorted(M.load_equivalents(f, "v17")) == ["a::f::statement::x -> pass", both]
    assert sorted(M.load_equivalents(f, "mainline")) == ["a::g::statement::y -> pass"]
    f.write_text(
        '[[v17]]\nmutant = "a::g::statement::y -> pass"\nreason = "here"\n'
        '[[both]]\nmutant = "a::g::statement::y -> pass"\nreason = "and here"\n'
    )
    with pytest.raises(M.MutateError, match=r"\[\[both\]\] entry 1 repeats a::g::statement::y -> pass"):
        M.load_equivalents(f, "v17")


def test_the_reviewed_equivalents_all_have_reasons() -> None:
    eq = M.load_equivalents()
    assert all(e.reason for e in eq.values())


@needs_v17_checkout()
def test_command_line_usage_errors_exit_2() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tools.mutate", *args], cwd=S.ROOT, capture_output=True, text=True
        )

    r = run("--jobs", "0")
    assert r.returncode == 2 and "--jobs must be at least 1" in r.stderr
    r = run("--operator", "nonsense")
    assert r.returncode == 2 and "invalid choice: 'nonsense'" in r.stderr
    r = run("--patch", "99", "--list")
    assert (r.returncode, r.stdout) == (0, "0 mutants\n")
    r = run("--patch", "99")
    assert (r.returncode, r.stderr) == (2, "mutate: no mutants: the filters match no line of the series\n")


def test_a_mutant_that_makes_a_test_hang_is_killed_by_the_per_test_limit(tmp_path: Path) -> None:
    body = "import time\n\n\ndef f():\n    done = True\n"
    body += "    while not done:\n        time.sleep(0.01)\n    return 2\n"
    tree = small_tree(tmp_path / "tree", body)
    (m,) = M.generate("pkg/m.py", body.encode(), {5: 1}, ("constant",))
    runner = M.Runner(tree, jobs=1, per_test_min=1.0)
    try:
        r = runner.run(m, ["tests/test_m.py::test_f_runs"], {"tests/test_m.py::test_f_runs": 0.01})
    finally:
        runner.close()
    assert (r.status, r.killer) == ("timeout", "tests/test_m.py::test_f_runs")
    assert r.seconds < 15


def test_keys_are_unique_a_repeated_change_is_numbered_and_long_ones_hashed() -> None:
    text = "def f(a):\n    if a:\n        return 0\n    return 0\n"
    keys = [m.key for m in mutants(text, ops=("statement", "constant"))]
    assert len(set(keys)) == len(keys)
    assert "kernel/x.py::f::statement::return 0 -> pass (occurrence 2)" in keys
    long = "def f():\n    g(" + ", ".join(f"arg{i}" for i in range(30)) + ")\n"
    (m,) = mutants(long, ops=("statement",))
    start = "kernel/x.py::f::statement::g(arg0, arg1, arg2, arg3, arg4, arg5, ar... -> pass #"
    assert m.key.startswith(start)
    assert len(m.key.rsplit("#", 1)[1]) == 10


def test_independent_assignments_are_not_swapped_dependent_ones_and_calls_are() -> None:
    def swaps(body: str) -> list[str]:
        text = "def f(a, b, c):\n" + textwrap.indent(body, "    ")
        return [M._squash(m.new) for m in mutants(text, ops=("swap",))]

    assert swaps("a.x += 1\na.y -= 1\n") == []  # different fields
    assert swaps("a.x = b.x\na.y = b.y\n") == []
    assert swaps("a.x = 1\nc = a.x\n") == ["c = a.x a.x = 1"]  # reads what the other wrote
    assert swaps("a.x = 1\nc = a.x.y\n") == ["c = a.x.y a.x = 1"]
    assert swaps("a.x = 1\na.x += 2\n") == ["a.x += 2 a.x = 1"]
    assert swaps("a.x = 1\ng(b)\n") == ["g(b) a.x = 1"]  # a call may do anything
