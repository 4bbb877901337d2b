"""include/linux/init.h: initcalls, and the static initialisers a reboot re-runs.

One kernel runs per Python process and its state lives in module globals, as in C.
A module registers what must run at boot:

* :func:`static_init` for the values C lays into ``.data`` at compile time
  (``static DEFINE_MUTEX(pci_slot_mutex)``, ``static LIST_HEAD(zpci_list)``): Python
  needs them re-made when the kernel boots again in the same process, which the C
  never does;
  A static initialiser re-initialises the state **in place** (``init_rwsem(sem)``,
  ``mutex_init(m)``, ``some_list.clear()``) and never rebinds the module global:
  other modules hold the same object through ``from ... import name``;
* the ``*_initcall`` decorators for the kernel's initcalls, run in level order
  (core, postcore, arch, subsys, fs, device, late), each level in registration order.

:func:`kernel.init.main.start_kernel` runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeVar

__all__ = [
    "arch_initcall",
    "core_initcall",
    "device_initcall",
    "fs_initcall",
    "late_initcall",
    "module_init",
    "postcore_initcall",
    "run_initcalls",
    "static_init",
    "subsys_initcall",
]

F = TypeVar("F", bound=Callable[[], object])

STATIC: Final = -1
LEVELS: Final = ("core", "postcore", "arch", "subsys", "fs", "device", "late")

_calls: list[tuple[int, int, Callable[[], object]]] = []


def _register(level: int, fn: F) -> F:
    key = (fn.__module__, fn.__qualname__)
    for i, (_, _, old) in enumerate(_calls):
        if (old.__module__, old.__qualname__) == key:  # a module reloaded
            _calls[i] = (level, i, fn)
            return fn
    _calls.append((level, len(_calls), fn))
    return fn


def static_init(fn: F) -> F:
    return _register(STATIC, fn)


def core_initcall(fn: F) -> F:
    return _register(0, fn)


def postcore_initcall(fn: F) -> F:
    return _register(1, fn)


def arch_initcall(fn: F) -> F:
    return _register(2, fn)


def subsys_initcall(fn: F) -> F:
    return _register(3, fn)


def fs_initcall(fn: F) -> F:
    return _register(4, fn)


def device_initcall(fn: F) -> F:
    return _register(5, fn)


module_init = device_initcall


def late_initcall(fn: F) -> F:
    return _register(6, fn)


def run_initcalls() -> list[tuple[str, object]]:
    """Run every registered call in order; returns (name, result) of each."""
    results = []
    for _level, _order, fn in sorted(_calls, key=lambda c: (c[0], c[1])):
        results.append((f"{fn.__module__}.{fn.__qualname__}", fn()))
    return results
