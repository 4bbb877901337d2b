"""The ``zpcisim`` command line (also ``python -m sim``).

The scenarios arrive with the end-to-end issue; until then ``zpcisim`` says so in its
help and ``run`` answers every name with the usage error the finished command will
give for an unknown scenario.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["SCENARIOS", "main"]

#: name -> one-line description.  Empty until the end-to-end issue lands.
SCENARIOS: dict[str, str] = {}

_STATUS = (
    "Status: the kernel primitives are in place; the scenarios (passthrough-kvm and the "
    "others) are not written yet, so 'run' and 'list' have nothing to show."
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zpcisim",
        description="Run the s390x vfio-pci error recovery flow (Linux v17 series) on a model "
        "of the machine. " + _STATUS,
    )
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("list", help="list the scenarios")
    run = sub.add_parser("run", help="run one scenario and print its timeline")
    run.add_argument("name")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.cmd is None:
        p.print_help()
        return 0
    if args.cmd == "list":
        for name, text in sorted(SCENARIOS.items()):
            print(f"{name:24} {text}")
        if not SCENARIOS:
            print(_STATUS)
        return 0
    if args.name not in SCENARIOS:
        names = ", ".join(sorted(SCENARIOS)) or "(none yet)"
        print(f"zpcisim: unknown scenario {args.name!r}; scenarios: {names}", file=sys.stderr)
        return 2
    return 1  # unreachable until scenarios exist


if __name__ == "__main__":
    sys.exit(main())
