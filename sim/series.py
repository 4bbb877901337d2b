"""The two series and the kernel trees they make, written in Python without git, so
that an installed ``zpcisim`` writes the trees ``compare`` and ``run --kernel`` need.

Two series apply to one baseline (Linux 7.1-rc4 before the series): ``series/v17/``
(the seven patches of v17; the tree the package holds is the baseline *with v17
applied*, and reverse-applying them 7..1 gives the baseline) and ``series/mainline/``
(the series as merged for Linux 7.3, applied forward to the same baseline).  A tree is
named ``baseline``, ``v17``, ``v17:N`` (patches 1..N), ``mainline`` or ``mainline:N``
(:func:`parse_tree`).

What a tree is written from is a :class:`Source`: the files copied (paths relative to
its ``root``) and where ``series/`` is (``base``).  There are three:

- :func:`checkout_source`: a source checkout, read by walking ``kernel/``, ``uapi/``,
  ``sim/`` and ``tests/`` (``__pycache__`` and dot-directories left out); its trees
  carry the tests, as ``python -m tools.series tree`` writes them.
- :func:`installed_source`: an installed package (``pip install .``): ``kernel/``,
  ``uapi/`` and ``sim/`` from site-packages, and the series files the wheel ships in
  ``sim/_data/`` (:data:`DATA_DIR`; ``setup.py`` puts them there).  Its trees hold the
  three packages only; the series' hunks to ``tests/`` are skipped.
- ``tools.series`` (the developer tool) makes one of the files git knows, so its trees
  are the whole checkout, as before.

A patch is applied as ``git apply`` (no ``--3way``, no fuzz) applies it: every hunk's
context and removed lines must be in the file exactly; a hunk may sit at another line
than the one it names (the nearest place where it matches, after the previous hunk);
a hunk starting at line 1 must match at the start of the file, one without trailing
context at its end.  A patch applies to all its files or to none.

:data:`DATA_DIR` also holds what ``zpcisim explain`` reads from a checkout:
``tests/executed.txt`` and the test files it names (it counts their tests).
:func:`data_root` is the directory holding ``series/`` and ``tests/``: the checkout, or
that copy in an installed package.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

import attrs

__all__ = [
    "APPLIED",
    "DATA_DIR",
    "PACKAGES",
    "PATCHABLE",
    "SERIES_NAMES",
    "TREE_HELP",
    "FileDiff",
    "Hunk",
    "SeriesError",
    "Source",
    "TreeName",
    "UsageError",
    "apply_patch",
    "checkout_source",
    "copy_files",
    "data_root",
    "forward_apply",
    "installed_source",
    "is_checkout",
    "package_root",
    "parse_diff",
    "parse_tree",
    "patch_files",
    "reverse_apply",
    "series_dir",
    "source_for",
    "TREE_FILE",
    "applied_tree",
    "tree_key",
    "write_tree",
]

#: The series, in the order the tools list them.
SERIES_NAMES: Final = ("v17", "mainline")
#: The series the package's own tree carries (baseline + v17).
APPLIED: Final = "v17"
#: Only these paths may appear in a patch: code and tests, no docs or series files.
PATCHABLE: Final = ("kernel/", "uapi/", "sim/", "tests/")
#: The packages of the distribution: what an installed tree is written from.
PACKAGES: Final = ("kernel", "uapi", "sim")
#: Where an installed ``sim`` package keeps the series and the explain data, as
#: ``series/...`` and ``tests/...`` under it (``setup.py`` copies them there).
DATA_DIR: Final = "_data"
#: In a tree written with its ``series/`` (``python -m tools.series tree NAME DIR``), the
#: name of the tree it is (``mainline``, ``v17:3``, ``baseline``); a checkout without
#: it is this package's own tree, the baseline + v17.
TREE_FILE: Final = "series/TREE"
TREE_HELP: Final = "baseline, v17, v17:N (patches 1..N of v17), mainline or mainline:N"

_PATCH_GLOB: Final = "[0-9][0-9][0-9][0-9]-*.patch"


class SeriesError(RuntimeError):
    """A series or tree could not be read, applied or written; the message says why."""


class UsageError(SeriesError):
    """The words of the call are wrong (a tree name that does not exist, ...)."""


# ---------------------------------------------------------------- where things are


def package_root() -> Path:
    """The directory that holds this ``kernel/``, ``uapi/`` and ``sim/``: a checkout, or
    site-packages."""
    return Path(__file__).resolve().parent.parent


def is_checkout(root: Path) -> bool:
    """Whether ``root`` is a source checkout: ``series/v17/`` holds patch files beside
    ``kernel/``."""
    return (root / "kernel").is_dir() and any((root / "series" / APPLIED).glob(_PATCH_GLOB))


def data_root(root: Path | None = None) -> Path:
    """The directory holding ``series/`` and ``tests/executed.txt`` for the package at
    ``root`` (default: this one): the checkout itself, else the copy an installed
    package ships in ``sim/_data``; ``root`` when neither is there."""
    root = package_root() if root is None else root
    if is_checkout(root):
        return root
    shipped = root / "sim" / DATA_DIR
    if (shipped / "series").is_dir():
        return shipped
    return root


def series_dir(name: str, base: Path) -> Path:
    """``base/series/NAME``; :class:`UsageError` for a series that does not exist."""
    if name not in SERIES_NAMES:
        raise UsageError(f"no series {name!r}; series: {', '.join(SERIES_NAMES)}")
    return base / "series" / name


def patch_files(series: Path) -> list[Path]:
    """The patch files of one series directory, in order (none is an error)."""
    files = sorted(series.glob(_PATCH_GLOB))
    if not files:
        raise SeriesError(f"no patch files in {series}")
    return files


# ---------------------------------------------------------------- tree names


@attrs.frozen
class TreeName:
    """A tree the tools can write: the baseline, or the first ``count`` patches of a series."""

    series: str | None  # None: the baseline
    count: int

    def __str__(self) -> str:
        return "baseline" if self.series is None else f"{self.series}:{self.count}"


def parse_tree(spec: str, base: Path) -> TreeName:
    """``baseline``, ``v17``, ``v17:N``, ``mainline``, ``mainline:N`` -> a :class:`TreeName`
    (:class:`UsageError` for anything else, or N out of range); the series are those
    under ``base/series``."""
    if spec == "baseline":
        return TreeName(None, 0)
    name, sep, n = spec.partition(":")
    if name not in SERIES_NAMES:
        raise UsageError(f"no tree {spec!r}; trees: {TREE_HELP}")
    total = len(patch_files(series_dir(name, base)))
    if not sep:
        return TreeName(name, total)
    if not n.isdigit() or not 1 <= int(n) <= total:
        raise UsageError(f"no tree {spec!r}: {name} has patches 1 to {total}")
    return TreeName(name, int(n))


def applied_tree(base: Path) -> TreeName:
    """Which tree the files beside ``base/series`` are: what :data:`TREE_FILE` names,
    else all of v17."""
    f = base / TREE_FILE
    if f.is_file():
        return parse_tree(f.read_text().strip(), base)
    return TreeName(APPLIED, len(patch_files(series_dir(APPLIED, base))))


# ---------------------------------------------------------------- diffs


@attrs.frozen
class Hunk:
    """One ``@@ -old_start,n +new_start,m @@`` hunk: its lines as (tag, text), tag one
    of ``' '``, ``'-'``, ``'+'``; text with its newline, unless the diff says there is none."""

    old_start: int
    new_start: int
    lines: tuple[tuple[str, str], ...]

    def sides(self, reverse: bool) -> tuple[int, int, list[str], list[str]]:
        """(start before, start after, lines before, lines after), applied forward or
        in reverse."""
        old = [t for tag, t in self.lines if tag != "+"]
        new = [t for tag, t in self.lines if tag != "-"]
        if reverse:
            return self.new_start, self.old_start, new, old
        return self.old_start, self.new_start, old, new

    def trailing_context(self) -> int:
        n = 0
        for tag, _ in reversed(self.lines):
            if tag != " ":
                break
            n += 1
        return n


@attrs.frozen
class FileDiff:
    """The diff of one file: ``old`` / ``new`` paths (None for ``/dev/null``: a file
    created or deleted) and its hunks."""

    old: str | None
    new: str | None
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        return self.new or self.old or ""


_DIFF_GIT = re.compile(r"^diff --git a/(\S+) b/(\S+)$")
_HUNK_HEAD = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def parse_diff(text: str, name: str = "patch") -> list[FileDiff]:
    """The file diffs of a ``git diff`` (anything before the first ``diff --git`` line,
    a patch file's header, is skipped).  :class:`SeriesError` for what it cannot read:
    a malformed hunk, a rename or copy, a binary diff."""
    lines = text.splitlines(keepends=True)
    out: list[FileDiff] = []
    i = 0
    while i < len(lines) and not lines[i].startswith("diff --git "):
        i += 1
    while i < len(lines):
        m = _DIFF_GIT.match(lines[i].rstrip("\n"))
        if m is None:
            raise SeriesError(f"{name}: line {i + 1}: expected 'diff --git a/... b/...'")
        old: str | None = m[1]
        new: str | None = m[2]
        i += 1
        while i < len(lines) and not lines[i].startswith(("--- ", "diff --git ")):
            if lines[i].startswith(("rename ", "copy ", "similarity ", "GIT binary", "Binary files")):
                raise SeriesError(f"{name}: {m[2]}: renames, copies and binary diffs are not supported")
            i += 1
        hunks: list[Hunk] = []
        if i < len(lines) and lines[i].startswith("--- "):
            old = None if lines[i].rstrip("\n") == "--- /dev/null" else old
            i += 1
            if i >= len(lines) or not lines[i].startswith("+++ "):
                raise SeriesError(f"{name}: line {i + 1}: expected '+++ '")
            new = None if lines[i].rstrip("\n") == "+++ /dev/null" else new
            i += 1
            while i < len(lines) and lines[i].startswith("@@ "):
                h = _HUNK_HEAD.match(lines[i])
                if h is None:
                    raise SeriesError(f"{name}: line {i + 1}: malformed hunk header")
                want_old = 1 if h[2] is None else int(h[2])
                want_new = 1 if h[4] is None else int(h[4])
                i += 1
                body: list[tuple[str, str]] = []
                n_old = n_new = 0
                while n_old < want_old or n_new < want_new:
                    if i >= len(lines):
                        raise SeriesError(f"{name}: {m[2]}: a hunk ends early")
                    raw = lines[i]
                    tag, t = (" ", raw) if raw == "\n" else (raw[0], raw[1:])
                    if tag not in " -+":
                        raise SeriesError(f"{name}: line {i + 1}: not a line of a hunk")
                    body.append((tag, t))
                    n_old += tag != "+"
                    n_new += tag != "-"
                    i += 1
                    if i < len(lines) and lines[i].startswith("\\"):  # \ No newline at end of file
                        body[-1] = (tag, t.removesuffix("\n"))
                        i += 1
                hunks.append(Hunk(int(h[1]), int(h[3]), tuple(body)))
        out.append(FileDiff(old, new, tuple(hunks)))
    return out


def _find(image: list[str], before: list[str], expected: int, lowest: int, begin: bool, end: bool) -> int:
    """Where ``before`` sits in ``image``: ``expected`` or the nearest line to it (not
    above ``lowest``) where it matches; -1 if nowhere."""
    n = len(before)

    def fits(pos: int) -> bool:
        if pos < lowest or pos + n > len(image):
            return False
        if (begin and pos != 0) or (end and pos + n != len(image)):
            return False
        return image[pos : pos + n] == before

    for delta in range(max(len(image), 1) + 1):
        for pos in (expected - delta, expected + delta) if delta else (expected,):
            if fits(pos):
                return pos
    return -1


def _apply_file(text: str | None, fd: FileDiff, reverse: bool) -> tuple[str | None, list[str]]:
    """The file's text after ``fd`` (None: deleted), and the hunks that did not apply."""
    creates = (fd.new if reverse else fd.old) is None
    deletes = (fd.old if reverse else fd.new) is None
    if creates and text is not None:
        return text, ["already exists"]
    if not creates and text is None:
        return None, ["does not exist"]
    image = [] if text is None else text.splitlines(keepends=True)
    failed: list[str] = []
    lowest = 0  # the line after the previous hunk: hunks apply in order
    drift = 0  # how far the previous hunk sat from the line it names
    for k, hunk in enumerate(fd.hunks, 1):
        start, start_after, before, after = hunk.sides(reverse)
        # The hunks before this one are applied: it names its line in the image after them.
        nominal = max(start_after - 1, 0)
        begin = start <= 1
        end = hunk.trailing_context() == 0
        pos = _find(image, before, nominal + drift, lowest, begin, end)
        if pos < 0:
            failed.append(f"hunk {k} (line {start}) does not match")
            continue
        image[pos : pos + len(before)] = after
        drift = pos - nominal
        lowest = pos + len(after)
    result = "".join(image)
    if deletes:
        if result:
            failed.append("is not what the patch deletes")
        return None, failed
    return result, failed


def _in(path: str, dirs: Sequence[str] | None) -> bool:
    return dirs is None or path.split("/", 1)[0] in dirs


def apply_patch(tree: Path, patch: Path, reverse: bool, dirs: Sequence[str] | None = None) -> None:
    """Apply the patch file ``patch`` to ``tree`` (in reverse: undo it), all of its
    files or none.  ``dirs``: only its files under these top directories (the rest
    is skipped); None: every file.  :class:`SeriesError` names the patch and the files
    that do not apply."""
    text = patch.read_text()
    where = f"{patch.parent.name}/{patch.name}"
    results: list[tuple[Path, str | None]] = []
    failing: list[str] = []
    details: list[str] = []
    for fd in parse_diff(text, where):
        if not _in(fd.path, dirs):
            continue
        target = tree / fd.path
        now = target.read_text() if target.is_file() else None
        new, failed = _apply_file(now, fd, reverse)
        if failed:
            failing.append(fd.path)
            details.extend(f"error: patch failed: {fd.path}: {what}" for what in failed)
        results.append((target, new))
    if failing:
        how = "reverse-applies" if reverse else "applies"
        raise SeriesError(f"{where} no longer {how}; files: {', '.join(failing)}\n" + "\n".join(details))
    for target, new in results:
        if new is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(new)


def reverse_apply(tree: Path, series: Path, dirs: Sequence[str] | None = None) -> None:
    """Reverse-apply the series directory ``series`` to ``tree``, last patch first."""
    for patch in reversed(patch_files(series)):
        apply_patch(tree, patch, reverse=True, dirs=dirs)


def forward_apply(tree: Path, patches: Iterable[Path], dirs: Sequence[str] | None = None) -> None:
    """Apply ``patches`` to ``tree`` in order."""
    for patch in patches:
        apply_patch(tree, patch, reverse=False, dirs=dirs)


# ---------------------------------------------------------------- sources and trees


@attrs.frozen
class Source:
    """What trees are written from: ``files`` (relative to ``root``, with '/'), the
    series under ``base/series``, and ``dirs``, the top directories a tree holds
    (patches' hunks elsewhere are skipped; None: all of them apply)."""

    root: Path
    base: Path
    files: tuple[str, ...]
    dirs: tuple[str, ...] | None

    def key_files(self) -> list[tuple[str, Path]]:
        """(name, path) of every file a tree of this source depends on: its files and
        the series files."""
        out = [(rel, self.root / rel) for rel in self.files]
        if (self.base / TREE_FILE).is_file() and TREE_FILE not in self.files:
            out.append((TREE_FILE, self.base / TREE_FILE))
        for name in SERIES_NAMES:
            d = self.base / "series" / name
            out.extend((f"series/{name}/{f.name}", f) for f in sorted(d.glob(_PATCH_GLOB)))
        return out


def _walk(root: Path, tops: Sequence[str], skip: Sequence[str] = ()) -> tuple[str, ...]:
    """The files under ``root/TOP`` for each of ``tops``, relative, sorted; without
    ``__pycache__``, dot-directories and the directories ``skip`` (relative)."""
    out: list[str] = []
    for top in tops:
        for dirpath, dirnames, filenames in os.walk(root / top):
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            dirnames[:] = sorted(
                d
                for d in dirnames
                if d != "__pycache__" and not d.startswith(".") and f"{rel_dir}/{d}" not in skip
            )
            out.extend(f"{rel_dir}/{f}" for f in filenames if not f.endswith((".pyc", ".pyo")))
    return tuple(sorted(out))


def checkout_source(root: Path) -> Source:
    """A source checkout at ``root``: ``kernel/``, ``uapi/``, ``sim/`` and ``tests/``."""
    tops = tuple(p.rstrip("/") for p in PATCHABLE)
    return Source(root, root, _walk(root, tops), tops)


def installed_source(root: Path) -> Source:
    """The installed package at ``root`` (site-packages): its three packages, and the
    series shipped in ``sim/_data``."""
    base = root / "sim" / DATA_DIR
    if not (base / "series" / APPLIED).is_dir():
        raise SeriesError(
            f"the series files are not in {base}/series: this package was installed without them; "
            "reinstall it from a wheel built from the source (pip install PATH-TO-CHECKOUT)"
        )
    return Source(root, base, _walk(root, PACKAGES, skip=(f"sim/{DATA_DIR}",)), PACKAGES)


def source_for(root: Path | None = None) -> Source:
    """The source of the package at ``root`` (default: this one): a checkout or an
    installed package."""
    root = package_root() if root is None else root
    return checkout_source(root) if is_checkout(root) else installed_source(root)


def copy_files(src: Path, files: Iterable[str], dst: Path) -> None:
    """Copy ``files`` (relative to ``src``) into ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for rel in files:
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)


def write_tree(spec: str | TreeName, dst: Path, source: Source) -> TreeName:
    """Write the tree ``spec`` (see :func:`parse_tree`) from ``source`` into ``dst``
    (new or empty): its files, the patches the source carries reverse-applied (the
    baseline; :func:`applied_tree`), then the first patches of the series the tree
    names.  A tree that gets ``series/`` records its name in :data:`TREE_FILE`."""
    tree = parse_tree(spec, source.base) if isinstance(spec, str) else spec
    if dst.exists() and any(dst.iterdir()):
        raise SeriesError(f"{dst} exists and is not empty")
    here = applied_tree(source.base)
    copy_files(source.root, source.files, dst)
    if here.series is not None:
        for patch in reversed(patch_files(series_dir(here.series, source.base))[: here.count]):
            apply_patch(dst, patch, reverse=True, dirs=source.dirs)
    if tree.series is not None:
        patches = patch_files(series_dir(tree.series, source.base))[: tree.count]
        forward_apply(dst, patches, source.dirs)
    if (dst / "series").is_dir():
        (dst / TREE_FILE).write_text(f"{tree}\n")
    return tree


def tree_key(spec: str, source: Source) -> str:
    """SHA-256 (hex) of the tree name and of every file a tree of ``source`` is made
    from (:meth:`Source.key_files`): its name and its bytes."""
    h = hashlib.sha256()
    h.update(f"zpcisim tree {spec}\0".encode())
    for rel, path in source.key_files():
        data = path.read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()
