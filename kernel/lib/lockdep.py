"""include/linux/lockdep.h: the lock validator, reduced to what this project needs.

Every lock belongs to a *class*, named after the C expression that declares it
(``"zdev->state_lock"``, ``"pci_slot_mutex"``): all ``state_lock`` mutexes of all
``zpci_dev`` share one class, as in lockdep.  Each acquisition while other locks are
held records the edges "held A, then took B" with the two acquisition sites.  When an
edge closes a cycle in that graph (A -> B somewhere, B -> A elsewhere), the report
names both orders and where each was taken; the report goes to the log ring, to
:data:`reports`, which the test suite checks after every test, and to every function
given to :func:`lockdep_report_subscribe` (a guest kernel forwards its reports to its
VMM that way).

A boot forgets the lock graph but not :data:`reports`: a test or a run that boots a
second kernel must still see what the first one reported.  Whoever checks the
reports clears them (the test suite after each test).

Misuse that the kernel would splat on is raised at once as
:class:`~kernel.lib.bug.KernelBug`: taking a lock this thread already holds (the
locks are not recursive), or releasing a lock this thread does not hold.

Two simplifications, both on the side of fewer false reports: nesting two locks of
the *same* class (``pci_slot_lock()`` takes the device locks of several functions in
turn, which lockdep allows through nesting annotations) records no edge; and a
``trylock`` records no edge into the lock it tried, since it cannot block.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Final, Protocol

import attrs

from kernel.lib.bug import KernelBug, Where, caller_site, caller_where, format_where
from kernel.lib.printk import KERN_WARNING, printk
from kernel.lib.sched import get_current, task_storage

__all__ = [
    "LockdepMap",
    "lock_acquire",
    "lock_release",
    "lock_is_held",
    "lockdep_edges",
    "lockdep_generation",
    "lockdep_held_classes",
    "lockdep_report",
    "lockdep_report_subscribe",
    "lockdep_report_unsubscribe",
    "lockdep_reset",
    "reports",
]


class LockdepMap(Protocol):
    """What lockdep needs of a lock: the name of its class."""

    @property
    def lockdep_class(self) -> str: ...


@attrs.frozen
class Edge:
    """``held`` was held (taken at ``held_site``) when ``taken`` was taken at ``taken_site``."""

    held: str
    taken: str
    held_site: str
    taken_site: str


@attrs.define
class _Held:
    lock: object
    where: Where
    read: bool

    @property
    def site(self) -> str:
        return format_where(self.where)


_graph_lock: Final = threading.Lock()
_edges: dict[tuple[str, str], Edge] = {}
_succ: dict[str, set[str]] = {}
#: Every circular-dependency report since the last clear (a boot does not clear it).
reports: list[str] = []
_report_subscribers: list[Callable[[str], None]] = []
_generation = 0


def _held() -> list[_Held]:
    store = task_storage()
    held: list[_Held] | None = getattr(store, "lockdep_held", None)
    if held is None or getattr(store, "lockdep_generation", -1) != _generation:
        held = []
        store.lockdep_held = held  # type: ignore[attr-defined]
        store.lockdep_generation = _generation  # type: ignore[attr-defined]
    return held


def lockdep_reset() -> None:
    """Forget every edge and held lock (boot), but not the :data:`reports`.  Exists
    only in Python."""
    global _generation
    with _graph_lock:
        _edges.clear()
        _succ.clear()
        _generation += 1


def lockdep_report_subscribe(fn: Callable[[str], None]) -> None:
    """Call ``fn`` with each report, after its lines went to the log ring.  Survives
    a boot.  Exists only in Python."""
    with _graph_lock:
        _report_subscribers.append(fn)


def lockdep_report_unsubscribe(fn: Callable[[str], None]) -> None:
    with _graph_lock:
        if fn in _report_subscribers:
            _report_subscribers.remove(fn)


def lockdep_generation() -> int:
    """Counts boots (each :func:`lockdep_reset`).  Exists only in Python."""
    return _generation


def lockdep_held_classes() -> list[str]:
    """The classes of the locks this thread holds, in the order it took them."""
    return [str(getattr(h.lock, "lockdep_class", h.lock)) for h in _held()]


def lockdep_report(report: str) -> None:
    """Record a report made by another checker of this family (a guarded field read
    without its lock, :mod:`kernel.lib.context_analysis`): to the log ring as
    warnings, to :data:`reports`, and to the subscribers.  Exists only in Python."""
    with _graph_lock:
        reports.append(report)
        subscribers = tuple(_report_subscribers)
    for line in report.splitlines():
        printk(KERN_WARNING, "%s", line)
    for fn in subscribers:
        fn(report)


def lockdep_edges() -> list[Edge]:
    with _graph_lock:
        return list(_edges.values())


def _path(src: str, dst: str) -> list[str] | None:
    """A path of classes src -> ... -> dst in the dependency graph, if any."""
    stack: list[tuple[str, list[str]]] = [(src, [src])]
    seen = {src}
    while stack:
        node, path = stack.pop()
        if node == dst:
            return path
        for nxt in _succ.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def _add_edge(held: _Held, cls: str, where: Where) -> None:
    a = getattr(held.lock, "lockdep_class")  # noqa: B009 - protocol attribute
    if a == cls:
        return
    key = (a, cls)
    if key in _edges:  # fast path, read without the graph lock: dict lookups are atomic
        return
    report: str | None = None
    subscribers: tuple[Callable[[str], None], ...] = ()
    with _graph_lock:
        if key in _edges:
            return
        site = format_where(where)
        new = Edge(a, cls, held.site, site)
        back = _path(cls, a)
        _edges[key] = new
        _succ.setdefault(a, set()).add(cls)
        if back is not None:
            lines = [
                "WARNING: possible circular locking dependency detected",
                f"{get_current().name} is trying to acquire lock {cls} at {site}",
                f"but it already holds lock {a}, taken at {held.site}",
                "which lock already depends on the new lock, in the other order:",
            ]
            for x, y in itertools.pairwise(back):
                e = _edges[(x, y)]
                lines.append(f"  {x} (taken at {e.held_site}) -> {y} (taken at {e.taken_site})")
            report = "\n".join(lines)
            reports.append(report)
            subscribers = tuple(_report_subscribers)
    if report is not None:
        for line in report.splitlines():
            printk(KERN_WARNING, "%s", line)
        for fn in subscribers:
            fn(report)


def lock_acquire(lock: LockdepMap, trylock: bool = False, read: bool = False) -> None:
    """Called by a lock primitive *before* it blocks on ``lock``."""
    held = _held()
    for h in held:
        if h.lock is lock:
            raise KernelBug(
                f"possible recursive locking detected: {lock.lockdep_class} taken at "
                f"{caller_site(1)} is already held by this thread (taken at {h.site})"
            )
    where = caller_where(1)
    if not trylock:
        for h in held:
            _add_edge(h, lock.lockdep_class, where)
    held.append(_Held(lock, where, read))


def lock_acquire_failed(lock: LockdepMap) -> None:
    """A trylock that did not get the lock: undo :func:`lock_acquire`."""
    held = _held()
    for i in range(len(held) - 1, -1, -1):
        if held[i].lock is lock:
            del held[i]
            return


def lock_release(lock: LockdepMap) -> None:
    held = _held()
    for i in range(len(held) - 1, -1, -1):
        if held[i].lock is lock:
            del held[i]
            return
    raise KernelBug(
        f"bad unlock balance detected: {lock.lockdep_class} released at {caller_site(1)} "
        f"but not held by {get_current().name}"
    )


def lock_is_held(lock: object) -> bool:
    return any(h.lock is lock for h in _held())
