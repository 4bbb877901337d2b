"""Maintain ``series/``: the seven v17 patches as Python diffs.

The tree on ``main`` is the *patched* tree.  ``series/000N-*.patch`` holds, for each
kernel patch, the diff our port of it makes; reverse-applying the seven in order
7..1 gives the *baseline* (Linux 7.1-rc4 before the series).  Commands::

    python -m tools.series check            # do the patches reverse-apply to this tree?
    python -m tools.series baseline DIR     # write the pre-series tree into DIR
    python -m tools.series export DIR       # DIR becomes a git repo: baseline + 7 commits
    python -m tools.series import DIR       # series/ and this tree from DIR's 7 commits

How to change code that a patch touches (the way a kernel series is maintained):
``export`` into a scratch directory, change it there with ``git rebase -i`` (edit the
baseline commit for a change to the base, patch N's commit for a change to patch N),
keep the subjects, then ``import`` back: the series files are rewritten and the
files of this tree that the series touches are taken from the scratch repository's
last commit.  Commit the result here with an honest message.

Each patch file starts with the kernel patch's subject, a line naming the kernel
patch it ports (``Ports: <Message-ID>``), a short note, and then a plain ``git
diff`` of code and test files.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERIES = ROOT / "series"

#: Only these paths may appear in a patch: code and tests, no docs or series files.
PATCHABLE = ("kernel/", "uapi/", "sim/", "tests/")

_HEADER_RE = re.compile(r"\A(?P<subject>[^\n]+)\nPorts: (?P<msgid><[^>\n]+>)\n")


class SeriesError(RuntimeError):
    pass


def _git(args: list[str], cwd: Path, input_: str | None = None) -> str:
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, input=input_)
    if r.returncode != 0:
        raise SeriesError(f"git {' '.join(args)} failed in {cwd}:\n{r.stderr.strip()}")
    return r.stdout


def patch_files(series: Path = SERIES) -> list[Path]:
    files = sorted(series.glob("[0-9][0-9][0-9][0-9]-*.patch"))
    if not files:
        raise SeriesError(f"no patch files in {series}")
    return files


def parse_header(text: str, name: str) -> tuple[str, str]:
    m = _HEADER_RE.match(text)
    if m is None:
        raise SeriesError(f"{name}: must start with the subject line and 'Ports: <Message-ID>'")
    return m["subject"], m["msgid"]


def _tracked_files(src: Path) -> list[str]:
    out = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], src)
    return [p for p in out.split("\0") if p and (src / p).is_file()]


def copy_tree(src: Path, dst: Path) -> None:
    """Copy the files git knows (tracked or not ignored) of ``src`` into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for rel in _tracked_files(src):
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)


def _files_of(patch_text: str) -> list[str]:
    return sorted(set(re.findall(r"^diff --git a/(\S+) b/", patch_text, flags=re.M)))


def reverse_apply(tree: Path, series: Path = SERIES) -> None:
    """Reverse-apply the series to ``tree``, last patch first."""
    for patch in reversed(patch_files(series)):
        text = patch.read_text()
        r = subprocess.run(
            ["git", "apply", "-R", "--whitespace=nowarn", "--verbose", "-"],
            cwd=tree,
            input=text,
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            failing = sorted(set(re.findall(r"patch failed: ([^:\n]+)", r.stderr))) or _files_of(text)
            raise SeriesError(
                f"{patch.name} no longer reverse-applies; files: {', '.join(failing)}\n{r.stderr.strip()}"
            )


def check(root: Path = ROOT) -> int:
    """Reverse-apply the series to a copy of ``root``; the number of patches."""
    with tempfile.TemporaryDirectory(prefix="zpcisim-series-") as tmp:
        copy_tree(root, Path(tmp))
        reverse_apply(Path(tmp), root / "series")
    return len(patch_files(root / "series"))


def baseline(dst: Path, root: Path = ROOT) -> None:
    """Write the pre-series tree of ``root`` into ``dst`` (new or empty)."""
    if dst.exists() and any(dst.iterdir()):
        raise SeriesError(f"{dst} exists and is not empty")
    copy_tree(root, dst)
    reverse_apply(dst, root / "series")


def export(dst: Path, root: Path = ROOT) -> int:
    """``dst`` becomes a git repository: the baseline, then one commit per patch."""
    baseline(dst, root)
    _git(["init", "-q", "-b", "series"], dst)
    _git(["add", "-A"], dst)
    _git(["commit", "-q", "-m", "baseline: Linux 7.1-rc4 before the v17 series"], dst)
    patches = patch_files(root / "series")
    for patch in patches:
        text = patch.read_text()
        subject, msgid = parse_header(text, patch.name)
        note = text.split("\n---\n", 1)[0].split("\n", 2)[2].strip()
        _git(["apply", "--index", "--whitespace=nowarn", "-"], dst, input_=text)
        _git(["commit", "-q", "-m", f"{subject}\n\n{note}\n\nPorts: {msgid}"], dst)
    return len(patches)


def cmd_check(_: argparse.Namespace) -> int:
    print(f"ok: the {check()} patches reverse-apply to this tree")
    return 0


def cmd_baseline(ns: argparse.Namespace) -> int:
    dst = Path(ns.dir).resolve()
    baseline(dst)
    print(f"baseline (Linux 7.1-rc4 before the v17 series) written to {dst}")
    return 0


def cmd_export(ns: argparse.Namespace) -> int:
    dst = Path(ns.dir).resolve()
    n = export(dst)
    print(f"exported baseline + {n} commits to {dst}")
    return 0


def _filename(n: int, subject: str) -> str:
    """The name ``git format-patch`` gives patch ``n``: the subject with every run of
    characters other than letters, digits, '_' and '.' turned into one '-'."""
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", subject).strip("-.")
    return f"{n:04d}-{slug}.patch"


def cmd_import(ns: argparse.Namespace) -> int:
    src = Path(ns.dir).resolve()
    n, taken = import_series(src, ns.range)
    print(f"imported {n} patches into {SERIES} and {taken} files into {ROOT}")
    return 0


def import_series(src: Path, rev_range: str | None = None, root: Path = ROOT) -> tuple[int, int]:
    """Rewrite ``root``'s series/ from seven commits of the git repository ``src``
    (its last seven, or those of ``rev_range``) and take the files they touch from
    ``src``'s tip.  Returns (patches written, files taken)."""
    series = root / "series"
    rev = [rev_range] if rev_range else []
    log = _git(["log", "--reverse", "--format=%H%x00%s%x00%b%x01", *rev], src)
    commits = [c.strip("\n").split("\0") for c in log.split("\x01") if c.strip()]
    if rev_range:
        if len(commits) != 7:
            raise SeriesError(f"{rev_range} holds {len(commits)} commits, not the seven patches")
        patches = commits
        base = _git(["rev-parse", f"{patches[0][0]}^"], src).strip()
    else:
        if len(commits) < 8:
            raise SeriesError(f"{src}: expected a baseline commit and seven patch commits")
        patches = commits[-7:]
        base = commits[-8][0]
    new: list[tuple[str, str]] = []
    for n, (sha, subject, body) in enumerate(patches, 1):
        m = re.search(r"^Ports: (<[^>\n]+>)$", body, flags=re.M)
        if m is None:
            raise SeriesError(f"commit {sha[:12]} ({subject}) has no 'Ports: <Message-ID>' line")
        note = re.sub(r"^Ports: <[^>\n]+>\n?", "", body, flags=re.M).strip()
        diff = _git(["diff", "--no-color", "--no-ext-diff", f"{sha}^", sha, "--", *PATCHABLE], src)
        if not diff:
            raise SeriesError(f"commit {sha[:12]} ({subject}) changes no code or test file")
        text = f"{subject}\nPorts: {m[1]}\n\n{note}\n---\n{diff}"
        new.append((_filename(n, subject), text))
    touched = set(_git(["diff", "--name-only", base, patches[-1][0], "--", *PATCHABLE], src).split())
    # Files the old series touched and the new one no longer does are taken too: the
    # source's tip has them as they should now be.
    for old in series.glob("[0-9][0-9][0-9][0-9]-*.patch"):
        touched.update(_files_of(old.read_text()))
    for rel in sorted(touched):
        s, d = src / rel, root / rel
        if src == root:
            break
        if s.exists():
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)
        elif d.exists():
            d.unlink()
    for old in series.glob("[0-9][0-9][0-9][0-9]-*.patch"):
        old.unlink()
    series.mkdir(exist_ok=True)
    for name, text in new:
        (series / name).write_text(text)
    return len(new), (0 if src == root else len(touched))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.series", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("check", help="check that the series reverse-applies to this tree")
    for name, text in (
        ("baseline", "write the pre-series tree into DIR"),
        ("export", "write baseline + one commit per patch into a new git repository DIR"),
        ("import", "take series/ and the touched files from DIR's last seven commits"),
    ):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("dir")
        if name == "import":
            sp.add_argument(
                "--range",
                help="take the seven commits of this git range (BASE..TIP) instead of the last seven; "
                "with DIR '.', generates series/ from this repository's own history",
            )
    ns = p.parse_args(argv)
    handler = {"check": cmd_check, "baseline": cmd_baseline, "export": cmd_export, "import": cmd_import}
    try:
        return handler[ns.cmd](ns)
    except SeriesError as e:
        print(f"series: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
