"""Deterministic schedule exploration of a scenario's threads.

The threads of a scenario run as green threads (the ``greenlet`` package) of the
explorer's own OS thread, each a task of its own to the kernel's locks and lockdep
(:mod:`kernel.lib.sched`); only one runs at a time, and handing the turn to another
is a switch between stacks, not an OS wake-up.  At every scheduling point
(:mod:`kernel.lib.schedpoint`: lock acquire/trylock/release, rwsem operations,
``eventfd_signal``, the hand-off of a channel report to ``kmcheck`` and ``kmcheck``
waiting for one) the running thread announces the operation it is about to do and
the explorer picks which thread continues.  A thread whose operation cannot proceed
(a ``mutex_lock`` of a held mutex, ``down_write`` of a semaphore with readers, a
wait whose predicate is false) is not runnable; the OS scheduler never decides
anything, and nothing ever blocks in the OS.  (Code that would block in the OS
inside a green thread -- a ``threading`` primitive that is not a scheduling point --
would stop the whole search: every wait a race reaches must be an ``SP_WAIT``.)
Outside the explorer the same threads run as real threads, as everywhere else.

A *schedule* is the list of thread names chosen at each step.  Replaying it (the
same scenario, the same choices) gives the same run, so a failing schedule can be
pinned in a test.  Past the end of a given prefix the default choice is "keep
running the current thread" (no preemption), else the first runnable thread.

Enumeration (:meth:`Explorer.explore`) is a stateless depth-first search over the
choices, reduced by dynamic partial-order reduction (Flanagan and Godefroid, POPL
2005) with sleep sets.  Each step of a thread is the operation announced at its
scheduling point, with a *footprint*: the objects it reads and writes
(:mod:`kernel.lib.schedpoint`).  Two steps of different threads are *dependent* when
one writes an object the other reads or writes; lock operations, ``eventfd_signal``,
the kmcheck hand-off and wait count as writes of their lock, eventfd or kmcheck.
Independent steps commute, so only one order of them is run; for every pair of
dependent steps that are not ordered by happens-before (vector clocks over the
dependencies) the state before the first is made to try the other thread too.

**What the reduction assumes** (the search is exhaustive only as far as these hold):

1. *Every object through which the threads interact is announced.*  The threads'
   code between two scheduling points touches only data private to the thread, data
   no other thread touches during the race, or data covered by an announced step.
   What is announced: every lock, rwsem, eventfd and the kmcheck hand-off
   (:mod:`kernel.lib.schedpoint`); every firmware instruction, as reads and writes
   of the function's state (handles, enable/error/blocked state), its config space
   and the event queue (:mod:`sim.zpci.firmware`); every access to a guarded kernel
   field (:mod:`kernel.lib.context_analysis`), checked against the locks held.
   Config space is announced only with ``--load-store`` (``LOAD_STORE``); without
   it, a program's entry into the kernel (each system call of the userspace entry)
   reads ``schedpoint.MACHINE_EVENTS``, which the firmware's error and availability
   events write, so such an event is ordered against every system call but not
   against the config accesses inside one.  Unannounced shared kernel data (a field
   nobody has declared ``guarded_by``) is outside the model: a race on it is not
   found.
2. *A step is atomic*: its effect happens after the explorer lets it go and before
   the thread's next scheduling point, and the footprint names everything it reads
   and writes (a firmware instruction is atomic under the firmware's lock).
3. *Threads are deterministic*: the same choices give the same steps (a replay that
   diverges is reported as an explorer failure, never silently accepted).
4. *Release, signal and hand-off only order*: a blocking acquire of a lock that
   another thread holds cannot run before that thread's release, so a release is
   never tried before another thread's acquire; a trylock does race with the
   release it could have come before.
5. *Runs are finite*: a run longer than :attr:`Explorer.max_steps` is a failure
   ("runaway"), and a search stopped by ``max_runs`` is reported as stopped, not
   exhaustive.

Under these assumptions every Mazurkiewicz trace (class of interleavings equal up
to swapping adjacent independent steps) is run at least once, unless a preemption
bound is given (``preemption_bound``; ``None``, the default, means unbounded, which
is what the race scenarios use).  ``reduction=False`` turns the reduction off: every
runnable thread is tried at every step (a plain bounded search, for checking the
reduction on small races: both must reach the same outcomes).

After every run the scenario's ``check()`` runs (its end-state invariants), and at
every step its ``step_check()`` (invariants that must hold at all times).  A
deadlock (threads left, none runnable) is a failure too: its stuck threads are
unwound by raising :class:`Aborted` at their scheduling point.  Every run also
checks that lockdep reported nothing and no WARN fired.

Differences from the kernel's primitives, all on the side of simplicity: a waiting
writer does not hold back new readers of an rwsem (the explorer only lets a thread
start an operation that can complete), and the spinlock is a mutex, as in the rest
of this model.  While a run is explored the kernel's delays (``msleep``...) only
advance the simulated clock (:mod:`kernel.lib.delay`): their yield to other OS
threads has nothing to yield to (and costs an OS reschedule on a busy machine).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Final, Protocol

import attrs
import greenlet

from kernel.lib import bug, delay, lockdep, schedpoint
from kernel.lib.mutex import Mutex
from kernel.lib.rwsem import rw_semaphore
from kernel.lib.sched import Task, set_current, task_struct
from kernel.lib.spinlock import spinlock_t

__all__ = [
    "Aborted",
    "ExploreResult",
    "Explorer",
    "Failure",
    "RunResult",
    "Scenario",
    "format_schedule",
    "parse_schedule",
]


class Aborted(BaseException):
    """Raised at a scheduling point to unwind a thread of a deadlocked run."""


class Scenario(Protocol):
    """One run's worth of a race: made fresh for every run by a factory."""

    @property
    def name(self) -> str: ...

    def setup(self) -> None:
        """Boot the machine, open devices... (on the caller's thread, unscheduled)."""

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        """The threads to interleave: (name, body)."""

    def step_check(self) -> None:
        """Invariants that hold at every scheduling point; raise AssertionError."""

    def check(self) -> None:
        """End-state invariants of a completed run; raise AssertionError."""

    def teardown(self) -> None:
        """Close what setup opened (unscheduled).  After a run cut short the explorer
        first sets ``unwound = True`` on the scenario: work its threads left unfinished
        (events nobody will handle) is not to be waited for."""


@attrs.define
class Failure:
    """A failing run: what failed and the schedule that replays it."""

    kind: str  # "exception", "invariant", "deadlock", "lockdep", "runaway", "step"
    message: str
    schedule: list[str]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}\n  schedule: {format_schedule(self.schedule)}"


@attrs.define
class RunResult:
    schedule: list[str]
    failures: list[Failure]
    steps: int
    preemptions: int
    pruned: bool = False
    outcome: str = ""


@attrs.define
class ExploreResult:
    scenario: str
    runs: int
    failures: list[Failure]
    seconds: float
    complete: bool  # the search space was exhausted (not stopped at a failure or max_runs)
    max_steps_seen: int
    pruned: int = 0  # runs cut short by the sleep sets (not counted in ``runs``)
    outcomes: dict[str, int] = attrs.field(factory=dict)  # the scenario's ``outcome`` -> runs
    stopped: str = ""  # why the search ended early ("" when complete)

    @property
    def ok(self) -> bool:
        """Exhaustive and nothing failed."""
        return self.complete and not self.failures

    def __str__(self) -> str:
        state = (
            "exhaustive over the visible operations"
            if self.complete
            else f"STOPPED EARLY: {self.stopped}, not exhaustive"
        )
        return (
            f"{self.scenario}: {self.runs} schedules ({state}, {self.pruned} redundant runs cut short, "
            f"longest {self.max_steps_seen} steps), {len(self.failures)} failing, {self.seconds:.2f} s"
            + "".join(f"\n  {n:5d} x {o}" for o, n in sorted(self.outcomes.items()))
        )


def format_schedule(schedule: Sequence[str]) -> str:
    """``["a", "a", "b"]`` -> ``"a*2 b"``: the compact form a test can pin."""
    out: list[str] = []
    i = 0
    while i < len(schedule):
        j = i
        while j < len(schedule) and schedule[j] == schedule[i]:
            j += 1
        out.append(schedule[i] if j - i == 1 else f"{schedule[i]}*{j - i}")
        i = j
    return " ".join(out)


def parse_schedule(text: str) -> list[str]:
    """The inverse of :func:`format_schedule`."""
    out: list[str] = []
    for tok in text.split():
        name, _, n = tok.partition("*")
        out.extend([name] * (int(n) if n else 1))
    return out


#: (keys read, keys written) of one step; a key is ``id(obj)`` or ``(id(instance), field)``
_Footprint = tuple[frozenset[object], frozenset[object]]


def _key(obj: object) -> object:
    if type(obj) is tuple:
        return (id(obj[0]), obj[1])
    return id(obj)


def _footprint(op: str, obj: object) -> _Footprint:
    if op == schedpoint.SP_READ:
        return frozenset((_key(obj),)), frozenset()
    if op == schedpoint.SP_ACCESS and isinstance(obj, schedpoint.Access):
        return frozenset(map(_key, obj.reads)), frozenset(map(_key, obj.writes))
    return frozenset(), frozenset((_key(obj),))


def _dependent(a: _Footprint | None, b: _Footprint | None) -> bool:
    if a is None or b is None:
        return False
    return bool(a[1] & (b[0] | b[1]) or b[1] & a[0])


@attrs.define(eq=False)
class _Thread:
    index: int
    name: str
    body: Callable[[], None]
    task: task_struct
    op: str = "start"
    obj: object = None
    ready: Callable[[], bool] | None = None
    fp: _Footprint | None = None  # the next step's (reads, writes); None: the start
    done: bool = False
    abort: bool = False
    glet: greenlet.greenlet | None = None
    error: str | None = None


@attrs.define(eq=False)
class _Node:
    """The state before one step of the search: who could run, who was chosen, and
    the alternatives DPOR found necessary (``backtrack``) or already ran (``done``)."""

    enabled: frozenset[int]
    chosen: int
    backtrack: set[int]
    done: set[int]
    preemptions: int  # before this step
    sleep: frozenset[int] = frozenset()  # threads whose next operation was already tried
    fps: dict[int, _Footprint | None] = attrs.field(factory=dict)  # each live thread's next step


#: Operations that only order (a release orders the next acquire after it; a report
#: hand-off the wait for it; a signal any wait for it) and never need to be tried
#: before another operation: a blocking acquire of a lock another thread holds
#: cannot run before that thread's release anyway.  The acquisitions race with each
#: other; a trylock also races with the release it could have come before.
_ORDER_ONLY: Final = frozenset({schedpoint.SP_RELEASE, schedpoint.SP_HANDOFF, schedpoint.SP_SIGNAL})


def _is_enabled(t: _Thread) -> bool:
    op, obj = t.op, t.obj
    if op == schedpoint.SP_ACQUIRE:
        assert isinstance(obj, Mutex | spinlock_t)
        return obj.owner is None
    if op == schedpoint.SP_DOWN_READ:
        assert isinstance(obj, rw_semaphore)
        return obj._writer is None
    if op == schedpoint.SP_DOWN_WRITE:
        assert isinstance(obj, rw_semaphore)
        return obj._writer is None and not obj._readers
    if op == schedpoint.SP_WAIT:
        return t.ready is None or t.ready()
    return True


_LOCK_OPS: Final = frozenset({schedpoint.SP_ACQUIRE, schedpoint.SP_TRYLOCK, schedpoint.SP_RELEASE})


def _no_yield(ms: float) -> None:
    """The sleep hook of an explored run: the simulated clock advances, nothing else."""


def _holder(obj: object) -> str:
    if isinstance(obj, Mutex | spinlock_t):
        return obj.owner.name if obj.owner is not None else "nobody"
    if isinstance(obj, rw_semaphore):
        return obj._writer.name if obj._writer is not None else f"{len(obj._readers)} reader(s)"
    return "-"


def _describe(obj: object) -> str:
    return str(getattr(obj, "lockdep_class", None) or repr(obj))


class Explorer:
    """Explores the interleavings of ``factory()``'s threads.

    ``explore()`` enumerates them (DPOR), ``run(schedule)`` replays one schedule.
    ``max_steps`` bounds one run; ``max_runs`` bounds the search (``None``: no
    bound); ``preemption_bound`` bounds the preemptions of a run (``None``: none).
    """

    def __init__(
        self,
        factory: Callable[[], Scenario],
        *,
        max_steps: int = 2000,
        max_runs: int | None = None,
        preemption_bound: int | None = None,
        stop_on_failure: bool = True,
        reduction: bool = True,
        require_race: bool = True,
    ) -> None:
        self.factory = factory
        self.max_steps = max_steps
        self.max_runs = max_runs
        self.preemption_bound = preemption_bound
        self.stop_on_failure = stop_on_failure
        self.reduction = reduction
        self.require_race = require_race
        # per run
        self._threads: list[_Thread] = []
        self._by_glet: dict[greenlet.greenlet, _Thread] = {}
        self._hub: greenlet.greenlet | None = None  # where the explorer decides
        self._nodes: list[_Node] = []
        self._prefix: list[int] = []
        self._step = 0
        self._current: int | None = None
        self._preemptions = 0
        self._schedule: list[str] = []
        self._failures: list[Failure] = []
        self._aborting = False
        self._seen_locks: dict[int, object] = {}
        # DPOR bookkeeping: vector clocks per thread, per key the clock of its last
        # write and the join of the reads since; the last write (racing, and any), the
        # reads since it per thread; per event its clock and thread
        self._clock_thread: list[list[int]] = []
        self._clock_w: dict[object, list[int]] = {}
        self._clock_r: dict[object, list[int]] = {}
        self._last_w: dict[object, int] = {}
        self._last_any_w: dict[object, int] = {}
        self._reads: dict[object, dict[int, int]] = {}
        self._event_clock: list[list[int]] = []
        self._event_tid: list[int] = []
        self._sleep: frozenset[int] = frozenset()
        self._pruned = False
        self._scenario: Scenario | None = None
        self._atomic: frozenset[str] = frozenset()

    # -- the hook the kernel calls ----------------------------------------------------

    def point(self, op: str, obj: object, ready: Callable[[], bool] | None = None) -> None:
        t = self._by_glet.get(greenlet.getcurrent())
        if t is None:
            return  # not one of ours (setup, teardown, another OS thread)
        if t.abort:
            # unwinding a deadlocked run: let releases through, refuse to block again
            if op in (schedpoint.SP_RELEASE, schedpoint.SP_SIGNAL, schedpoint.SP_HANDOFF):
                return
            raise Aborted()
        if self._atomic and op in _LOCK_OPS and getattr(obj, "lockdep_class", None) in self._atomic:
            if op == schedpoint.SP_ACQUIRE and getattr(obj, "owner", None) is not None:
                self._fail("explorer", f"{t.name}: {_describe(obj)} is atomic in this race but held by "
                           f"{_holder(obj)} across a scheduling point")
                t.abort = True
                raise Aborted()
            return  # not a scheduling point of this race (the scenario's ATOMIC_LOCKS)
        t.op, t.obj, t.ready = op, obj, ready
        t.fp = _footprint(op, obj)
        if op in (schedpoint.SP_ACQUIRE, schedpoint.SP_DOWN_READ, schedpoint.SP_DOWN_WRITE):
            self._seen_locks[id(obj)] = obj
        assert self._hub is not None
        self._hub.switch()  # the explorer decides; back here when it is this thread's turn
        if t.abort:
            raise Aborted()

    # -- scheduling -----------------------------------------------------------------------

    def _decide(self) -> int | None:
        """The thread to run next (it has announced its next step, or not started);
        None when the run is over: finished, or aborted."""
        try:
            self._step_check()
            if self._step >= self.max_steps:
                self._fail("runaway", f"more than {self.max_steps} steps")
                self._abort_all()
                return None
            live = [t for t in self._threads if not t.done]
            enabled = frozenset(t.index for t in live if _is_enabled(t))
            if not live:
                return None
            if not enabled:
                waits = ", ".join(
                    f"{t.name} waits to {t.op} {_describe(t.obj)} (held by {_holder(t.obj)})" for t in live
                )
                self._fail("deadlock", waits)
                self._abort_all()
                return None
            if self.reduction:
                self._dpor_update(live)
            prev = self._current
            prev_enabled = prev is not None and prev in enabled
            if self._step < len(self._nodes):
                node = self._nodes[self._step]
                if node.enabled != enabled:
                    raise RuntimeError(
                        f"replay diverged at step {self._step}: runnable "
                        f"{sorted(self._threads[i].name for i in enabled)}, recorded "
                        f"{sorted(self._threads[i].name for i in node.enabled)} "
                        "(is the scenario deterministic?)"
                    )
                choice = node.chosen
            elif self._step < len(self._prefix):
                choice = self._prefix[self._step]
                if choice not in enabled:
                    raise RuntimeError(
                        f"schedule step {self._step}: {self._threads[choice].name} is not runnable "
                        f"(runnable: {sorted(self._threads[i].name for i in enabled)})"
                    )
                self._nodes.append(self._node(enabled, choice, live))
            else:
                awake = enabled - self._sleep
                if not awake:
                    # every runnable thread's next step was tried from an equivalent
                    # state already: the rest of this run is redundant
                    self._pruned = True
                    self._abort_all()
                    return None
                choice = prev if prev is not None and prev in awake else min(awake)
                self._nodes.append(self._node(enabled, choice, live))
            node = self._nodes[self._step]
            if self.reduction:
                cfp = node.fps.get(choice)
                self._sleep = frozenset(
                    t
                    for t in node.sleep | (node.done - {choice})
                    if t != choice and not _dependent(cfp, node.fps.get(t))
                )
            if prev_enabled and choice != prev:
                self._preemptions += 1
            self._execute(choice)
        except Exception as e:  # an explorer bug: fail the run, unwind its threads
            self._fail("explorer", "".join(traceback.format_exception(e)))
            self._abort_all()
            return None
        return choice

    def _node(self, enabled: frozenset[int], choice: int, live: list[_Thread]) -> _Node:
        fps = {t.index: t.fp for t in live}
        # without the reduction every runnable thread is tried at every step
        backtrack = {choice} if self.reduction else set(enabled)
        return _Node(enabled, choice, backtrack, {choice}, self._preemptions, self._sleep, fps)

    def _execute(self, choice: int) -> None:
        t = self._threads[choice]
        clock = self._clock_thread[choice]
        fp = t.fp
        if fp is not None and self.reduction:
            reads, writes = fp
            clock = list(clock)
            for k in reads:
                c = self._clock_w.get(k)
                if c is not None:
                    clock = [max(a, b) for a, b in zip(clock, c, strict=True)]
            for k in writes:
                for c in (self._clock_w.get(k), self._clock_r.get(k)):
                    if c is not None:
                        clock = [max(a, b) for a, b in zip(clock, c, strict=True)]
            clock[choice] = self._step + 1
            for k in reads:
                c = self._clock_r.get(k)
                self._clock_r[k] = clock if c is None else [max(a, b) for a, b in zip(c, clock, strict=True)]
                self._reads.setdefault(k, {})[choice] = self._step
            for k in writes:
                self._clock_w[k] = clock
                self._clock_r.pop(k, None)
                self._reads.pop(k, None)
                self._last_any_w[k] = self._step
                if t.op not in _ORDER_ONLY:
                    self._last_w[k] = self._step
        else:
            clock = list(clock)
            clock[choice] = self._step + 1
        self._clock_thread[choice] = clock
        self._event_clock.append(clock)
        self._event_tid.append(choice)
        self._schedule.append(t.name)
        self._current = choice
        self._step += 1

    def _dpor_update(self, live: list[_Thread]) -> None:
        """For each thread's next step, find the last step of another thread that it
        depends on and that does not happen-before it: the two race, so the state
        before that step must also try the other order."""
        for t in live:
            fp = t.fp
            if fp is None or t.op in _ORDER_ONLY:
                continue
            reads, writes = fp
            last_w = self._last_any_w if t.op == schedpoint.SP_TRYLOCK else self._last_w
            mine = self._clock_thread[t.index]
            best = -1
            for k in writes:
                j = last_w.get(k)
                if j is not None and j > best and self._races(j, t.index, mine):
                    best = j
                for j in self._reads.get(k, {}).values():
                    if j > best and self._races(j, t.index, mine):
                        best = j
            for k in reads:
                j = self._last_w.get(k)
                if j is not None and j > best and self._races(j, t.index, mine):
                    best = j
            if best < 0:
                continue
            node = self._nodes[best]
            if t.index in node.enabled:
                cand = {t.index}
            else:
                cand = set(node.enabled)
            if self.preemption_bound is not None:
                prev = self._event_tid[best - 1] if best > 0 else None
                bound = self.preemption_bound
                cand = {
                    c
                    for c in cand
                    if node.preemptions
                    + (1 if prev is not None and prev in node.enabled and c != prev else 0)
                    <= bound
                }
            node.backtrack |= cand

    def _races(self, j: int, tid: int, clock: list[int]) -> bool:
        """Step ``j`` is another thread's and does not happen-before ``tid``'s next."""
        q = self._event_tid[j]
        return q != tid and self._event_clock[j][q] > clock[q]

    def _step_check(self) -> None:
        if self._scenario is None:
            return
        try:
            self._scenario.step_check()
        except AssertionError as e:
            self._fail("step", str(e) or repr(e))

    def _fail(self, kind: str, message: str) -> None:
        self._failures.append(Failure(kind, message, list(self._schedule)))

    def _abort_all(self) -> None:
        self._aborting = True

    # -- one run ----------------------------------------------------------------------------

    def _body(self, t: _Thread) -> None:
        """A green thread's body: returns (to the explorer) when the thread is done."""
        set_current(t.task)
        try:
            if not t.abort:
                t.body()
        except Aborted:
            pass
        except BaseException as e:
            t.error = "".join(traceback.format_exception(e))
            self._fail("exception", f"{t.name}: {t.error}")
        finally:
            t.done = True
            if not t.abort and not self._aborting:
                self._current = t.index

    def _run(self) -> RunResult:
        scenario = self._scenario = self.factory()
        scenario.setup()
        self._atomic = frozenset(getattr(scenario, "ATOMIC_LOCKS", ()))
        self._threads = [
            _Thread(i, name, body, task_struct(name)) for i, (name, body) in enumerate(scenario.threads())
        ]
        n = len(self._threads)
        self._step = 0
        self._current = None
        self._preemptions = 0
        self._schedule = []
        self._failures = []
        self._aborting = False
        self._seen_locks = {}
        self._clock_thread = [[0] * n for _ in range(n)]
        self._clock_w = {}
        self._clock_r = {}
        self._last_w = {}
        self._last_any_w = {}
        self._reads = {}
        self._event_clock = []
        self._event_tid = []
        self._sleep = frozenset()
        self._pruned = False
        self._hub = greenlet.getcurrent()
        for t in self._threads:
            t.glet = greenlet.greenlet(lambda t=t: self._body(t), parent=self._hub)
            self._by_glet[t.glet] = t
        hook = delay.clock.sleep_hook
        delay.set_sleep_hook(_no_yield)
        schedpoint.sched_install(self)
        try:
            while (choice := self._decide()) is not None:
                glet = self._threads[choice].glet
                assert glet is not None
                glet.switch()  # runs the thread to its next scheduling point, or its end
            if self._aborting:
                self._unwind()
        finally:
            schedpoint.sched_remove(self)
            delay.set_sleep_hook(hook)
            self._by_glet.clear()
            self._hub = None
        if self._pruned:
            # a redundant run cut short: its threads were unwound half-way, so its end
            # state means nothing; the next run boots afresh
            lockdep.reports.clear()
            bug.warnings.clear()
            try:
                setattr(scenario, "unwound", True)  # noqa: B010 (not in the Scenario protocol)
                scenario.teardown()
            except Exception:  # the state of an unwound run
                pass
            self._scenario = None
            return RunResult(list(self._schedule), [], self._step, self._preemptions, pruned=True)
        if not self._failures:
            try:
                scenario.check()
            except AssertionError as e:
                self._fail("invariant", str(e) or repr(e))
        problems = [*lockdep.reports, *(f"WARN {w}" for w in bug.warnings)]
        if problems:
            self._fail("lockdep", "\n".join(problems))
            lockdep.reports.clear()
            bug.warnings.clear()
        outcome = str(getattr(scenario, "outcome", ""))
        try:
            scenario.teardown()
        finally:
            self._scenario = None
        return RunResult(
            list(self._schedule), list(self._failures), self._step, self._preemptions, outcome=outcome
        )

    def _unwind(self) -> None:
        """Unwind the threads of an aborted run one at a time, then free the locks
        they left held (code that takes a lock without a ``finally``)."""
        for t in self._threads:
            if not t.done:
                t.abort = True
                assert t.glet is not None
                t.glet.switch()  # raises Aborted at its scheduling point (or never starts it)
                if not t.glet.dead:
                    self._fail("explorer", f"{t.name} did not end when unwound")
        dead: set[Task] = {t.task for t in self._threads}
        for obj in self._seen_locks.values():
            if isinstance(obj, Mutex | spinlock_t) and obj.owner in dead:
                obj.owner = None
                obj._lock = threading.Lock()
            elif isinstance(obj, rw_semaphore):
                obj._readers = {k: v for k, v in obj._readers.items() if k not in dead}
                if obj._writer in dead:
                    obj._writer = None

    # -- the public entry points ------------------------------------------------------------

    def run(self, schedule: Sequence[str] | str = ()) -> RunResult:
        """Run once, following ``schedule`` (thread names, or the compact string of
        :func:`format_schedule`) as far as it goes."""
        names = parse_schedule(schedule) if isinstance(schedule, str) else list(schedule)
        probe = self.factory()
        index = {name: i for i, (name, _) in enumerate(probe.threads())}
        self._nodes = []
        self._prefix = [index[nm] for nm in names]
        return self._run()

    def explore(self) -> ExploreResult:
        """Enumerate the schedules (depth-first, DPOR-reduced unless ``reduction`` is
        off).  A race whose search finds one schedule only is a failure ("setup": its
        threads never interact, so it tests nothing) when ``require_race`` is set."""
        start = time.perf_counter()
        self._nodes = []
        self._prefix = []
        runs = 0
        pruned = 0
        outcomes: dict[str, int] = {}
        failures: list[Failure] = []
        longest = 0
        complete = False
        stopped = ""
        while True:
            result = self._run()
            if result.pruned:
                pruned += 1
            else:
                runs += 1
                if result.outcome:
                    outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            longest = max(longest, result.steps)
            failures.extend(result.failures)
            if result.failures and self.stop_on_failure:
                stopped = "stopped at the first failure"
                break
            if self.max_runs is not None and runs + pruned >= self.max_runs:
                stopped = f"run cap of {self.max_runs} reached"
                break
            # the deepest state with an alternative left
            i = len(self._nodes) - 1
            while i >= 0:
                node = self._nodes[i]
                todo = node.backtrack - node.done - node.sleep
                if todo:
                    alt = min(todo)
                    node.done.add(alt)
                    node.chosen = alt
                    del self._nodes[i + 1 :]
                    break
                i -= 1
            if i < 0:
                complete = True
                break
            self._prefix = []
        name = getattr(self.factory(), "name", "?")
        if complete and runs == 1 and self.require_race:
            failures.append(
                Failure(
                    "setup",
                    "one schedule only: the race's threads never touch a common object, so "
                    "there is no race to explore (a set-up error of the scenario)",
                    [],
                )
            )
        if any(f.kind == "runaway" for f in failures):
            stopped = stopped or f"a run exceeded the step cap of {self.max_steps}"
            complete = False
        return ExploreResult(
            name, runs, failures, time.perf_counter() - start, complete, longest, pruned, outcomes, stopped
        )
