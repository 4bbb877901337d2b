"""The ``zpcisim`` command line (also ``python -m sim``).

``zpcisim list``
    the scenarios, one each, and the errors each injects (how many rounds, how many
    errors in each, on which function, which PECs: ``run`` can change them).
``zpcisim run NAME [--json] [--diagram FILE|-] [--verbose] [--source] [--kernel TREE] ...``
    runs one and prints its timeline, each step as it happens: one line per step
    (seq, actor, kind, text), or with ``--json`` one JSON object per line (``seq``,
    ``actor``, ``kind``, ``text``; ``request`` and ``ret`` on ioctls; other decoded
    fields).  ``--diagram FILE`` also writes a Mermaid sequence diagram of the run
    (``-``: to stdout, instead of the timeline; with ``--json`` a usage error, both
    would go to stdout); ``--verbose`` adds the kernel's debug lines, marked ``<7>``
    and numbered as sub-steps (``23.1``) so that the steps keep their numbers;
    ``--kernel TREE`` runs it on another kernel tree (``baseline``, ``v17:N``,
    ``mainline``...: :mod:`sim.trees`) in a process of its own; ``--pec``,
    ``--errors N`` and ``--fid`` choose the errors a scenario injects; ``--source``
    prints under each kernel log line, trace event and ioctl the C function and
    ``file:line`` that made it (in ``--json`` they are always there, as ``function``
    and ``source``).
``zpcisim compare NAME [--from TREE] [--to TREE] [--diff-only]``
    runs the scenario on two kernel trees (by default the baseline and this one,
    v17) and prints the two timelines side by side, the differences marked
    (:mod:`sim.compare`; the series ship with the package, so it works installed too).
``zpcisim explain [--code] NAME``
    where a C function (struct, field, macro, constant) lives in the Python tree,
    which patches touch it, which tests and scenario steps run it (:mod:`sim.explain`);
    ``--code`` adds its Python source.

Output fits the terminal, or 80 columns when stdout is not one (``--width N``, at
least :data:`MIN_WIDTH`); long lines wrap inside their column, never inside a word.

Exit status: 0 when the scenario ends as it should, 1 when one of its expectations
fails (each unmet one is named, the last line says FAIL) or the output cannot be
written (a full disk: one line, ``zpcisim: write error: No space left on device``),
2 for a usage error (an unknown scenario name lists the known ones), 130 on Ctrl-C
(one line on stderr, at any moment from the first module of the command on: the
handler is installed before the model loads), 141 when the reader of the output goes
away (``| head``: quietly, as SIGPIPE would).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

#: Whether a child ``zpcisim`` (``run --kernel``) owns Ctrl-C: it says the one line.
_child_speaks = False
_dying = False


def _interrupted(signum: int, frame: FrameType | None) -> None:
    """SIGINT: one line on stderr and exit 130 at once, whatever the program was doing
    (loading modules, booting, waiting for a thread or a child), with no traceback
    and no clean-up that could hang.  While a child ``zpcisim`` runs in the
    foreground, it got the same signal and says the line itself."""
    global _dying
    if _child_speaks or _dying:
        return
    _dying = True
    try:
        os.write(2, b"zpcisim: interrupted\n")
    finally:
        os._exit(130)


def install_interrupt_handler() -> object:
    """Make Ctrl-C end the command as :func:`_interrupted` says; the previous handler
    (None when not on the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, _interrupted)


# The console script ``zpcisim`` imports this module and then calls main(): Ctrl-C
# must be handled from here on, before the modules below load.  (``python -m sim``
# installs it in sim/__main__.py, earlier still; a test importing this module keeps
# its own handler.)
if os.path.basename(getattr(sys.modules.get("__main__"), "__file__", None) or "") == "zpcisim":
    install_interrupt_handler()

import argparse  # noqa: E402
import json  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any, Final, TextIO  # noqa: E402

from sim import __version__, trees  # noqa: E402
from sim import compare as compare_cmd  # noqa: E402

if TYPE_CHECKING:
    from sim.scenarios import Errors, Result
    from sim.timeline import Step

__all__ = ["MIN_WIDTH", "main", "output_width"]

#: The narrowest output ``--width`` accepts: a step's head (25 columns) and some text.
MIN_WIDTH: Final = 60
#: The width when stdout is not a terminal.
PIPE_WIDTH: Final = 80
#: A step line's head: seq, actor, kind (``sim.timeline.Step.line``).
STEP_INDENT: Final = 25


class OutputError(Exception):
    """Writing the command's output failed (a full disk, an I/O error): ``error`` says
    why.  Not an ``OSError``, so that no ``except OSError`` on the way takes it for
    something else; a closed pipe stays a ``BrokenPipeError`` (exit 141, quietly)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror or str(error))
        self.error = error


class _Output:
    """``sys.stdout`` while a command runs: the stream, whose failed writes and
    flushes raise :class:`OutputError`."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(e) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(e) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


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
    from sim.scenarios import MAX_ERRORS

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
    from sim.scenarios import MAX_ERRORS

    p = argparse.ArgumentParser(
        prog="zpcisim",
        description="Run the s390x vfio-pci error recovery flow (the Linux series as posted in v17 "
        "and as merged for 7.3) on a model of the machine, and watch every step: firmware, host "
        "kernel, VMM, guest, userspace driver.",
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
    sub.add_parser("list", parents=[wide], help="list the scenarios and the errors each injects")
    run = sub.add_parser("run", parents=[wide], help="run one scenario and print its timeline")
    run.set_defaults(usage_of=run)  # its usage errors show its usage
    run.add_argument("name", help="the scenario (see 'zpcisim list')")
    run.add_argument("--json", action="store_true", help="one JSON object per step instead of text")
    run.add_argument(
        "--diagram",
        metavar="FILE",
        help="write a Mermaid sequence diagram (Markdown) to FILE ('-': stdout, instead of the "
        "timeline; not with --json)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="include the kernel's debug log lines (marked <7>, numbered as sub-steps of the step "
        "before them: the steps keep their numbers)",
    )
    run.add_argument(
        "--source", action="store_true", help="under each step, the kernel function and file:line behind it"
    )
    run.add_argument(
        "--kernel",
        metavar="TREE",
        default=trees.THIS_TREE,
        help="the kernel tree to run on: baseline, v17 (default, this tree), v17:N, mainline, mainline:N",
    )
    run.add_argument(
        "--pec", type=_hex, metavar="HEX", help="the PEC of every error the scenario injects"
    )
    run.add_argument(
        "--errors",
        type=_count,
        metavar="N",
        help=f"how many errors each round of the scenario injects (1 to {MAX_ERRORS}); "
        "'zpcisim list' shows each scenario's rounds",
    )
    run.add_argument(
        "--fid",
        type=_hex,
        metavar="HEX",
        help="the function id the errors hit (a round on the scenario's other function stays there)",
    )
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def describe_errors(errors: Errors) -> str:
    """What ``list`` says of a scenario's errors: ``errors: 2 rounds of 1 on fid 0x10,
    PEC 0x3a 0x3d in turn`` (how many rounds, how many errors each -- what ``--errors``
    sets --, the function, the PECs the errors take one after the other), each
    round's function when they differ (``2 rounds of 1 (fid 0x10, 0x11)``), and
    ``; --pec 0x3b|0x40`` for a scenario that takes only those."""
    fids = [errors.fid if f is None else f for f in errors.rounds]
    if len(set(fids)) == 1:
        where = f" on fid 0x{fids[0]:x}"
    else:
        where = " (fid " + ", ".join(f"0x{f:x}" for f in fids) + ")"
    head = f"{_plural(len(fids), 'round')} of {errors.count}"
    pecs = " ".join(f"0x{pec:x}" for pec in errors.pecs)
    turn = " in turn" if len(errors.pecs) > 1 else ""
    only = ""
    if errors.pec_choices is not None:
        only = "; --pec " + "|".join(f"0x{pec:x}" for pec in sorted(errors.pec_choices))
    return f"errors: {head}{where}, PEC {pecs}{turn}{only}"


def _list(width: int) -> int:
    from sim.scenarios import load

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


class _Streamer:
    """Prints each step as it is recorded (the timeline in order, whichever thread
    records it), one line or one JSON object per step, flushed at once.  A failed
    write is kept (:attr:`error`) and ends the printing; the run goes on to its end
    quietly, and the command then reports the failure."""

    def __init__(self, *, json_lines: bool, width: int, source: bool) -> None:
        self.json_lines = json_lines
        self.width = width
        self.source = source
        self._lock = threading.Lock()
        self._next = 0
        self._pending: dict[int, Step] = {}
        self.error: BaseException | None = None

    def __call__(self, step: Step) -> None:
        with self._lock:
            self._pending[step.index] = step
            while self._next in self._pending and self.error is None:
                s = self._pending.pop(self._next)
                self._next += 1
                try:
                    sys.stdout.write(self._text(s))
                    sys.stdout.flush()
                except (OutputError, BrokenPipeError) as e:
                    self.error = e

    def _text(self, step: Step) -> str:
        if self.json_lines:
            return json.dumps(step.as_json()) + "\n"
        lines = compare_cmd.wrap(step.line(), self.width, STEP_INDENT)
        if self.source and step.fields.get("source"):
            lines.append(f"{'':{STEP_INDENT}}{step.fields['function']}  {step.fields['source']}")
        return "\n".join(lines) + "\n"


def _run(p: argparse.ArgumentParser, args: argparse.Namespace, width: int) -> int:
    global _child_speaks
    from sim.scenarios import load

    p = args.usage_of

    if args.json and args.diagram == "-":
        return _usage(
            p,
            "--json and --diagram - would both write to stdout: write the diagram to a file "
            "(--diagram FILE) or leave out --json",
        )
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
            # the child gets Ctrl-C too, and says the one line
            _child_speaks = True
            try:
                return trees.run_in_tree(path, _forward(args, width), capture=False).returncode
            finally:
                _child_speaks = False
        except trees.TreeError as e:
            return _fail(str(e))
    from sim.diagram import mermaid
    from sim.scenarios import run_scenario

    streamer = None
    if args.diagram != "-":
        streamer = _Streamer(json_lines=args.json, width=width, source=args.source)
    result = run_scenario(
        args.name, verbose=args.verbose, on_step=streamer, pec=args.pec, count=args.errors, fid=args.fid
    )
    if streamer is not None and streamer.error is not None:
        raise streamer.error
    if args.diagram == "-":
        sys.stdout.write(mermaid(result.steps, f"zpcisim run {args.name}"))
    elif args.diagram:
        try:
            with open(args.diagram, "w", encoding="utf-8") as f:
                f.write(mermaid(result.steps, f"zpcisim run {args.name}"))
        except OSError as e:
            print(f"zpcisim: cannot write {args.diagram}: {e.strerror}", file=sys.stderr)
            return 2
    if args.json or args.diagram == "-":
        _status(result, sys.stderr)  # one line each, for a program that reads them
    else:
        _status(result, sys.stdout, width)
    return 0 if result.passed else 1


def _status(result: Result, out: TextIO, width: int | None = None) -> None:
    """The closing lines: each unmet expectation, then PASS or FAIL (wrapped to
    ``width``, continuation lines indented by four)."""
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
        print("\n".join(compare_cmd.wrap(line, width, 4)) if width else line, file=out)


def _fail(message: str) -> int:
    print(f"zpcisim: {message}", file=sys.stderr)
    return 1


def _main(argv: Sequence[str] | None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.cmd is None:
        return _usage(p, "choose a command: list, run, compare or explain (zpcisim --help says more)")
    if args.cmd == "explain":
        from sim import explain as explain_cmd

        return explain_cmd.main([args.name, *(["--code"] if args.code else [])], output_width(args.width))
    width = output_width(args.width)
    if args.cmd == "compare":
        return compare_cmd.run_command(args, width)
    if args.cmd == "list":
        return _list(width)
    return _run(p, args, width)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is left
    in its buffer cannot fail again (and print a traceback) on the way out."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; the exit status (module docstring)."""
    previous = install_interrupt_handler()
    stdout = sys.stdout
    sys.stdout = _Output(stdout)
    try:
        status = _main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing, and keep the interpreter's
        # final flush from failing on the closed pipe.
        _quiet_stdout()
        return 141
    except OutputError as e:
        print(f"zpcisim: write error: {e}", file=sys.stderr)
        _quiet_stdout()
        return 1
    except KeyboardInterrupt:  # when the handler could not be installed (not the main thread)
        print("zpcisim: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout
        if previous is not None:
            signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
