"""The scenarios ``zpcisim run`` knows, and the machinery to run one.

A scenario is a module in this package with one function registered by the
:func:`scenario` decorator::

    from sim.scenarios import Run, scenario

    @scenario("passthrough-userspace", "an error on a function a userspace driver owns ...")
    def run(r: Run) -> None:
        host = r.boot({0x10: PciFunction(0x1AF4, 0x1041)})   # machine + kernel, recorded
        ...
        r.expect(fn.enabled, "the function ends enabled")

Every module of the package is imported by :func:`load` (the command line calls
it), so a new scenario needs no line anywhere else.

:func:`run_scenario` runs one: it makes a :class:`~sim.timeline.Timeline`, installs it
as the current one, calls the function with a :class:`Run`, and returns a
:class:`Result`.  The function builds its machine with :meth:`Run.boot` (or builds a
:class:`~sim.zpci.firmware.ZpciFirmware` itself and hands it to
:meth:`Run.record`), which starts recording the host kernel and the firmware
(:mod:`sim.record`); it checks what should have happened with :meth:`Run.expect`
and the step finders (:meth:`Run.find`, :meth:`Run.expect_order`).  An unmet
expectation is collected and the run goes on to its end, so that a run on another
tree (``zpcisim compare``, ``zpcisim run --kernel``) shows everything that tree does
and the result lists every unmet expectation (:attr:`Result.unmet`).  A request
the kernel refuses (an ``OSError`` from an ioctl a kernel without the series does not
know) is made with :meth:`Run.attempt`, which names it as an unmet expectation.  Only
:meth:`Run.require` (a precondition the rest cannot do without) and a crash of the
scenario end a run early.  Whatever the run leaves (the recorder, the machine) is
taken down by :func:`run_scenario`, also on failure.

Every run also expects that no kernel made a lockdep report or WARNed during it: the
host kernel (:data:`kernel.lib.lockdep.reports`, :data:`kernel.lib.bug.warnings`,
watched from the start of the run to the end of its teardown) or a guest kernel (its
VMM keeps them in the timeline, :attr:`~sim.timeline.Timeline.reports`, and ends the
run).  Each report is an unmet expectation, listed before the scenario's own in
:attr:`Result.unmet`, one line naming it (``the host kernel reported: possible
circular locking dependency detected: ...``).

Runs must be deterministic in their order of steps: a scenario waits for the
kernel's event thread (``fw.wait_events_handled()``) before its next step and never
sleeps for ordering.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import re
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final, TypeVar

import attrs

from kernel.lib.bug import warn_subscribe, warn_unsubscribe
from kernel.lib.errno import errname
from kernel.lib.lockdep import lockdep_report_subscribe, lockdep_report_unsubscribe
from sim.guest.process import GuestReported
from sim.host import Host
from sim.pci.function import PciFunction
from sim.record import Recorder
from sim.timeline import Step, Timeline, use
from sim.zpci.firmware import ZpciFirmware

__all__ = [
    "MAX_ERRORS",
    "ORDER",
    "RUN_OBSERVERS",
    "SCENARIOS",
    "Errors",
    "ExpectationFailed",
    "Result",
    "Run",
    "Scenario",
    "load",
    "run_scenario",
    "scenario",
]


T = TypeVar("T")
D = TypeVar("D")


class ExpectationFailed(Exception):
    """A precondition of a scenario (:meth:`Run.require`) did not hold; the message
    names it.  The run ends there."""


@attrs.frozen
class Errors:
    """The errors a scenario injects, which the user may choose
    (``zpcisim run NAME --pec HEX --errors N --fid HEX``): the PEC of each error in
    turn (``pecs``; a user's ``--pec`` makes them all the same), how many (``count``),
    and the function they hit (``fid``).  ``count`` is per round: ``rounds`` has one
    entry per round of ``count`` errors the scenario injects, the function that round
    hits (None: ``fid``), so that ``zpcisim list`` can say exactly what a run injects.
    ``fixed_fids`` are the scenario's other functions, which ``fid`` must not be;
    ``pec_choices``, the PECs ``--pec`` may name when the scenario is about one kind
    of error (None: any)."""

    pecs: tuple[int, ...]
    count: int
    fid: int
    fixed_fids: tuple[int, ...] = ()
    pec_choices: frozenset[int] | None = None
    rounds: tuple[int | None, ...] = (None,)

    def pec(self, n: int) -> int:
        """The PEC of error ``n`` (from 0), the ``pecs`` taken in turn."""
        return self.pecs[n % len(self.pecs)]

    def all_pecs(self) -> list[int]:
        """The PECs of the ``count`` errors, in order."""
        return [self.pec(n) for n in range(self.count)]

    def chosen(self, *, pec: int | None = None, count: int | None = None, fid: int | None = None) -> Errors:
        """These errors with the user's choices put in (None: keep the default);
        ``ValueError`` naming the option for a choice the scenario cannot take."""
        if pec is not None and not 0 <= pec <= 0xFFFF:
            raise ValueError(f"--pec 0x{pec:x}: a PEC is 16 bits (0x0 to 0xffff)")
        if pec is not None and self.pec_choices is not None and pec not in self.pec_choices:
            choices = ", ".join(f"0x{c:x}" for c in sorted(self.pec_choices))
            raise ValueError(f"--pec 0x{pec:x}: the scenario takes {choices}")
        if count is not None and not 1 <= count <= MAX_ERRORS:
            raise ValueError(f"--errors {count}: from 1 to {MAX_ERRORS}")
        if fid is not None:
            if not 0 <= fid <= 0xFFFFFFFF:
                raise ValueError(f"--fid 0x{fid:x}: a function id is 32 bits")
            if fid in self.fixed_fids:
                raise ValueError(f"--fid 0x{fid:x}: the scenario's other function has that fid")
        return attrs.evolve(
            self,
            pecs=self.pecs if pec is None else (pec,),
            count=self.count if count is None else count,
            fid=self.fid if fid is None else fid,
        )


#: The most errors ``--errors`` may ask for.
MAX_ERRORS: Final = 64


@attrs.frozen
class Scenario:
    name: str
    description: str
    run: Callable[[Run], None]
    module: str
    #: the errors it injects by default, if the user may choose them
    errors: Errors | None = None


#: name -> scenario, in registration order.
SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, description: str, *, errors: Errors | None = None
) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register ``fn(run: Run) -> None`` as scenario ``name`` (one-line
    ``description``); ``errors``, the errors it injects (which the user may then
    choose; the function reads them as ``run.errors``).  A name may be registered
    once."""

    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        old = SCENARIOS.get(name)
        if old is not None and old.module != fn.__module__:
            raise ValueError(f"scenario {name!r} is already registered by {old.module}")
        SCENARIOS[name] = Scenario(name, description, fn, fn.__module__, errors)
        return fn

    return register


#: The order ``zpcisim list`` shows (issue 7's table); others follow by name.
ORDER: tuple[str, ...] = (
    "passthrough-kvm",
    "passthrough-userspace",
    "host-recovery",
    "queue-overflow",
    "perm-failure",
    "close-with-pending",
    "multifunction-reset",
    "inaccessible-reset",
    "ism-error-irq",
    "efault-lost-record",
)


def load() -> dict[str, Scenario]:
    """Import every scenario module of this package (modules whose name starts with
    ``_`` are helpers); the registry, in :data:`ORDER`."""
    for mod in pkgutil.iter_modules(__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")

    def rank(name: str) -> tuple[int, str]:
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    ordered = {name: SCENARIOS[name] for name in sorted(SCENARIOS, key=rank)}
    SCENARIOS.clear()
    SCENARIOS.update(ordered)
    return SCENARIOS


def _matches(step: Step, pattern: str | re.Pattern[str], actor: str | None, kind: str | None) -> bool:
    if actor is not None and step.actor != actor:
        return False
    if kind is not None and step.kind != kind:
        return False
    if isinstance(pattern, re.Pattern):
        return pattern.search(step.text) is not None
    return pattern in step.text


def _find(
    timeline: Timeline, pattern: str | re.Pattern[str], actor: str | None, kind: str | None, after: int
) -> Step | None:
    for step in timeline.steps:
        if step.seq > after and _matches(step, pattern, actor, kind):
            return step
    return None


class Run:
    """What a scenario function gets: the timeline, the switches, and helpers to
    build and record the machine and to check the outcome."""

    def __init__(self, timeline: Timeline, *, verbose: bool = False, errors: Errors | None = None) -> None:
        self.timeline = timeline
        self.verbose = verbose
        #: the errors to inject (the scenario's own, or the user's choice)
        self._errors = errors
        self.recorder = Recorder(timeline, verbose=verbose)
        self._cleanups: list[Callable[[], None]] = []
        #: objects the scenario hands to its caller (tests read the final state)
        self.kept: dict[str, object] = {}
        #: the expectations that did not hold, in the order they were checked
        self.unmet: list[str] = []

    @property
    def errors(self) -> Errors:
        """The errors this run injects (``ValueError`` for a scenario registered
        without ``errors=``)."""
        if self._errors is None:
            raise ValueError("this scenario was registered without errors=")
        return self._errors

    # -- building --------------------------------------------------------------------

    def boot(self, functions: dict[int, PciFunction], pchid: int = 0x2C, **config: bool) -> Host:
        """What ``Host.boot(functions)`` does, recorded from the first CLP call and
        the first line the kernel prints."""
        fw = ZpciFirmware()
        for fid, fn in functions.items():
            fw.add_function(fid, fn, pchid=pchid)
        self.record(fw)
        fw.boot(**config)
        return Host(fw)

    def record(self, fw: ZpciFirmware) -> None:
        """Record ``fw`` (and the kernel), and shut it down at the end of the run
        (kept as ``"fw"``)."""
        self.recorder.attach(fw)
        self.keep("fw", fw)
        self.on_exit(fw.shutdown)

    def on_exit(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` when the run ends, last registered first."""
        self._cleanups.append(fn)

    def keep(self, name: str, obj: object) -> None:
        """Hand ``obj`` to the caller as ``Result.kept[name]`` (the firmware, say,
        whose functions a test inspects after the run)."""
        self.kept[name] = obj

    def note(self, text: str, actor: str = "host") -> Step:
        """The scenario's own narration (kind ``note``)."""
        return self.timeline.record(actor, "note", text)

    # -- checking --------------------------------------------------------------------

    def expect(self, cond: object, what: str) -> bool:
        """Whether ``cond`` holds; if not, ``what`` is recorded as unmet (the run
        fails, and goes on)."""
        if not cond:
            self.unmet.append(what)
        return bool(cond)

    def attempt(self, call: Callable[[], T], what: str, default: D, *, require: bool = False) -> T | D:
        """What ``call()`` returns; if it fails with an errno (``OSError``: a kernel
        without the feature refuses the request -- ``zpcisim run --kernel baseline``),
        ``what`` is recorded as unmet with the errno (``... (it failed with
        -ENOTTY)``) and ``default`` returned, or with ``require`` the run ends there,
        as :meth:`require` ends it."""
        try:
            return call()
        except OSError as e:
            failed = f"{what} (it failed with -{errname(-(e.errno or 0))})"
            self.unmet.append(failed)
            if require:
                raise ExpectationFailed(failed) from None
            return default

    def require(self, cond: object, what: str) -> None:
        """End the run here, as failed, naming ``what``, unless ``cond`` holds: for a
        precondition without which the rest of the scenario cannot run."""
        if not cond:
            self.unmet.append(what)
            raise ExpectationFailed(what)

    def find(
        self,
        pattern: str | re.Pattern[str],
        *,
        actor: str | None = None,
        kind: str | None = None,
        after: int = 0,
    ) -> Step | None:
        """The first step after seq ``after`` whose text contains ``pattern`` (or
        matches it, for a compiled regex), of the given actor and kind."""
        return _find(self.timeline, pattern, actor, kind, after)

    def find_all(
        self, pattern: str | re.Pattern[str], *, actor: str | None = None, kind: str | None = None
    ) -> list[Step]:
        return [s for s in self.timeline.steps if _matches(s, pattern, actor, kind)]

    def expect_step(
        self,
        pattern: str | re.Pattern[str],
        *,
        actor: str | None = None,
        kind: str | None = None,
        after: int = 0,
    ) -> Step | None:
        """The step :meth:`find` finds; None, recorded as unmet, when there is none."""
        step = self.find(pattern, actor=actor, kind=kind, after=after)
        where = f" after step {after}" if after else ""
        self.expect(step is not None, f"a {actor or 'any'}/{kind or 'any'} step with {pattern!r}{where}")
        return step

    def expect_order(self, *patterns: str | tuple[str, str, str], after: int = 0) -> list[Step]:
        """Each pattern's step comes after the previous one's.  A pattern is a text
        or ``(actor, kind, text)``.  A missing step is recorded as unmet and the next
        pattern is looked for after the last step found.  The steps found."""
        found: list[Step] = []
        for p in patterns:
            if isinstance(p, tuple):
                actor, kind, text = p
                step = self.expect_step(text, actor=actor, kind=kind, after=after)
            else:
                step = self.expect_step(p, after=after)
            if step is not None:
                found.append(step)
                after = step.seq
        return found

    def close(self) -> None:
        try:
            while self._cleanups:
                self._cleanups.pop()()
        finally:
            self.recorder.detach()


@attrs.define
class Result:
    """How a run ended: ``passed``, or ``failed`` saying why in one line (the first
    unmet expectation, ``"expectation not met: ..."``, with how many more; or the crash,
    ``"the run crashed: ..."``); ``unmet`` lists every expectation that did not hold
    -- first a line for each kernel report (``"the guest kernel reported: ..."``; the
    reports themselves are ``timeline.reports``) --, ``crashed`` the crash if there
    was one; the recorded ``timeline``."""

    name: str
    timeline: Timeline
    passed: bool
    failed: str | None = None
    kept: dict[str, object] = attrs.field(factory=dict)
    unmet: list[str] = attrs.field(factory=list)
    crashed: str | None = None

    @property
    def steps(self) -> list[Step]:
        return self.timeline.steps

    def find(
        self,
        pattern: str | re.Pattern[str],
        *,
        actor: str | None = None,
        kind: str | None = None,
        after: int = 0,
    ) -> Step | None:
        """As :meth:`Run.find`."""
        return _find(self.timeline, pattern, actor, kind, after)

    def order(self, *patterns: tuple[str, str, str], after: int = 0) -> list[int]:
        """The seqs of ``(actor, kind, text)`` steps found one after the other;
        ``AssertionError`` naming the first one missing."""
        seqs: list[int] = []
        for actor, kind, text in patterns:
            step = self.find(text, actor=actor, kind=kind, after=after)
            if step is None:
                raise AssertionError(f"no {actor}/{kind} step {text!r} after step {after}")
            seqs.append(step.seq)
            after = step.seq
        return seqs


@contextlib.contextmanager
def _host_reports(timeline: Timeline) -> Iterator[None]:
    """Keep the host kernel's lockdep reports and WARNs in ``timeline`` while the
    block runs."""

    def lockdep_report(text: str) -> None:
        timeline.report("host", "lockdep", text)

    def warn(text: str) -> None:
        timeline.report("host", "warn", text)

    lockdep_report_subscribe(lockdep_report)
    warn_subscribe(warn)
    try:
        yield
    finally:
        warn_unsubscribe(warn)
        lockdep_report_unsubscribe(lockdep_report)


def _where(filename: str) -> str:
    """``filename`` relative to the tree this package is in (the same in every tree
    and checkout), or as it is when it lies outside."""
    root = Path(__file__).resolve().parents[2]
    try:
        return str(Path(filename).resolve().relative_to(root))
    except ValueError:
        return filename


@contextlib.contextmanager
def _running(timeline: Timeline, verbose: bool, errors: Errors | None) -> Iterator[Run]:
    with _host_reports(timeline):
        r = Run(timeline, verbose=verbose, errors=errors)
        with use(timeline):  # the clean-ups (closes, shutdowns) are steps too
            try:
                yield r
            except KeyboardInterrupt:
                # Ctrl-C: clean up as far as possible, but let the interrupt, not an
                # error of a clean-up it cut short, end the run
                try:
                    r.close()
                except Exception:
                    pass
                raise
            except BaseException:
                r.close()
                raise
            else:
                r.close()


#: Observers of every run: ``observer(name, timeline, verbose, options)`` is called
#: before the run starts and returns what is called with the :class:`Result` when it
#: ends; ``options`` are the ``zpcisim run`` options that choose the run's errors as
#: given (``"--errors 6"``; ``""`` for none: the run ``zpcisim run NAME`` makes).  The
#: execution index (tools/index.py) uses it; nothing else should need to.
RUN_OBSERVERS: list[Callable[[str, Timeline, bool, str], Callable[[Result], None]]] = []


def _options(pec: int | None, count: int | None, fid: int | None) -> str:
    """The ``zpcisim run`` options that make the choice (``--pec 0x40 --errors 6``)."""
    given = [("--pec", pec, "0x{:x}"), ("--errors", count, "{}"), ("--fid", fid, "0x{:x}")]
    return " ".join(f"{opt} {fmt.format(v)}" for opt, v, fmt in given if v is not None)


def run_scenario(
    name: str,
    *,
    verbose: bool = False,
    on_step: Callable[[Step], None] | None = None,
    pec: int | None = None,
    count: int | None = None,
    fid: int | None = None,
) -> Result:
    """Run scenario ``name`` (``KeyError`` if there is none); ``on_step`` sees each
    step as it is recorded.  ``pec``, ``count`` and ``fid`` choose the errors it
    injects (:meth:`Errors.chosen`; ``ValueError`` for a scenario that injects none
    or a choice it cannot take)."""
    sc = load()[name]
    errors = sc.errors
    if pec is not None or count is not None or fid is not None:
        if errors is None:
            raise ValueError(f"{name} injects no errors to choose")
        errors = errors.chosen(pec=pec, count=count, fid=fid)
    timeline = Timeline()
    if on_step is not None:
        timeline.subscribe(on_step)
    options = _options(pec, count, fid)
    ends = [observe(name, timeline, verbose, options) for observe in RUN_OBSERVERS]
    crashed: str | None = None
    kept: dict[str, object] = {}
    unmet: list[str] = []
    try:
        with _running(timeline, verbose, errors) as r:
            kept, unmet = r.kept, r.unmet
            sc.run(r)
    except ExpectationFailed:
        pass  # recorded in unmet by Run.require
    except GuestReported:
        pass  # the VMM ended the run on the guest kernel's reports, named below
    except Exception as e:  # the scenario itself broke: a failed run, said clearly
        tb = traceback.extract_tb(e.__traceback__)[-1]
        crashed = f"{type(e).__name__}: {e} ({_where(tb.filename)}:{tb.lineno})"
    # every run also expects that no kernel made a lockdep report or WARNed: each
    # report is an unmet expectation, named first
    unmet = [rep.summary() for rep in timeline.reports] + list(unmet)
    failed: str | None = None
    if crashed is not None:
        failed = f"the run crashed: {crashed}"
    elif unmet:
        more = f" (and {len(unmet) - 1} more)" if len(unmet) > 1 else ""
        failed = f"expectation not met: {unmet[0]}{more}"
    result = Result(name, timeline, failed is None, failed, kept, list(unmet), crashed)
    for end in ends:
        end(result)
    return result
