"""``python -m sim``: the ``zpcisim`` command line (:mod:`sim.cli`).  Ctrl-C is handled
from the first line on, before any module of the model loads."""

import os
import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    # replaced by sim.cli's own handler (the same line and status) once it has loaded
    try:
        os.write(2, b"zpcisim: interrupted\n")
    finally:
        os._exit(130)


signal.signal(signal.SIGINT, _interrupted)

from sim.cli import main  # noqa: E402

sys.exit(main())
