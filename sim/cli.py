"""The ``zpcisim`` command line (also ``python -m sim``).

``zpcisim list``
    the scenarios, one each, and the errors each injects (which ``run`` can change).
``zpcisim run NAME [--json] [--diagram FILE|-] [--verbose] [--source] [--kernel TREE] ...``
    runs one and prints its timeline: one line per step (seq, actor, kind, text),
    or with ``--json`` one JSON object per line (``seq``, ``actor``, ``kind``,
    ``text``; ``request`` and ``ret`` on ioctls; other decoded fields).
    ``--diagram FILE`` also writes a Mermaid sequence diagram of the run (``-``: to
    stdout, instead of the timeline); ``--verbose`` adds the kernel's debug lines;
    ``--kernel TREE`` runs it on another kernel tree (``baseline``, ``v17:N``,
    ``mainline``...: :mod:`sim.trees`) in a process of its own; ``--pec``,
    ``--errors N`` and ``--fid`` choose the errors a scenario injects; ``--source``
    prints under each kernel log line, trace event and ioctl the C function and
    ``file:line`` that made it (in ``--json`` they are always there, as ``function``
    and ``source``).
``zpcisim compare NAME [--from TREE] [--to TREE] [--diff-only]``
    runs the scenario on two kernel trees (by default the baseline and this one,
    v17) and prints the two timelines side by side, the differences marked
    (:mod:`sim.compare`; needs a source checkout).
``zpcisim explain [--code] NAME``
    where a C function (struct, field, macro, constant) lives in the Python tree,
    which patches touch it, which tests and scenario steps run it (:mod:`sim.explain`);
    ``--code`` adds its Python source.

Output fits the terminal, or 80 columns when stdout is not one (``--width N``, at
least :data:`MIN_WIDTH`); long lines wrap inside their column, never inside a word.

Exit status: 0 when the scenario ends as it should, 1 when one of its expectations
fails (each unmet one is named, the last line says FAIL), 2 for a usage error (an
unknown scenario name lists the known ones), 130 on Ctrl-C (one line on stderr),
141 when the reader of the output goes away (``| head``: quietly, as SIGPIPE would).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TextIO

from sim import __version__, trees
from sim import compare as compare_cmd
from sim import explain as explain_cmd
from sim.diagram import mermaid
from sim.scenarios import MAX_ERRORS, Errors, Result, load, run_scenario

__all__ = ["MIN_WIDTH", "main", "output_width"]

#: The narrowest output ``--width`` accepts: a step's head (25 columns) and some text.
MIN_WIDTH: Final = 60
#: The width when stdout is not a terminal.
PIPE_WIDTH: Final = 80
#: A step line's head: seq, actor, kind (``sim.timeline.Step.line``).
STEP_INDENT: Final = 25


def _width(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"{n} is too narrow; at least {MIN_WIDTH} columns")
    return n


def _hex(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a hexadecimal number: {text!r}") from None


def _count(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 1 <= n <= MAX_ERRORS:
        raise argparse.ArgumentTypeError(f"{n}: from 1 to {MAX_ERRORS}")
    return n


def output_width(asked: int | None) -> int:
    """``--width`` if given; else the terminal's width when stdout is a terminal, else
    :data:`PIPE_WIDTH`; never below :data:`MIN_WIDTH`."""
    if asked is not None:
        return asked
    try:
        if sys.stdout.isatty():
            return max(MIN_WIDTH, os.get_terminal_size(sys.stdout.fileno()).columns)
    except (OSError, ValueError):
        pass
    return PIPE_WIDTH


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zpcisim",
        description="Run the s390x vfio-pci error recovery flow (Linux v17 series) on a model "
        "of the machine, and watch every step: firmware, host kernel, VMM, guest, userspace driver.",
    )
    p.add_argument("--version", action="version", version=f"zpcisim {__version__}")
    wide = argparse.ArgumentParser(add_help=False)
    wide.add_argument(
        "--width",
        type=_width,
        default=None,
        metavar="N",
        help=f"output width (default: the terminal's, {PIPE_WIDTH} when not a terminal; "
        f"at least {MIN_WIDTH})",
    )
    sub = p.add_subparsers(dest="cmd", metavar="{list,run,compare,explain}")
    sub.add_parser("list", parents=[wide], help="list the scenarios")
    run = sub.add_parser("run", parents=[wide], help="run one scenario and print its timeline")
    run.add_argument("name", help="the scenario (see 'zpcisim list')")
    run.add_argument("--json", action="store_true", help="one JSON object per step instead of text")
    run.add_argument(
        "--diagram", metavar="FILE", help="write a Mermaid sequence diagram (Markdown) to FILE ('-': stdout)"
    )
    run.add_argument("--verbose", action="store_true", help="include the kernel's debug log lines")
    run.add_argument(
        "--source", action="store_true", help="under each step, the kernel function and file:line behind it"
    )
    run.add_argument(
        "--kernel",
        metavar="TREE",
        default=trees.THIS_TREE,
        help="the kernel tree to run on: baseline, v17 (default, this tree), v17:N, mainline, mainline:N",
    )
    run.add_argument("--pec", type=_hex, metavar="HEX", help="the PEC of every error the scenario injects")
    run.add_argument(
        "--errors", type=_count, metavar="N", help=f"how many errors it injects (1 to {MAX_ERRORS})"
    )
    run.add_argument("--fid", type=_hex, metavar="HEX", help="the function id the errors hit")
    cmp = sub.add_parser(
        "compare", parents=[wide], help="run a scenario on two kernel trees (before and with the series)"
    )
    compare_cmd.add_arguments(cmp)
    exp = sub.add_parser(
        "explain", parents=[wide], help="where a C function is here, the patches that touch it, its tests"
    )
    exp.add_argument("name", help="a C function, struct NAME, a field, a macro or a constant")
    exp.add_argument("--code", action="store_true", help="also print its Python source")
    return p


def describe_errors(errors: Errors) -> str:
    """What ``list`` says of a scenario's errors: ``errors: 1 (PEC 0x3a 0x3d) on fid 0x10``
    (how many, the PECs they take in turn, the function), and ``; --pec 0x3b|0x40``
    for a scenario that takes only those."""
    pecs = " ".join(f"0x{pec:x}" for pec in errors.pecs)
    only = ""
    if errors.pec_choices is not None:
        only = "; --pec " + "|".join(f"0x{pec:x}" for pec in sorted(errors.pec_choices))
    return f"errors: {errors.count} (PEC {pecs}) on fid 0x{errors.fid:x}{only}"


def _list(width: int) -> int:
    scenarios = load()
    col = max((len(n) for n in scenarios), default=0) + 2
    for name, sc in scenarios.items():
        text = sc.description
        if sc.errors is not None:
            text += f" [{describe_errors(sc.errors)}]"
        for line in compare_cmd.wrap(f"{name:<{col}}{text}", width, col):
            print(line)
    return 0


def _usage(p: argparse.ArgumentParser, message: str) -> int:
    p.print_usage(sys.stderr)
    print(f"zpcisim: {message}", file=sys.stderr)
    return 2


def _check_diagram_path(path: str) -> str | None:
    """Why ``--diagram path`` cannot be written, or None."""
    if path == "-":
        return None
    target = Path(path)
    if target.is_dir():
        return f"--diagram {path}: is a directory"
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        return f"--diagram {path}: no directory {parent}"
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return f"--diagram {path}: not writable"
    return None


def _forward(args: argparse.Namespace, width: int) -> list[str]:
    """The ``zpcisim run`` arguments that repeat this one in another tree."""
    out = ["run", args.name, "--width", str(width)]
    if args.json:
        out.append("--json")
    if args.verbose:
        out.append("--verbose")
    if args.source:
        out.append("--source")
    if args.diagram:
        out += ["--diagram", args.diagram if args.diagram == "-" else str(Path(args.diagram).resolve())]
    for opt, value in (("--pec", args.pec), ("--fid", args.fid)):
        if value is not None:
            out += [opt, f"0x{value:x}"]
    if args.errors is not None:
        out += ["--errors", str(args.errors)]
    return out


def _run(p: argparse.ArgumentParser, args: argparse.Namespace, width: int) -> int:
    scenarios = load()
    if args.name not in scenarios:
        names = ", ".join(scenarios) or "(none)"
        return _usage(p, f"unknown scenario {args.name!r}; scenarios: {names}")
    sc = scenarios[args.name]
    chosen = any(v is not None for v in (args.pec, args.errors, args.fid))
    if chosen:
        if sc.errors is None:
            with_errors = ", ".join(n for n, s in scenarios.items() if s.errors is not None)
            return _usage(
                p, f"{args.name} injects no errors; --pec, --errors and --fid apply to: {with_errors}"
            )
        try:
            sc.errors.chosen(pec=args.pec, count=args.errors, fid=args.fid)
        except ValueError as e:
            return _usage(p, str(e))
    if args.diagram:
        why = _check_diagram_path(args.diagram)
        if why is not None:
            return _usage(p, why)
    try:
        kernel = trees.normalise_tree(args.kernel)
    except trees.TreeError as e:
        return _usage(p, f"--kernel: {e}") if e.usage else _fail(str(e))
    if kernel != trees.THIS_TREE:
        try:
            path = trees.tree_path(kernel)
            sys.stdout.flush()
            return trees.run_in_tree(path, _forward(args, width), capture=False).returncode
        except trees.TreeError as e:
            return _fail(str(e))
    result = run_scenario(args.name, verbose=args.verbose, pec=args.pec, count=args.errors, fid=args.fid)
    if args.diagram == "-":
        sys.stdout.write(mermaid(result.steps, f"zpcisim run {args.name}"))
    else:
        for step in result.steps:
            if args.json:
                print(json.dumps(step.as_json()))
            else:
                print("\n".join(compare_cmd.wrap(step.line(), width, STEP_INDENT)))
                if args.source and step.fields.get("source"):
                    print(f"{'':{STEP_INDENT}}{step.fields['function']}  {step.fields['source']}")
    if args.diagram and args.diagram != "-":
        try:
            with open(args.diagram, "w", encoding="utf-8") as f:
                f.write(mermaid(result.steps, f"zpcisim run {args.name}"))
        except OSError as e:
            print(f"zpcisim: cannot write {args.diagram}: {e.strerror}", file=sys.stderr)
            return 2
    _status(result, sys.stderr if args.json or args.diagram == "-" else sys.stdout)
    return 0 if result.passed else 1


def _status(result: Result, out: TextIO) -> None:
    """The closing lines: each unmet expectation, then PASS or FAIL."""
    name = result.name
    if result.passed:
        lines = [f"{name}: PASS"]
    elif result.crashed is None and len(result.unmet) == 1:
        lines = [f"{name}: FAIL: expectation not met: {result.unmet[0]}"]
    else:
        lines = [f"{name}: expectation not met: {what}" for what in result.unmet]
        if result.crashed is not None:
            lines.append(f"{name}: FAIL: the run crashed: {result.crashed}")
        else:
            lines.append(f"{name}: FAIL: {len(result.unmet)} expectations not met")
    for line in lines:
        print(line, file=out)


def _fail(message: str) -> int:
    print(f"zpcisim: {message}", file=sys.stderr)
    return 1


def _main(argv: Sequence[str] | None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.cmd is None:
        return _usage(p, "choose a command: list, run, compare or explain (zpcisim --help says more)")
    if args.cmd == "explain":
        return explain_cmd.main([args.name, *(["--code"] if args.code else [])], output_width(args.width))
    width = output_width(args.width)
    if args.cmd == "compare":
        return compare_cmd.run_command(args, width)
    if args.cmd == "list":
        return _list(width)
    return _run(p, args, width)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; the exit status (module docstring)."""
    try:
        status = _main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing, and keep the interpreter's
        # final flush from failing on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("zpcisim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
