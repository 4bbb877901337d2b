"""Maintain ``series/``: the kernel series as Python diffs, and the trees they make.

Two series apply to one baseline (Linux 7.1-rc4 before the series):

``series/v17/``
    the seven patches of v17 (May 2026), the version the project was founded on.
    The tree on ``main`` is the baseline *with v17 applied*; reverse-applying the
    seven in order 7..1 gives the baseline.
``series/mainline/``
    the series as it was merged for Linux 7.3 (PCI v21 + VFIO v20), one file per
    merged commit in merged order.  It applies forward to the same baseline.

Commands::

    python -m tools.series check             # v17 reverse-applies here, mainline applies to the baseline
    python -m tools.series tree NAME DIR     # write a tree: baseline, v17, v17:N, mainline, mainline:N
    python -m tools.series baseline DIR      # the same as 'tree baseline DIR'
    python -m tools.series export [--series S] DIR   # DIR becomes a git repo: baseline + one commit a patch
    python -m tools.series import [--series S] DIR   # series/S (and for v17 this tree) from DIR's commits

How to change code that a patch touches (the way a kernel series is maintained):
``export`` into a scratch directory, change it there with ``git rebase -i`` (edit the
baseline commit for a change to the base, patch N's commit for a change to patch N),
keep the subjects, then ``import`` back.  For v17 the series files are rewritten and
the files of this tree that the series touches are taken from the scratch
repository's last commit.  For mainline only ``series/mainline/`` is rewritten (this
tree does not carry it); its baseline commit must be the baseline of this tree, so a
change to the base goes through a v17 export.  Commit the result here with an honest
message.

Each patch file starts with the kernel patch's subject, a line naming the posted
patch it ports (``Ports: <Message-ID>``), for a merged commit a line with its
mainline commit id (``Commit: <sha>``), a short note, a line ``---``, and then a plain
``git diff`` of code and test files.

Reading tree names, applying patches and writing trees is :mod:`sim.series`, which the
installed ``zpcisim`` uses too; this tool gives it every file git knows of the
checkout (so its trees carry the tests, docs and tools) and adds what needs git:
``check``, ``export`` and ``import``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from sim.series import (
    APPLIED,
    PATCHABLE,
    SERIES_NAMES,
    TREE_HELP,
    SeriesError,
    Source,
    TreeName,
    UsageError,
    apply_patch,
    copy_files,
    forward_apply,
    patch_files,
    reverse_apply,
)
from sim.series import parse_tree as _parse_tree
from sim.series import series_dir as _series_dir
from sim.series import write_tree as _write_tree

__all__ = [
    "APPLIED",
    "PATCHABLE",
    "SERIES_NAMES",
    "TREE_HELP",
    "SeriesError",
    "TreeName",
    "UsageError",
    "baseline",
    "check",
    "copy_tree",
    "export",
    "forward_apply",
    "git_source",
    "import_series",
    "main",
    "parse_commit",
    "parse_header",
    "parse_tree",
    "patch_files",
    "reverse_apply",
    "series_dir",
    "write_tree",
]

ROOT = Path(__file__).resolve().parent.parent
SERIES_ROOT = ROOT / "series"

#: The number of patches of v17; a v17 import must find exactly these.
V17_PATCHES = 7

BASELINE_SUBJECT = "baseline: Linux 7.1-rc4 before the series"

_HEADER_RE = re.compile(
    r"\A(?P<subject>[^\n]+)\nPorts: (?P<msgid><[^>\n]+>)\n(?:Commit: (?P<commit>[0-9a-f]{12,40})\n)?"
)


def _git(args: list[str], cwd: Path, input_: str | None = None) -> str:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, input=input_)
    if r.returncode != 0:
        raise SeriesError(f"git {' '.join(args)} failed in {cwd}:\n{r.stderr.strip()}")
    return r.stdout


def series_dir(name: str, root: Path = ROOT) -> Path:
    return _series_dir(name, root)


def parse_header(text: str, name: str) -> tuple[str, str]:
    """(subject, Message-ID) of a patch file."""
    m = _HEADER_RE.match(text)
    if m is None:
        raise SeriesError(f"{name}: must start with the subject line and 'Ports: <Message-ID>'")
    return m["subject"], m["msgid"]


def parse_commit(text: str) -> str | None:
    """The ``Commit:`` line of a patch file (a merged commit), or None."""
    m = _HEADER_RE.match(text)
    return None if m is None else m["commit"]


def _tracked_files(src: Path) -> list[str]:
    out = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], src)
    return [p for p in out.split("\0") if p and (src / p).is_file()]


def git_source(root: Path = ROOT) -> Source:
    """The checkout ``root`` as the source of trees: every file git knows (tracked or
    not ignored), every patch hunk applied."""
    return Source(root, root, tuple(sorted(_tracked_files(root))), None)


def copy_tree(src: Path, dst: Path) -> None:
    """Copy the files git knows (tracked or not ignored) of ``src`` into ``dst``."""
    copy_files(src, _tracked_files(src), dst)


def _files_of(patch_text: str) -> list[str]:
    return sorted(set(re.findall(r"^diff --git a/(\S+) b/", patch_text, flags=re.M)))


def parse_tree(spec: str, root: Path = ROOT) -> TreeName:
    """``baseline``, ``v17``, ``v17:N``, ``mainline``, ``mainline:N`` -> a :class:`TreeName`
    (:class:`UsageError` for anything else, or N out of range)."""
    return _parse_tree(spec, root)


def check(root: Path = ROOT) -> dict[str, int]:
    """v17 reverse-applies to ``root`` (giving the baseline) and mainline applies to that
    baseline; the number of patches of each series."""
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="zpcisim-series-") as tmp:
        copy_tree(root, Path(tmp))
        reverse_apply(Path(tmp), series_dir(APPLIED, root))
        counts[APPLIED] = len(patch_files(series_dir(APPLIED, root)))
        for name in SERIES_NAMES:
            if name == APPLIED:
                continue
            patches = sorted(series_dir(name, root).glob("[0-9][0-9][0-9][0-9]-*.patch"))
            forward_apply(Path(tmp), patches)
            counts[name] = len(patches)
            for patch in reversed(patches):
                apply_patch(Path(tmp), patch, reverse=True)
    return counts


def baseline(dst: Path, root: Path = ROOT) -> None:
    """Write the pre-series tree of ``root`` into ``dst`` (new or empty)."""
    write_tree(TreeName(None, 0), dst, root)


def write_tree(spec: str | TreeName, dst: Path, root: Path = ROOT) -> TreeName:
    """Write the tree ``spec`` (see :func:`parse_tree`) into ``dst`` (new or empty):
    :func:`sim.series.write_tree` from every file git knows of ``root``."""
    return _write_tree(spec, dst, git_source(root))


def _commit_message(text: str, name: str) -> str:
    subject, msgid = parse_header(text, name)
    commit = parse_commit(text)
    head = text.split("\n---\n", 1)[0].split("\n")
    note = "\n".join(head[3 if commit else 2 :]).strip()
    trailers = f"Ports: {msgid}" + (f"\nCommit: {commit}" if commit else "")
    return f"{subject}\n\n{note}\n\n{trailers}"


def export(dst: Path, root: Path = ROOT, series: str = APPLIED) -> int:
    """``dst`` becomes a git repository: the baseline, then one commit per patch of ``series``."""
    patches = patch_files(series_dir(series, root))
    baseline(dst, root)
    _git(["init", "-q", "-b", "series"], dst)
    _git(["add", "-A"], dst)
    _git(["commit", "-q", "-m", BASELINE_SUBJECT], dst)
    for patch in patches:
        text = patch.read_text()
        _git(["apply", "--index", "--whitespace=nowarn", "-"], dst, input_=text)
        _git(["commit", "-q", "-m", _commit_message(text, patch.name)], dst)
    return len(patches)


def _filename(n: int, subject: str) -> str:
    """The name ``git format-patch`` gives patch ``n``: the subject with every run of
    characters other than letters, digits, '_' and '.' turned into one '-'."""
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", subject).strip("-.")
    return f"{n:04d}-{slug}.patch"


def _series_commits(src: Path, rev_range: str | None) -> tuple[str, list[list[str]]]:
    """(base commit, [[sha, subject, body], ...]) of the patches in ``src``: those of
    ``rev_range``, or all after the commit whose subject starts with 'baseline:'."""
    rev = [rev_range] if rev_range else []
    log = _git(["log", "--reverse", "--format=%H%x00%s%x00%b%x01", *rev], src)
    commits = [c.strip("\n").split("\0") for c in log.split("\x01") if c.strip()]
    if rev_range:
        if not commits:
            raise SeriesError(f"{rev_range} holds no commits")
        return _git(["rev-parse", f"{commits[0][0]}^"], src).strip(), commits
    bases = [i for i, c in enumerate(commits) if c[1].startswith("baseline:")]
    if not bases:
        raise SeriesError(f"{src}: no commit whose subject starts with 'baseline:' (made by export)")
    i = bases[-1]
    return commits[i][0], commits[i + 1 :]


def import_series(
    src: Path, rev_range: str | None = None, root: Path = ROOT, series: str = APPLIED
) -> tuple[int, int]:
    """Rewrite ``root``'s series/``series`` from the patch commits of the git repository
    ``src`` (those after its baseline commit, or those of ``rev_range``); for the series
    this tree carries, also take the files they touch from ``src``'s tip.  Returns
    (patches written, files taken)."""
    sdir = series_dir(series, root)
    base, patches = _series_commits(src, rev_range)
    if series == APPLIED and len(patches) != V17_PATCHES:
        raise SeriesError(f"{src}: {len(patches)} patch commits, not the seven patches of v17")
    if not patches:
        raise SeriesError(f"{src}: no patch commits after the baseline")
    if series != APPLIED:
        _check_same_baseline(src, base, root)
    new: list[tuple[str, str]] = []
    for n, (sha, subject, body) in enumerate(patches, 1):
        m = re.search(r"^Ports: (<[^>\n]+>)$", body, flags=re.M)
        if m is None:
            raise SeriesError(f"commit {sha[:12]} ({subject}) has no 'Ports: <Message-ID>' line")
        c = re.search(r"^Commit: ([0-9a-f]{12,40})$", body, flags=re.M)
        note = re.sub(r"^(Ports: <[^>\n]+>|Commit: [0-9a-f]+)\n?", "", body, flags=re.M).strip()
        diff = _git(["diff", "--no-color", "--no-ext-diff", f"{sha}^", sha, "--", *PATCHABLE], src)
        if not diff:
            raise SeriesError(f"commit {sha[:12]} ({subject}) changes no code or test file")
        commit_line = f"Commit: {c[1]}\n" if c else ""
        text = f"{subject}\nPorts: {m[1]}\n{commit_line}\n{note}\n---\n{diff}"
        new.append((_filename(n, subject), text))
    taken = 0
    if series == APPLIED and src != root:
        touched = set(_git(["diff", "--name-only", base, patches[-1][0], "--", *PATCHABLE], src).split())
        # Files the old series touched and the new one no longer does are taken too: the
        # source's tip has them as they should now be.
        for old in sdir.glob("[0-9][0-9][0-9][0-9]-*.patch"):
            touched.update(_files_of(old.read_text()))
        for rel in sorted(touched):
            s, d = src / rel, root / rel
            if s.exists():
                d.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(s, d)
            elif d.exists():
                d.unlink()
        taken = len(touched)
    for old in sdir.glob("[0-9][0-9][0-9][0-9]-*.patch"):
        old.unlink()
    sdir.mkdir(parents=True, exist_ok=True)
    for name, text in new:
        (sdir / name).write_text(text)
    return len(new), taken


def _check_same_baseline(src: Path, base: str, root: Path) -> None:
    """A series this tree does not carry must sit on this tree's baseline."""
    with tempfile.TemporaryDirectory(prefix="zpcisim-base-") as tmp:
        ours = Path(tmp) / "base"
        baseline(ours, root)
        changed = []
        for rel in _git(["ls-tree", "-r", "--name-only", base, "--", *PATCHABLE], src).split("\n"):
            if not rel:
                continue
            theirs = _git(["show", f"{base}:{rel}"], src)
            mine = ours / rel
            if not mine.exists() or mine.read_text() != theirs:
                changed.append(rel)
        if changed:
            raise SeriesError(
                f"{src}: its baseline commit differs from this tree's baseline in {', '.join(changed[:5])}"
                f"{' ...' if len(changed) > 5 else ''}; change the base through a v17 export"
            )


def cmd_check(_: argparse.Namespace) -> int:
    counts = check()
    others = [f"the {n} patches of {s} apply to the baseline" for s, n in counts.items() if s != APPLIED]
    print(f"ok: the {counts[APPLIED]} patches of {APPLIED} reverse-apply to this tree; " + "; ".join(others))
    return 0


def cmd_tree(ns: argparse.Namespace) -> int:
    dst = Path(ns.dir).resolve()
    tree = write_tree(ns.name, dst)
    what = "the baseline (Linux 7.1-rc4 before the series)" if tree.series is None else (
        f"the baseline + patches 1..{tree.count} of {tree.series}"
    )
    print(f"{ns.name}: {what} written to {dst}")
    return 0


def cmd_baseline(ns: argparse.Namespace) -> int:
    ns.name = "baseline"
    return cmd_tree(ns)


def cmd_export(ns: argparse.Namespace) -> int:
    dst = Path(ns.dir).resolve()
    n = export(dst, series=ns.series)
    print(f"exported baseline + {n} commits of {ns.series} to {dst}")
    return 0


def cmd_import(ns: argparse.Namespace) -> int:
    src = Path(ns.dir).resolve()
    n, taken = import_series(src, ns.range, series=ns.series)
    into = f" and {taken} files into {ROOT}" if ns.series == APPLIED else ""
    print(f"imported {n} patches into {series_dir(ns.series)}{into}")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.series", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="check that v17 reverse-applies here and mainline applies to the baseline")
    tp = sub.add_parser("tree", help=f"write a tree into DIR: {TREE_HELP}")
    tp.add_argument("name", metavar="NAME", help=TREE_HELP)
    tp.add_argument("dir", metavar="DIR")
    bp = sub.add_parser("baseline", help="write the pre-series tree into DIR (tree baseline DIR)")
    bp.add_argument("dir", metavar="DIR")
    for name, text in (
        ("export", "write baseline + one commit per patch into a new git repository DIR"),
        ("import", "take series/S (for v17, also the touched files) from DIR's patch commits"),
    ):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("dir", metavar="DIR")
        sp.add_argument("--series", choices=SERIES_NAMES, default=APPLIED, help=f"default {APPLIED}")
        if name == "import":
            sp.add_argument(
                "--range",
                help="take the commits of this git range (BASE..TIP) instead of those after the "
                "baseline commit",
            )
    ns = p.parse_args(argv)
    handler = {
        "check": cmd_check,
        "tree": cmd_tree,
        "baseline": cmd_baseline,
        "export": cmd_export,
        "import": cmd_import,
    }
    try:
        return handler[ns.cmd](ns)
    except UsageError as e:
        print(f"series: {e}", file=sys.stderr)
        return 2
    except SeriesError as e:
        print(f"series: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
