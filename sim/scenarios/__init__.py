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
and the step finders (:meth:`Run.find`, :meth:`Run.expect_order`).  A failed
expectation ends the run: the result says which.  Whatever the run leaves (the
recorder, the machine) is taken down by :func:`run_scenario`, also on failure.

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

import attrs

from sim.host import Host
from sim.pci.function import PciFunction
from sim.record import Recorder
from sim.timeline import Step, Timeline, use
from sim.zpci.firmware import ZpciFirmware

__all__ = [
    "ORDER",
    "RUN_OBSERVERS",
    "SCENARIOS",
    "ExpectationFailed",
    "Result",
    "Run",
    "Scenario",
    "load",
    "run_scenario",
    "scenario",
]


class ExpectationFailed(Exception):
    """A scenario's expectation did not hold; the message names it."""


@attrs.frozen
class Scenario:
    name: str
    description: str
    run: Callable[[Run], None]
    module: str


#: name -> scenario, in registration order.
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, description: str) -> Callable[[Callable[[Run], None]], Callable[[Run], None]]:
    """Register ``fn(run: Run) -> None`` as scenario ``name`` (one-line
    ``description``).  A name may be registered once."""

    def register(fn: Callable[[Run], None]) -> Callable[[Run], None]:
        old = SCENARIOS.get(name)
        if old is not None and old.module != fn.__module__:
            raise ValueError(f"scenario {name!r} is already registered by {old.module}")
        SCENARIOS[name] = Scenario(name, description, fn, fn.__module__)
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

    def __init__(self, timeline: Timeline, *, verbose: bool = False) -> None:
        self.timeline = timeline
        self.verbose = verbose
        self.recorder = Recorder(timeline, verbose=verbose)
        self._cleanups: list[Callable[[], None]] = []
        #: objects the scenario hands to its caller (tests read the final state)
        self.kept: dict[str, object] = {}

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

    def expect(self, cond: object, what: str) -> None:
        """End the run as failed, naming ``what``, unless ``cond`` holds."""
        if not cond:
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
    ) -> Step:
        step = self.find(pattern, actor=actor, kind=kind, after=after)
        where = f" after step {after}" if after else ""
        self.expect(step is not None, f"a {actor or 'any'}/{kind or 'any'} step with {pattern!r}{where}")
        assert step is not None
        return step

    def expect_order(self, *patterns: str | tuple[str, str, str], after: int = 0) -> list[Step]:
        """Each pattern's step comes after the previous one's.  A pattern is a text
        or ``(actor, kind, text)``.  The steps found."""
        found: list[Step] = []
        for p in patterns:
            if isinstance(p, tuple):
                actor, kind, text = p
                step = self.expect_step(text, actor=actor, kind=kind, after=after)
            else:
                step = self.expect_step(p, after=after)
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
    """How a run ended: ``passed``, or ``failed`` naming the expectation
    (``"expectation not met: ..."``) or the crash (``"the run crashed: ..."``) that
    ended it; the recorded ``timeline``."""

    name: str
    timeline: Timeline
    passed: bool
    failed: str | None = None
    kept: dict[str, object] = attrs.field(factory=dict)

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
def _running(timeline: Timeline, verbose: bool) -> Iterator[Run]:
    r = Run(timeline, verbose=verbose)
    try:
        with use(timeline):
            yield r
    finally:
        r.close()


#: Observers of every run: ``observer(name, timeline, verbose)`` is called before the
#: run starts and returns what is called with the :class:`Result` when it ends.  The
#: execution index (tools/index.py) uses it; nothing else should need to.
RUN_OBSERVERS: list[Callable[[str, Timeline, bool], Callable[[Result], None]]] = []


def run_scenario(
    name: str, *, verbose: bool = False, on_step: Callable[[Step], None] | None = None
) -> Result:
    """Run scenario ``name`` (``KeyError`` if there is none); ``on_step`` sees each
    step as it is recorded."""
    sc = load()[name]
    timeline = Timeline()
    if on_step is not None:
        timeline.subscribe(on_step)
    ends = [observe(name, timeline, verbose) for observe in RUN_OBSERVERS]
    failed: str | None = None
    kept: dict[str, object] = {}
    try:
        with _running(timeline, verbose) as r:
            kept = r.kept
            sc.run(r)
    except ExpectationFailed as e:
        failed = f"expectation not met: {e}"
    except Exception as e:  # the scenario itself broke: a failed run, said clearly
        tb = traceback.extract_tb(e.__traceback__)[-1]
        failed = f"the run crashed: {type(e).__name__}: {e} ({tb.filename}:{tb.lineno})"
    result = Result(name, timeline, failed is None, failed, kept)
    for end in ends:
        end(result)
    return result
