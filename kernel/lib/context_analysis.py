"""include/linux/compiler-context-analysis.h (``__guarded_by``, ``context_unsafe()``)
and ``data_race()`` of include/linux/compiler.h: guarded fields, checked at run time.

In C (clang's context analysis, Documentation/dev-tools/context-analysis.rst in the
kernel) a struct member declares the lock that protects it::

    struct mutex pending_errs_lock;
    struct zpci_ccdf_pending pending_errs __guarded_by(&pending_errs_lock);

and the compiler rejects a read or write of the member in a function that does not
hold the lock.  Here the same annotation sits next to the field of the ``attrs``
class, and the check runs at every access instead of at compile time::

    pending_errs_lock: Mutex = attrs.field(factory=lambda: Mutex("zdev->pending_errs_lock"))
    pending_errs: zpci_ccdf_pending = guarded_by("pending_errs_lock", factory=zpci_ccdf_pending)

with :func:`check_guarded` as the class's outer decorator (it puts a checking
descriptor in place of the attribute attrs made, slot or not).  The lock is named by
its attribute path from the instance (``"pending_errs_lock"``, or
``"vdev.dev_set.lock"`` for a lock reached through a pointer, as C writes
``__guarded_by(&vdev.dev_set->lock)``).

**The check** (a lockset check, as the kernel's lockdep checks lock order): every
read and every write of a guarded field made by kernel code (a function of a
``kernel.*`` module) of a *published* instance must hold the field's lock
(:func:`kernel.lib.lockdep.lock_is_held`).  A violation is a report of the same kind
as lockdep's: it goes to the log ring as "WARNING:" lines, to
:data:`kernel.lib.lockdep.reports` (which the test suite checks after every test and
a scenario run turns into an unmet expectation) and to the lockdep report
subscribers; each (field, access, site) is reported once per boot.  Its text::

    WARNING: guarded field accessed without its lock
    kmcheck reads zdev->pending_errs at kernel/s390/pci/pci_event.py:171 (zpci_get_pending_error)
    but zdev->pending_errs is __guarded_by(zdev->pending_errs_lock), which it does not hold (held: none)

**The escapes**, the ones C has:

* ``with data_race():`` -- an access that is meant to race (C: ``data_race()``
  around a ``READ_ONCE()``/``WRITE_ONCE()``; data_race() implies disabled context
  analysis since 3635ad878242 "compiler: Let data_race() imply disabled context
  analysis", git.kernel.org peterz/queue.git, branch locking/core).  Each use
  says, in a comment, why the race is benign.  ``with context_unsafe():`` is the
  same for code the analysis cannot follow (C: ``context_unsafe()``, which
  checkpatch wants commented too).
* *Before publication*: an instance starts private to the code that builds it; until
  :func:`publish` is called on it (where C makes it reachable: a list_add, a pointer
  stored in a shared structure) its fields are read and written freely, as a
  constructor's writes are.  An instance never published (one a test builds by hand)
  is never checked.
* Code outside ``kernel/`` -- the machine model, the tests, a scenario's invariants
  -- reads kernel state as a debugger would: unchecked, and invisible to the explorer.
  So do the methods attrs generates (``__repr__``, ``__init__``: their file name
  starts with ``<``).

**The explorer** (:mod:`kernel.lib.schedpoint`): with an explorer installed, every
checked access is a scheduling point, ``SP_READ`` or ``SP_WRITE`` of the pair
``(instance, field)``, made before the access; a field declared ``aggregate=True``
(a struct member whose sub-fields are written through the read of the member, as
``zdev->pending_errs.count++``) announces every access as a write.  Accesses under
the lock are ordered by the lock's own operations; the unlocked ones (``data_race()``)
are what makes these points matter: a reader that looks at ``zdev->fh`` without
``state_lock`` now races, visibly, with the writer that holds it.

Cost without an explorer: an access by kernel code to a published instance looks up
its frame's module, the lock, and the lock's owner (lockdep's held list for locks
that keep no owner): about twenty times a plain attribute (measured ~1 us against
~50 ns on a loaded machine); an access from outside ``kernel/`` or to an
unpublished instance, one set lookup.  Exists only in Python, apart from the names
it mirrors.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

import attrs

from kernel.lib import lockdep, schedpoint
from kernel.lib.bug import caller_where, format_where
from kernel.lib.sched import get_current

__all__ = [
    "GuardedField",
    "check_guarded",
    "context_unsafe",
    "data_race",
    "guarded_by",
    "guarded_fields",
    "is_published",
    "publish",
]

T = TypeVar("T")

#: the key of the metadata entry attrs keeps for a guarded field
_META: Final = "__guarded_by"

_tls = threading.local()
#: id() of every published instance; a finalizer drops it when the instance dies
_published_ids: set[int] = set()
_NO_OWNER: Final = object()
_getframe = sys._getframe
_reported: set[tuple[str, str, str]] = set()
_reported_generation = -1


def guarded_by(
    lock: str,
    *,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    aggregate: bool = False,
) -> Any:
    """``__guarded_by(&lock)``: an attrs field guarded by the lock at attribute path
    ``lock`` of the instance (``"state_lock"``, ``"vdev.dev_set.lock"``).
    ``aggregate``: the field is a struct written through reads of it (every access
    counts as a write for the explorer)."""
    meta = {_META: (lock, aggregate)}
    if factory is not None:
        return attrs.field(factory=factory, metadata=meta)
    return attrs.field(default=default, metadata=meta)


class GuardedField:
    """The descriptor :func:`check_guarded` puts in place of a guarded attribute;
    ``raw`` is what attrs made (a slot's member descriptor, or None for a dict
    attribute)."""

    __slots__ = ("aggregate", "field", "label", "lock", "path", "raw")

    def __init__(self, owner: str, field: str, lock: str, aggregate: bool, raw: Any) -> None:
        self.field = field
        self.lock = lock
        self.path = tuple(lock.split("."))
        self.aggregate = aggregate
        self.raw = raw
        self.label = f"{owner}->{field}"

    def lock_label(self, obj: object) -> str:
        lk = self.lock_of(obj)
        return str(getattr(lk, "lockdep_class", None) or self.lock)

    def lock_of(self, obj: object) -> object:
        for name in self.path:
            obj = getattr(obj, name)
        return obj

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        if id(obj) in _published_ids:
            f = _getframe(1)
            if f.f_globals.get("__name__", "").startswith("kernel.") and f.f_code.co_filename[0] != "<":
                _access(self, obj, self.aggregate)
        raw = self.raw
        return raw.__get__(obj, objtype) if raw is not None else obj.__dict__[self.field]

    def __set__(self, obj: object, value: Any) -> None:
        if id(obj) in _published_ids:
            f = _getframe(1)
            if f.f_globals.get("__name__", "").startswith("kernel.") and f.f_code.co_filename[0] != "<":
                _access(self, obj, True)
        raw = self.raw
        if raw is not None:
            raw.__set__(obj, value)
        else:
            obj.__dict__[self.field] = value


def _access(f: GuardedField, obj: object, write: bool) -> None:
    """The check and the scheduling point of one access by kernel code to a published
    instance.  A mutex or spinlock knows its owner; other locks ask lockdep."""
    lk = obj
    for name in f.path:
        lk = getattr(lk, name)
    owner = getattr(lk, "owner", _NO_OWNER)
    held = owner is get_current() if owner is not _NO_OWNER else lockdep.lock_is_held(lk)
    if not held and not getattr(_tls, "unsafe", 0):
        _report(f, obj, write)
    if schedpoint.active is not None:
        schedpoint.active.point(schedpoint.SP_WRITE if write else schedpoint.SP_READ, (obj, f.field))


def _report(f: GuardedField, obj: object, write: bool) -> None:
    global _reported_generation
    where = caller_where(3)  # the accessor: above _access, the descriptor, this
    site = format_where(where)
    verb = "writes" if write else "reads"
    gen = lockdep.lockdep_generation()
    if gen != _reported_generation:
        _reported.clear()
        _reported_generation = gen
    key = (f.label, verb, site)
    if key in _reported:
        return
    _reported.add(key)
    held = lockdep.lockdep_held_classes()
    lockdep.lockdep_report(
        "\n".join(
            [
                "WARNING: guarded field accessed without its lock",
                f"{get_current().name} {verb} {f.label} at {site}",
                f"but {f.label} is __guarded_by({f.lock_label(obj)}), which it does not hold "
                f"(held: {', '.join(held) if held else 'none'})",
            ]
        )
    )


def guarded_fields(cls: type) -> dict[str, GuardedField]:
    """The guarded fields of a class checked by :func:`check_guarded`."""
    return {
        name: v
        for klass in reversed(cls.__mro__)
        for name, v in vars(klass).items()
        if isinstance(v, GuardedField)
    }


def check_guarded(cls: type[T]) -> type[T]:
    """Class decorator, outside ``@attrs.define``: put a :class:`GuardedField` in
    place of every attribute declared with :func:`guarded_by`.  The struct's C name
    in reports is the class's ``c_label`` (``"zdev"``), else its name."""
    owner = str(getattr(cls, "c_label", cls.__name__))
    for a in attrs.fields(cast(Any, cls)):
        spec = a.metadata.get(_META)
        if spec is None:
            continue
        lock, aggregate = spec
        raw = vars(cls).get(a.name)  # the slot's member descriptor (None: a dict class)
        setattr(cls, a.name, GuardedField(owner, a.name, lock, aggregate, raw))
    return cls


def publish(obj: object) -> None:
    """``obj`` becomes reachable by other threads: from now on its guarded fields are
    checked.  C has no call here: this marks the line that publishes it (a list_add,
    a pointer stored where others find it).  Exists only in Python."""
    if id(obj) not in _published_ids:
        _published_ids.add(id(obj))
        weakref.finalize(obj, _published_ids.discard, id(obj))


def is_published(obj: object) -> bool:
    return id(obj) in _published_ids


class _Unsafe:
    """The context manager of :func:`data_race` and :func:`context_unsafe`."""

    __slots__ = ()

    def __enter__(self) -> None:
        _tls.unsafe = getattr(_tls, "unsafe", 0) + 1

    def __exit__(self, *exc: object) -> None:
        _tls.unsafe -= 1


_UNSAFE: Final = _Unsafe()


def data_race() -> _Unsafe:
    """``data_race(READ_ONCE(x))``: ``with data_race():`` around accesses that race on
    purpose.  They are not reported; with an explorer installed they are still
    scheduling points (they are exactly the racing ones)."""
    return _UNSAFE


def context_unsafe() -> _Unsafe:
    """``context_unsafe(...)``: ``with context_unsafe():`` around accesses whose lock
    the analysis cannot see held.  As :func:`data_race`."""
    return _UNSAFE
