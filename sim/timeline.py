"""The timeline of a scenario run: one step per thing that happened, who did it, and
what it was -- the readable account ``zpcisim run`` prints.

Actors: ``firmware`` (the zPCI machine), ``host`` (the host kernel: its log lines and
trace events), ``qemu`` (the VMM), ``guest`` (the guest's kernel and driver),
``user-driver`` (a plain userspace driver), ``admin`` (the host's administrator, who
writes to sysfs).  Kinds: ``log`` (a kernel log line, as
the kernel prints it), ``event`` (a firmware event), ``ioctl`` (a request, with its
name and result), ``irq`` (an eventfd signalled or read), ``clp`` (a CLP or
instruction call), ``reset``, ``close`` (a program closes a device file, recorded
as it starts so that what the kernel does on the close follows it), ``sysfs`` (a
write to a sysfs file, recorded the same way), ``note`` (the scenario's own
narration).

A program says who it is with :func:`acting_as`; what it does through the
userspace entry is then recorded under that actor.  Everything is recorded in one
:class:`Timeline`, installed as the current one with :func:`use`.

Steps are numbered from 1 in the order they are recorded.  A *minor* step -- a kernel
debug line, which only ``zpcisim run --verbose`` records -- is numbered as a sub-step
of the step before it (``23.1``, ``23.2``; ``seq`` 23 and ``sub`` 1, 2), so that the
other steps keep the numbers they have without it, and its line shows the kernel's
level (``<7>``).

Besides its steps, a timeline keeps a :class:`KernelReport` for each lockdep
report and WARN of the host kernel or of a guest kernel, in the order they came.
Their lines are also steps (kernel log lines); the reports are what
:func:`sim.scenarios.run_scenario` fails a run on.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final

import attrs

__all__ = [
    "ACTORS",
    "KINDS",
    "REPORT_KINDS",
    "KernelReport",
    "Step",
    "Timeline",
    "acting_as",
    "current",
    "current_actor",
    "use",
]

ACTORS: Final = ("firmware", "host", "qemu", "guest", "user-driver", "admin")
KINDS: Final = ("log", "event", "ioctl", "irq", "clp", "reset", "close", "sysfs", "note")
#: what a kernel reports that a run must not ignore
REPORT_KINDS: Final = ("lockdep", "warn")


@attrs.frozen
class Step:
    seq: int
    actor: str
    kind: str
    text: str
    request: str | None = None
    ret: int | None = None
    fields: dict[str, Any] = attrs.field(factory=dict)
    #: a minor step's number after the step it follows (``seq``); 0 for a step
    sub: int = 0
    #: where it is in its timeline (from 0), whatever its number
    index: int = attrs.field(default=0, eq=False, repr=False)

    @property
    def label(self) -> str:
        """Its number as printed: ``23``, or ``23.1`` for a minor step."""
        return f"{self.seq}.{self.sub}" if self.sub else str(self.seq)

    def as_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"seq": self.seq}
        if self.sub:
            d["sub"] = self.sub
        d.update(actor=self.actor, kind=self.kind, text=self.text)
        if self.request is not None:
            d["request"] = self.request
        if self.ret is not None:
            d["ret"] = self.ret
        d.update(self.fields)
        return d

    def line(self) -> str:
        """``  23  host        log    text``; a minor step ``23.1  host        log
        <7>text`` (a label longer than four columns takes one of the two spaces)."""
        label = self.label
        gap = " " * max(1, 6 - max(4, len(label)))
        text = self.text
        if self.sub and "level" in self.fields:
            text = f"<{self.fields['level']}>{text}"
        return f"{label:>4}{gap}{self.actor:<11} {self.kind:<6} {text}"


@attrs.frozen
class KernelReport:
    """A lockdep report (``kind`` ``"lockdep"``, ``text`` the whole report as
    :data:`kernel.lib.lockdep.reports` has it) or a WARN (``"warn"``, ``text`` as
    :data:`kernel.lib.bug.warnings` has it: ``file:line (function): message``) of the
    ``actor``'s kernel (``host`` or ``guest``)."""

    actor: str
    kind: str
    text: str

    def summary(self) -> str:
        """One line naming the report: ``the host kernel reported: possible circular
        locking dependency detected: T is trying to acquire lock B at ... but it
        already holds lock A, taken at ...``, or ``the guest kernel reported:
        WARNING: at file:line (function): message``."""
        if self.kind == "lockdep":
            head, *rest = self.text.splitlines() or [""]
            what = head.removeprefix("WARNING: ") + (": " + " ".join(rest[:2]) if rest else "")
        else:
            what = f"WARNING: at {self.text}"
        return f"the {self.actor} kernel reported: {what}"


class Timeline:
    """Thread-safe list of steps; subscribers see each step as it is recorded."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.steps: list[Step] = []
        self._subscribers: list[Callable[[Step], None]] = []
        #: the kernels' lockdep reports and WARNs during the run, in order
        self.reports: list[KernelReport] = []
        self._seq = 0
        self._sub = 0

    def record(
        self,
        actor: str,
        kind: str,
        text: str,
        *,
        request: str | None = None,
        ret: int | None = None,
        minor: bool = False,
        **fields: Any,
    ) -> Step:
        """Record a step (``minor``: a sub-step of the last step, module docstring)."""
        if actor not in ACTORS:
            raise ValueError(f"unknown actor {actor!r}")
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        with self._lock:
            if minor:
                self._sub += 1
            else:
                self._seq, self._sub = self._seq + 1, 0
            step = Step(self._seq, actor, kind, text, request, ret, dict(fields), self._sub, len(self.steps))
            self.steps.append(step)
            subscribers = tuple(self._subscribers)
        for fn in subscribers:
            fn(step)
        return step

    def report(self, actor: str, kind: str, text: str) -> KernelReport:
        """Keep a lockdep report or WARN of ``actor``'s kernel."""
        if actor not in ACTORS:
            raise ValueError(f"unknown actor {actor!r}")
        if kind not in REPORT_KINDS:
            raise ValueError(f"unknown report kind {kind!r}")
        rep = KernelReport(actor, kind, text)
        with self._lock:
            self.reports.append(rep)
        return rep

    def subscribe(self, fn: Callable[[Step], None]) -> None:
        with self._lock:
            self._subscribers.append(fn)

    def json_lines(self) -> list[str]:
        return [json.dumps(s.as_json(), sort_keys=False) for s in self.steps]

    def text(self) -> str:
        return "\n".join(s.line() for s in self.steps)


_current: contextvars.ContextVar[Timeline | None] = contextvars.ContextVar("timeline", default=None)
_actor: contextvars.ContextVar[str] = contextvars.ContextVar("actor", default="host")


def current() -> Timeline | None:
    """The timeline being recorded, if any."""
    return _current.get()


def current_actor() -> str:
    return _actor.get()


@contextlib.contextmanager
def use(timeline: Timeline) -> Iterator[Timeline]:
    token = _current.set(timeline)
    try:
        yield timeline
    finally:
        _current.reset(token)


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    if actor not in ACTORS:
        raise ValueError(f"unknown actor {actor!r}")
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)
