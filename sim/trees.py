"""The kernel trees ``zpcisim compare`` and ``zpcisim run --kernel`` run a scenario on:
``baseline`` (Linux 7.1-rc4), ``v17`` (this package's own tree), ``v17:N`` (the
baseline with patches 1..N of v17), ``mainline`` and ``mainline:N`` (the series as
merged for Linux 7.3).  The names are :func:`sim.series.parse_tree`'s; this module adds
where a tree is and how a scenario runs in it.

Every tree but ``v17`` is written by :mod:`sim.series` (no git needed) into a cache
directory, from this package's :func:`source`: in a source checkout its ``kernel/``,
``uapi/``, ``sim/`` and ``tests/`` with ``series/``; in an installed package (``pip
install``) its ``kernel/``, ``uapi/`` and ``sim/`` with the series files the wheel ships
in ``sim/_data/`` (the trees then hold no tests).  A tree is keyed by a SHA-256 of its
name and of every file it is written from, series files included, so that it is
written once and reused until the package changes.  The cache is ``$ZPCISIM_CACHE``,
else ``$XDG_CACHE_HOME/zpcisim``, else ``~/.cache/zpcisim``; each tree is
``trees/<key>``.  Writing is safe against concurrent runs and interruption: a tree is
written into a fresh temporary directory beside its final place, then renamed there
in one step (``os.rename`` of a directory onto a missing name is atomic); a writer
that finds the name taken uses the tree already there.  A tree whose
``.zpcisim-tree`` stamp (written last) is missing or wrong is not used.

The scenario runs in a fresh Python process in the tree (``python -m sim run
NAME ...`` with ``PYTHONPATH`` set to it), so each run has its own kernel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from sim import series

__all__ = [
    "RUN_TIMEOUT",
    "THIS_TREE",
    "TreeError",
    "cache_dir",
    "checkout_root",
    "env_for",
    "is_this_tree",
    "normalise_tree",
    "source",
    "run_in_tree",
    "tree_key",
    "tree_path",
]

def _this_tree() -> str:
    """The name of the tree this package is: v17 for the checkout and the installed
    package (``tools.series check`` keeps it so), else what a written tree's
    ``series/TREE`` says (``mainline`` in the tree of the merged series)."""
    base = series.data_root()
    try:
        tree = series.applied_tree(base)
        if tree.series is None:
            return "baseline"
        total = len(series.patch_files(series.series_dir(tree.series, base)))
    except series.SeriesError:
        return series.APPLIED
    return tree.series if tree.count == total else str(tree)


#: The tree this package is (v17 here; ``mainline`` in the merged series' written tree).
THIS_TREE: Final = _this_tree()
#: Seconds a scenario run may take in a tree.
RUN_TIMEOUT: Final = 300
_STAMP: Final = ".zpcisim-tree"


class TreeError(RuntimeError):
    """A tree could not be named or written; the message says why, for the user.
    ``usage`` is true for a name that is not a tree (exit 2)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def checkout_root(start: Path | None = None) -> Path | None:
    """The source checkout this ``sim`` package belongs to (or ``start``), or None when
    it is not one (an installed package)."""
    root = series.package_root() if start is None else start
    return root if series.is_checkout(root) else None


def source(root: Path | None = None) -> series.Source:
    """What this package's trees are written from (:mod:`sim.series`): the checkout
    ``root``, or by default this package, checkout or installed."""
    if root is not None and root != series.package_root() and not series.is_checkout(root):
        raise TreeError(f"{root} is not a zpcisim source checkout: it has no series/{series.APPLIED}/")
    try:
        return series.source_for(root)
    except series.SeriesError as e:
        raise TreeError(str(e)) from e


def normalise_tree(spec: str, root: Path | None = None) -> str:
    """The canonical name of the tree ``spec`` (``v17:7`` is ``v17``);
    :class:`TreeError` (usage) for a name that is not a tree."""
    if spec == THIS_TREE:
        return spec
    base = source(root).base
    try:
        name = series.parse_tree(spec, base)
        if name.series is None:
            return "baseline"
        total = len(series.patch_files(series.series_dir(name.series, base)))
    except series.UsageError as e:
        raise TreeError(str(e), usage=True) from e
    except series.SeriesError as e:
        raise TreeError(f"no tree {spec!r}: {e}", usage=True) from e
    if name.count != total:
        return str(name)
    return name.series


def is_this_tree(spec: str, root: Path | None = None) -> bool:
    """Whether ``spec`` names the tree of this package (v17 with all its patches)."""
    return normalise_tree(spec, root) == THIS_TREE


def cache_dir() -> Path:
    """Where written trees are kept (module docstring)."""
    env = os.environ.get("ZPCISIM_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "zpcisim"


def tree_key(spec: str, src: series.Source) -> str:
    """SHA-256 (hex) of the tree name and of every file a tree of ``src`` is written
    from, series files included (:func:`sim.series.tree_key`)."""
    return series.tree_key(spec, src)


def tree_path(spec: str, root: Path | None = None, cache: Path | None = None) -> Path:
    """The directory holding tree ``spec``: this package's own (the checkout, or
    site-packages) for ``v17``, else the cached tree (written now if it is not there
    yet)."""
    name = normalise_tree(spec, root)
    src = source(root)
    if name == THIS_TREE:
        return src.root
    key = tree_key(name, src)
    trees = (cache or cache_dir()) / "trees"
    final = trees / key
    if (final / _STAMP).is_file() and (final / _STAMP).read_text() == key:
        return final
    try:
        trees.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:16]}-", dir=trees))
    except OSError as e:
        raise TreeError(f"cannot write trees into the cache {trees}: {e.strerror}") from e
    try:
        try:
            series.write_tree(name, tmp / "t", src)
        except series.SeriesError as e:
            raise TreeError(f"could not write the tree {name}:\n{e}") from e
        (tmp / "t" / _STAMP).write_text(key)
        if final.exists():  # a broken leftover (no stamp): put it aside, then take its place
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.rename(tmp / "t", final)
        except OSError:
            if not ((final / _STAMP).is_file() and (final / _STAMP).read_text() == key):
                raise TreeError(f"could not put the tree {name} into the cache {trees}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def env_for(tree: Path) -> dict[str, str]:
    """The environment of a Python process that imports from ``tree`` only."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env.pop("PYTHONSAFEPATH", None)
    return env


def run_in_tree(
    tree: Path, args: Sequence[str], *, capture: bool = True, timeout: float = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """``python -m sim ARGS`` in ``tree``.  ``capture``: its output is returned;
    otherwise it goes to this process's stdout and stderr."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "sim", *args],
            cwd=tree,
            env=env_for(tree),
            capture_output=capture,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise TreeError(f"python -m sim {' '.join(args)} in {tree} took longer than {timeout} s") from e
