"""The kernel trees ``zpcisim compare`` and ``zpcisim run --kernel`` run a scenario on:
``baseline`` (Linux 7.1-rc4), ``v17`` (this checkout), ``v17:N`` (the baseline with
patches 1..N of v17), and ``mainline`` / ``mainline:N`` once ``series/mainline/``
holds the merged series.  The names are :func:`tools.series.parse_tree`'s; this module
adds where a tree is and how a scenario runs in it.

A tree other than this checkout is written by ``tools.series`` (``python -m
tools.series tree NAME DIR``) into a cache directory, keyed by a SHA-256 of the
tree's name and of every file ``tools.series`` copies (path and content), so that a
tree is written once and reused until the checkout changes.  The cache is
``$ZPCISIM_CACHE``, else ``$XDG_CACHE_HOME/zpcisim``, else ``~/.cache/zpcisim``; each
tree is ``trees/<key>``.  Writing is safe against concurrent runs and interruption:
a tree is written into a fresh temporary directory beside its final place, then
renamed there in one step (``os.rename`` of a directory onto a missing name is
atomic); a writer that finds the name taken uses the tree already there.  A tree
whose ``.zpcisim-tree`` stamp (written last) is missing or wrong is not used.

The scenario runs in a fresh Python process in the tree (``python -m sim run
NAME ...`` with ``PYTHONPATH`` set to it), so each run has its own kernel.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

__all__ = [
    "RUN_TIMEOUT",
    "THIS_TREE",
    "TreeError",
    "cache_dir",
    "checkout_root",
    "env_for",
    "is_this_tree",
    "normalise_tree",
    "run_in_tree",
    "tree_key",
    "tree_path",
]

#: The tree this checkout is (``tools.series`` keeps it equal to the baseline + v17).
THIS_TREE: Final = "v17"
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
    """The source checkout this ``sim`` package belongs to, or None when it is an
    installed package without ``series/`` and ``tools/series.py`` beside it."""
    root = Path(__file__).resolve().parent.parent if start is None else start
    if (root / "series").is_dir() and (root / "tools" / "series.py").is_file():
        return root
    return None


def _need_checkout(root: Path | None) -> Path:
    found = checkout_root(root) if root is not None else checkout_root()
    if found is None:
        where = Path(__file__).resolve().parent.parent if root is None else root
        raise TreeError(
            f"other kernel trees need a source checkout: series/ and tools/series.py are not in {where}.\n"
            "This looks like an installed package.  Clone the project and run it there:\n"
            "    git clone <zpcisim repository> && cd zpcisim && python -m sim compare NAME"
        )
    return found


def normalise_tree(spec: str, root: Path | None = None) -> str:
    """The canonical name of the tree ``spec`` (``v17:7`` is ``v17``);
    :class:`TreeError` (usage) for a name that is not a tree."""
    if spec == THIS_TREE:
        return spec
    root = _need_checkout(root)
    from tools import series

    try:
        name = series.parse_tree(spec, root)
        if name.series is None:
            return "baseline"
        total = len(series.patch_files(series.series_dir(name.series, root)))
    except series.UsageError as e:
        raise TreeError(str(e), usage=True) from e
    except series.SeriesError as e:
        raise TreeError(f"no tree {spec!r}: {e}", usage=True) from e
    if name.count != total:
        return str(name)
    return THIS_TREE if name.series == series.APPLIED else name.series


def is_this_tree(spec: str, root: Path | None = None) -> bool:
    """Whether ``spec`` names the tree of this checkout (v17 with all its patches)."""
    return normalise_tree(spec, root) == THIS_TREE


def cache_dir() -> Path:
    """Where written trees are kept (module docstring)."""
    env = os.environ.get("ZPCISIM_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "zpcisim"


def tree_key(spec: str, root: Path) -> str:
    """SHA-256 (hex) of the tree name and of every file ``tools.series`` copies from
    ``root``: its relative path and its bytes."""
    from tools import series

    h = hashlib.sha256()
    h.update(f"zpcisim tree {spec}\0".encode())
    for rel in sorted(series._tracked_files(root)):
        data = (root / rel).read_bytes()
        h.update(f"{rel}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def tree_path(spec: str, root: Path | None = None, cache: Path | None = None) -> Path:
    """The directory holding tree ``spec``: this checkout for ``v17``, else the
    cached tree (written now if it is not there yet)."""
    name = normalise_tree(spec, root)
    root = _need_checkout(root)
    if name == THIS_TREE:
        return root
    from tools import series

    key = tree_key(name, root)
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
            series.write_tree(name, tmp / "t", root)
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
