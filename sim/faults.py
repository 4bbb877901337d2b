"""Faults a test injects into a kernel's reset path, to check that what the kernel then
reports -- a lockdep report, a WARN -- fails the run.  For tests only: a normal run
installs none.

Each fault wraps ``zpci_hot_reset_device()`` as ``zpci_event_do_reset()`` calls it
(arch/s390/pci/pci_event.c), the reset a driver's NEED_RESET leads to: the host's own
recovery (``host-recovery``) and the guest's (``passthrough-kvm``) both go through it.

``abba-reset``
    before the reset, take ``pci_bus_sem`` (read) and then ``pci_slot_mutex``: the
    reverse of the order ``pci_create_slot()`` takes them in, so lockdep reports a
    possible circular locking dependency the first time the reset runs.
``warn-reset``
    ``WARN(1, "fault injected into the reset path")`` before the reset.

The host kernel runs in the test's process: a test installs a fault there with
``monkeypatch.setattr(pci_event, "zpci_hot_reset_device", abba_reset(...))`` or
:func:`install`.  A guest kernel runs in its own process, out of a monkeypatch's
reach: a test sets :data:`ENV` in the environment (``ZPCISIM_GUEST_FAULTS=abba-reset``,
several names separated by commas), the guest's process inherits it
(:class:`sim.guest.process.GuestProcess` passes the environment on), and the guest
installs the named faults (:func:`install_from_env`) before it boots its kernel.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Final

from kernel.lib.bug import WARN
from kernel.lib.mutex import mutex_lock, mutex_unlock
from kernel.lib.rwsem import down_read, up_read
from kernel.s390.include.asm.pci import zpci_dev

__all__ = ["ENV", "FAULTS", "Reset", "abba_reset", "install", "install_from_env", "warn_reset"]

#: The environment variable a guest reads its faults from.
ENV: Final = "ZPCISIM_GUEST_FAULTS"

Reset = Callable[[zpci_dev], int]


def abba_reset(reset: Reset) -> Reset:
    """``reset`` after taking ``pci_bus_sem`` then ``pci_slot_mutex``."""
    from kernel.pci.search import pci_bus_sem
    from kernel.pci.slot import pci_slot_mutex

    def zpci_hot_reset_device(zdev: zpci_dev) -> int:
        down_read(pci_bus_sem)
        mutex_lock(pci_slot_mutex)
        mutex_unlock(pci_slot_mutex)
        up_read(pci_bus_sem)
        return reset(zdev)

    return zpci_hot_reset_device


def warn_reset(reset: Reset) -> Reset:
    """``reset`` after a WARN."""

    def zpci_hot_reset_device(zdev: zpci_dev) -> int:
        WARN(True, "fault injected into the reset path")
        return reset(zdev)

    return zpci_hot_reset_device


FAULTS: Final[dict[str, Callable[[Reset], Reset]]] = {"abba-reset": abba_reset, "warn-reset": warn_reset}


def install(name: str) -> Callable[[], None]:
    """Install fault ``name`` in this process's kernel; returns what takes it out."""
    from kernel.s390.pci import pci_event

    wrap = FAULTS.get(name)
    if wrap is None:
        raise ValueError(f"unknown fault {name!r}; faults: {', '.join(FAULTS)}")
    orig: Reset = getattr(pci_event, "zpci_hot_reset_device")  # noqa: B009 - imported, not exported
    setattr(pci_event, "zpci_hot_reset_device", wrap(orig))  # noqa: B010

    def remove() -> None:
        setattr(pci_event, "zpci_hot_reset_device", orig)  # noqa: B010

    return remove


def install_from_env(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Install the faults :data:`ENV` names; their names.  ``ValueError`` for an
    unknown name, before any is installed."""
    names = [n.strip() for n in environ.get(ENV, "").split(",") if n.strip()]
    for name in names:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; faults: {', '.join(FAULTS)}")
    for name in names:
        install(name)
    return names
