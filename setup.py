"""The build step pyproject.toml cannot say: ship with the ``sim`` package, under
``sim/_data/``, what the installed ``zpcisim`` reads from a checkout besides code
(:data:`sim.series.DATA_DIR`):

- ``series/v17/*.patch`` and ``series/mainline/*.patch``: ``compare`` and
  ``run --kernel`` write the other kernel trees from them (:mod:`sim.series`);
- ``series/TREE``, in a tree written by ``python -m tools.series tree NAME DIR``: which
  tree the package is, so that it writes the others from it;
- ``tests/executed.txt`` and the test files (``tests/**/test_*.py``): ``explain``
  lists the tests that run a function and counts those of a file (:mod:`sim.explain`).

An editable install (``pip install -e .``) ships nothing: its ``sim`` is the
checkout's, which has them beside it.  The metadata is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: (directory, glob) of the files shipped, relative to the checkout.
SHIPPED = (
    ("series", "*/[0-9][0-9][0-9][0-9]-*.patch"),
    ("tests", "executed.txt"),
    ("tests", "**/test_*.py"),
)
#: Shipped when present (only a written tree has it).
OPTIONAL = (("series", "TREE"),)


class BuildPyWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        out = Path(self.build_lib) / "sim" / "_data"
        for top, pattern in (*SHIPPED, *OPTIONAL):
            found = sorted(p for p in (HERE / top).glob(pattern) if "__pycache__" not in p.parts)
            if not found and (top, pattern) not in OPTIONAL:
                raise SystemExit(f"setup.py: no {top}/{pattern} in {HERE}: the package would lack them")
            for path in found:
                target = out / path.relative_to(HERE)
                self.mkpath(str(target.parent))
                self.copy_file(str(path), str(target))


setup(cmdclass={"build_py": BuildPyWithData})
