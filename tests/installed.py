"""How the tests run ``zpcisim`` as a user types it: the console script of an installed
package, from a directory outside the checkout, without ``PYTHONPATH``.

:func:`zpcisim_argv` is the command.  ``$ZPCISIM_BIN`` names the console script to
use (``.ci/run`` sets it to the ``zpcisim`` of a wheel it built and installed, with
its dependencies, into a fresh virtual environment outside the checkout).  Without it
the first call installs this checkout once per test process (about 6 s; see
:func:`install_checkout`) and uses that ``zpcisim``; ``ZPCISIM_BIN=checkout`` uses
this checkout's ``python -m sim`` instead (the same command line, no install).
:data:`HOW` says which.  :func:`run_zpcisim` runs it in a scratch directory with
``COLUMNS`` unset, so its output is what a pipe gets.
"""

from __future__ import annotations

import atexit
import base64
import csv
import functools
import hashlib
import io
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: ``ZPCISIM_BIN`` set to this: run this checkout's ``python -m sim``.
CHECKOUT = "checkout"


def install_checkout(dst: Path) -> Path:
    """Install this checkout as ``pip install .`` would, into a new virtual environment
    under ``dst``; its ``zpcisim``.

    The package's files are those the wheel holds: ``setup.py``'s own ``build_py`` step
    (kernel/, uapi/, sim/ and the ``sim/_data`` it ships) writes them, ``egg_info`` the
    metadata and entry points; they are zipped into a wheel that pip installs
    (``--no-deps``) into a venv made with ``--system-site-packages`` (the dependencies
    come from this environment).  A wheel is not built with ``pip wheel`` here: its
    isolated build environment takes 13 to 20 s on the project's machine, against
    about 6 s for this; ``.ci/run`` builds and installs the real one."""
    build, site = dst / "build", dst / "build" / "lib"
    build.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "setup.py", "-q", "egg_info", "--egg-base", str(build),
         "build_py", "--build-lib", str(site)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    egg = next(build.glob("*.egg-info"))
    meta = (egg / "PKG-INFO").read_text()
    name = next(ln.split(": ", 1)[1] for ln in meta.splitlines() if ln.startswith("Name: "))
    version = next(ln.split(": ", 1)[1] for ln in meta.splitlines() if ln.startswith("Version: "))
    info = f"{name}-{version}.dist-info"
    files = {
        p.relative_to(site).as_posix(): p.read_bytes()
        for p in sorted(site.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    files[f"{info}/METADATA"] = meta.encode()
    files[f"{info}/entry_points.txt"] = (egg / "entry_points.txt").read_bytes()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: tests/installed.py\nRoot-Is-Purelib: true\n"
    files[f"{info}/WHEEL"] += b"Tag: py3-none-any\n"
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for rel, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        writer.writerow([rel, f"sha256={digest}", len(data)])
    writer.writerow([f"{info}/RECORD", "", ""])
    files[f"{info}/RECORD"] = record.getvalue().encode()
    wheel = dst / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for rel, data in files.items():
            z.writestr(rel, data)
    venv = dst / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    scripts = Path(sysconfig.get_path("scripts", vars={"base": str(venv), "platbase": str(venv)}))
    python = scripts / Path(sys.executable).name
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        cwd=dst, check=True, capture_output=True, text=True,
    )  # fmt: skip
    shutil.rmtree(build)
    return scripts / "zpcisim"


@functools.cache
def _installed() -> str:
    dst = Path(tempfile.mkdtemp(prefix="zpcisim-installed-"))
    atexit.register(shutil.rmtree, dst, ignore_errors=True)
    try:
        return str(install_checkout(dst))
    except subprocess.CalledProcessError as e:
        raise RuntimeError(
            f"installing this checkout for the tests failed: {' '.join(map(str, e.cmd))}\n{e.stderr}"
            "(ZPCISIM_BIN=checkout runs python -m sim from the checkout instead)"
        ) from e


def _bin() -> str | None:
    """The console script, or None for this checkout's ``python -m sim``."""
    bin_ = os.environ.get("ZPCISIM_BIN")
    if bin_ == CHECKOUT:
        return None
    return bin_ or _installed()


def zpcisim_argv() -> list[str]:
    """The command that starts ``zpcisim``."""
    bin_ = _bin()
    return [bin_] if bin_ else [sys.executable, "-m", "sim"]


def python_argv() -> list[str]:
    """The Python of the installed ``zpcisim`` (``python -m sim.explore`` with it): the
    interpreter beside the console script, or this one for the checkout."""
    bin_ = _bin()
    if not bin_:
        return [sys.executable]
    return [str(Path(bin_).parent / Path(sys.executable).name)]


def is_installed() -> bool:
    """Whether the tests run an installed package (not this checkout's ``sim``)."""
    return _bin() is not None


def run_python(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with :func:`python_argv`'s Python, as :func:`run_zpcisim` runs."""
    with tempfile.TemporaryDirectory(prefix="zpcisim-user-") as scratch:
        return subprocess.run(
            [*python_argv(), *args], cwd=scratch, env=_env(env), capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    # a user's environment: no COLUMNS, and none of the test suite's index recording
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS" and not k.startswith("ZPCISIM_INDEX")}
    if _bin():
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = str(ROOT)
    if extra:
        env.update(extra)
    return env


#: Which command the tests run, for messages.
HOW = (
    "python -m sim from this checkout (ZPCISIM_BIN=checkout)"
    if os.environ.get("ZPCISIM_BIN") == CHECKOUT
    else f"the installed console script {os.environ['ZPCISIM_BIN']}"
    if os.environ.get("ZPCISIM_BIN")
    else "the console script of this checkout installed into a scratch venv ($ZPCISIM_BIN is not set)"
)


def run_zpcisim(
    *args: str,
    input_: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``zpcisim ARGS`` in a scratch directory (or ``cwd``), output captured as text."""
    argv = zpcisim_argv()
    with tempfile.TemporaryDirectory(prefix="zpcisim-user-") as scratch:
        return subprocess.run(
            [*argv, *args],
            cwd=cwd or scratch,
            env=_env(env),
            input=input_,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def popen_zpcisim(*args: str, env: Mapping[str, str] | None = None, cwd: Path) -> subprocess.Popen[bytes]:
    """``zpcisim ARGS`` started in ``cwd``, stdout and stderr piped (bytes)."""
    return subprocess.Popen(
        [*zpcisim_argv(), *args], cwd=cwd, env=_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
