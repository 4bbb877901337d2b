"""How the tests run ``zpcisim`` as a user types it: the console script, from a
directory outside the checkout, without ``PYTHONPATH``.

:func:`zpcisim_argv` is the command.  ``$ZPCISIM_BIN`` names the console script to
use (``.ci/run`` sets it to the ``zpcisim`` of a wheel installed into a fresh virtual
environment outside the checkout).  Without it the tests fall back to this checkout's
``python -m sim`` (the same command line) and say so in :data:`HOW`.
:func:`run_zpcisim` runs it in a scratch directory with ``COLUMNS`` unset, so its
output is what a pipe gets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def zpcisim_argv() -> list[str]:
    """The command that starts ``zpcisim``."""
    bin_ = os.environ.get("ZPCISIM_BIN")
    if bin_:
        return [bin_]
    return [sys.executable, "-m", "sim"]


def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    if os.environ.get("ZPCISIM_BIN"):
        env.pop("PYTHONPATH", None)
    else:
        env["PYTHONPATH"] = str(ROOT)
    if extra:
        env.update(extra)
    return env


#: Which command the tests run, for messages.
HOW = (
    f"the installed console script {os.environ['ZPCISIM_BIN']}"
    if os.environ.get("ZPCISIM_BIN")
    else "python -m sim from this checkout ($ZPCISIM_BIN is not set)"
)


def run_zpcisim(
    *args: str,
    input_: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``zpcisim ARGS`` in a scratch directory (or ``cwd``), output captured as text."""
    with tempfile.TemporaryDirectory(prefix="zpcisim-user-") as scratch:
        return subprocess.run(
            [*zpcisim_argv(), *args],
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
