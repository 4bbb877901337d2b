"""The ``zpcisim`` command line (also ``python -m sim``).

``zpcisim list``
    the scenarios, one line each.
``zpcisim run NAME [--json] [--diagram FILE] [--verbose] [--source]``
    runs one and prints its timeline: one line per step (seq, actor, kind, text),
    or with ``--json`` one JSON object per line (``seq``, ``actor``, ``kind``,
    ``text``; ``request`` and ``ret`` on ioctls; other decoded fields).
    ``--diagram FILE`` also writes a Mermaid sequence diagram of the run;
    ``--verbose`` adds the kernel's debug lines; ``--source`` prints under each
    kernel log line, trace event and ioctl the C function and ``file:line`` that made
    it (in ``--json`` they are always there, as ``function`` and ``source``).
``zpcisim compare NAME [--diff-only] [--width N]``
    runs the scenario on the tree before the v17 series and on this one and prints
    the two timelines side by side, the differences marked (:mod:`sim.compare`;
    needs a source checkout).
``zpcisim explain [--code] NAME``
    where a C function (struct, field, macro, constant) lives in the Python tree,
    which patches touch it, which tests and scenario steps run it (:mod:`sim.explain`);
    ``--code`` adds its Python source.

Exit status: 0 when the scenario ends as it should, 1 when one of its expectations
fails (the last line says which), 2 for a usage error (an unknown scenario name
lists the known ones).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from sim import compare as compare_cmd
from sim import explain as explain_cmd
from sim.diagram import mermaid
from sim.scenarios import load, run_scenario

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zpcisim",
        description="Run the s390x vfio-pci error recovery flow (Linux v17 series) on a model "
        "of the machine, and watch every step: firmware, host kernel, VMM, guest, userspace driver.",
    )
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("list", help="list the scenarios")
    run = sub.add_parser("run", help="run one scenario and print its timeline")
    run.add_argument("name", help="the scenario (see 'zpcisim list')")
    run.add_argument("--json", action="store_true", help="one JSON object per step instead of text")
    run.add_argument("--diagram", metavar="FILE", help="write a Mermaid sequence diagram (Markdown) to FILE")
    run.add_argument("--verbose", action="store_true", help="include the kernel's debug log lines")
    run.add_argument(
        "--source", action="store_true", help="under each step, the kernel function and file:line behind it"
    )
    cmp = sub.add_parser("compare", help="run a scenario before and with the v17 series, side by side")
    compare_cmd.add_arguments(cmp)
    exp = sub.add_parser("explain", help="where a C function is here, the patches that touch it, its tests")
    exp.add_argument("name", help="a C function, struct NAME, a field, a macro or a constant")
    exp.add_argument("--code", action="store_true", help="also print its Python source")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.cmd is None:
        p.print_help()
        return 0
    if args.cmd == "compare":
        return compare_cmd.run_command(args)
    if args.cmd == "explain":
        return explain_cmd.main([args.name, *(["--code"] if args.code else [])])
    scenarios = load()
    if args.cmd == "list":
        width = max((len(n) for n in scenarios), default=0) + 2
        for name, sc in scenarios.items():
            print(f"{name:<{width}}{sc.description}")
        return 0
    if args.name not in scenarios:
        names = ", ".join(scenarios) or "(none)"
        print(f"zpcisim: unknown scenario {args.name!r}; scenarios: {names}", file=sys.stderr)
        return 2
    result = run_scenario(args.name, verbose=args.verbose)
    for step in result.steps:
        print(json.dumps(step.as_json()) if args.json else step.line())
        if args.source and not args.json and step.fields.get("source"):
            print(f"{'':25}{step.fields['function']}  {step.fields['source']}")
    if args.diagram:
        try:
            with open(args.diagram, "w", encoding="utf-8") as f:
                f.write(mermaid(result.steps, f"zpcisim run {args.name}"))
        except OSError as e:
            print(f"zpcisim: cannot write {args.diagram}: {e.strerror}", file=sys.stderr)
            return 2
    status = "PASS" if result.passed else f"FAIL: {result.failed}"
    print(f"{args.name}: {status}", file=sys.stderr if args.json else sys.stdout)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
