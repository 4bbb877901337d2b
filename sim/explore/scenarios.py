"""The races the v17 review argued about, as scenarios for the schedule explorer.

Each scenario boots a zPCI machine with one function (fid 0x10) bound to vfio-pci,
sets the stage unscheduled (open, register the error eventfd), then names the
threads the explorer interleaves and the invariants every run must satisfy.  The
threads are the actors of the real system: ``fw`` (the firmware raising an error
event: it queues the event and hands a channel report to kmcheck), ``kmcheck`` (the
kernel's event thread: ``zpci_event_error()`` and the recovery path), and userspace
threads that call ``ioctl``/``close`` through :mod:`sim.userspace.syscalls`.

* :class:`ErrorVsClose` -- an error arriving while userspace closes the device
  (v18 review, <20260603162006.27b78de5@shazbot.org>: "there's always a race that an
  error could occur as the user is closing"): every record stored is delivered to userspace before close or
  counted in the "Unhandled PCI error events count=N" line, and cleared; after close
  nothing stays queued; an event is either left to userspace (stored) or recovered
  by the host, never both (v15 race analysis,
  <6dd6de60d72a70ff85ecab2a9d14f45a617f05e7.camel@linux.ibm.com>).
* :class:`TwoReaders` -- two userspace threads draining with GET while firmware
  stores three records: every record is returned at most once, each reader sees
  them in FIFO order, ``count == (tail - head) & 0xff`` and ``count <= 4`` at every
  scheduling point where the queue lock is free, and nothing is lost.
* :class:`ResetVsEvent` -- ``VFIO_DEVICE_RESET`` while the host handles an event
  under ``zdev->state_lock``: the reset returns 0, -EAGAIN (``pci_dev_trylock()``
  failed: the recovery holds the device lock) or -EIO (``reset_slot()``'s
  ``mutex_trylock(&zdev->state_lock)`` failed), never deadlocks, and the kernel's
  view of the function (handle, enabled) matches the firmware's at the end.
* :class:`OpenVsError` -- the device being opened (mediated recovery starting)
  while an error is handled: the outcome is one the v15 race analysis allows: the
  open fails with -EAGAIN (its reset could not take the device lock held by the
  recovery) or -EIO (it read the config space while the firmware blocked it) and
  the host recovers; or the open succeeds and the event is either
  recovered by the host (it came first) or stored for userspace (then it reaches the
  new opener); or the event is ignored as stale because the open's reset
  re-issued the function handle.  Never stored *and* host-recovered.
* :class:`ResetDoneVsClose` -- a reset through the PCI core (sysfs ``reset``)
  while the device is closed: v17 6/7's ``reset_done`` reads the open-time state
  that the close frees (Message-ID
  <9fa7db8b-704d-46af-a68d-bc61e85ad4b4@linux.ibm.com>).  A use after free on v17,
  which the explorer is expected to find; gone as merged (no ``reset_done``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import uapi.linux.vfio as V
from kernel.include.linux.vfio_pci_core import vfio_pci_core_device
from kernel.lib import schedpoint
from kernel.lib.device import dev_get_drvdata
from kernel.lib.printk import LogLine, dmesg, klog_subscribe, klog_unsubscribe
from kernel.lib.sched import get_current
from kernel.pci.pci import pci_reset_function, pci_saved_state
from kernel.s390.cio.chsc import kmcheck_explored
from kernel.vfio.pci.vfio_pci_core import vfio_pci_core_err_handlers
from sim.explore.explorer import Scenario
from sim.host import Host, pdev_of, zdev_of
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from sim.userspace.zpci_err import (
    ZpciErrorRecord,
    ZpciErrReader,
    reader_for,
)

__all__ = [
    "FID",
    "SCENARIOS",
    "ErrorVsClose",
    "OpenVsError",
    "ResetDoneVsClose",
    "StaleMediatedRecovery",
    "ResetVsEvent",
    "TwoReaders",
    "get_error",
    "zpci_err_reader",
    "log_lines",
]

FID = 0x10

LEAVING = re.compile(r"^zpci: \S+: Leaving recovery of pass-through device to user-space$")
UNHANDLED = re.compile(r"^zpci: Unhandled PCI error events count=(\d+) for PCI function 0x10$")
HOST_RECOVERY = re.compile(r"^zpci: \S+: (Unblocking device access for examination|Initiating reset)$")


def log_lines(pattern: re.Pattern[str]) -> list[re.Match[str]]:
    return [m for line in dmesg() if (m := pattern.match(line.text))]


def zpci_err_reader(fd: int) -> ZpciErrReader:
    """What a program does once after opening the device, to read error records on
    whichever uAPI the kernel has (:func:`sim.userspace.zpci_err.reader_for`)."""
    return reader_for(fd)


def get_error(reader: ZpciErrReader) -> tuple[int, ZpciErrorRecord | None]:
    """VFIO_DEVICE_FEATURE GET of VFIO_DEVICE_FEATURE_ZPCI_ERROR: (0, record) or
    (errno, None)."""
    try:
        rec = reader.get()
    except OSError as e:
        assert e.errno is not None
        return e.errno, None
    return (0, rec) if rec is not None else (errno.ENOMSG, None)


class _Machine:
    """Shared set-up: a booted host, the function bound to vfio-pci, kmcheck handed
    to the explorer; ``bind=True`` opens the device (iommufd bind) and registers an
    eventfd as its error trigger."""

    name: ClassVar[str] = "?"
    bind: ClassVar[bool] = True
    #: PCI load/store of config space are scheduling points (sim.zpci.firmware): off
    #: by default, because every position of a firmware state change among the
    #: config accesses of the other threads is then its own trace (thousands per
    #: race); ``python -m sim.explore --load-store`` turns it on
    LOAD_STORE: ClassVar[bool] = False
    #: set by the explorer before teardown() of a run it unwound half-way
    unwound: bool = False

    def __init__(self) -> None:
        self.fds: list[int] = []
        self.efd = -1
        self.fd = -1
        self.iommufd = -1

    def setup(self) -> None:
        self.host = Host.boot({FID: PciFunction(0x1AF4, 0x1041)})
        self.path = self.host.bind_vfio_pci(FID)
        self.iommufd = syscalls.open("/dev/iommu")
        self.fd = syscalls.open(self.path)
        self.fds = [self.fd, self.iommufd]
        if self.bind:
            self.bind_device()
            self.efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            irq = bytearray(ctypes.sizeof(V.vfio_irq_set) + 4)
            struct.pack_into(
                ">IIIIIi",
                irq,
                0,
                len(irq),
                V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER,
                V.VFIO_PCI_ERR_IRQ_INDEX,
                0,
                1,
                self.efd,
            )
            syscalls.ioctl(self.fd, V.VFIO_DEVICE_SET_IRQS, irq)
            self.reader = zpci_err_reader(self.fd)
        self.zdev = zdev_of(FID)
        self.kmcheck = kmcheck_explored()
        self.event_fh: int | None = None
        self.host.fw.listeners.append(self._record_event_fh)
        self.host.fw.visible_load_store = self.LOAD_STORE

    def _record_event_fh(self, what: str, fields: dict[str, Any]) -> None:
        """A firmware listener: the handle the error event carries, taken atomically
        with the injection."""
        if what == "error" and fields["fid"] == FID:
            self.event_fh = fields["fh"]

    def bind_device(self) -> None:
        b = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=self.iommufd)
        syscalls.ioctl(self.fd, V.VFIO_DEVICE_BIND_IOMMUFD, b)

    def close_device(self) -> None:
        self.fds.remove(self.fd)
        syscalls.close(self.fd)

    def inject(self, faddr: int = 0x1000) -> Callable[[], None]:
        def fw() -> None:
            self.host.fw.inject_error(FID, pec=0x003A, faddr=faddr)

        return fw

    def step_check(self) -> None:
        """The queue invariants, whenever nobody is inside the queue's lock."""
        zdev = getattr(self, "zdev", None)
        if zdev is None or zdev.pending_errs_lock.owner is not None:
            return
        pe = zdev.pending_errs
        assert pe.count == (pe.tail - pe.head) & 0xFF, f"count {pe.count} != tail {pe.tail} - head {pe.head}"
        assert pe.count <= 4, f"count {pe.count} > ZPCI_ERR_PENDING_MAX"

    def stale(self) -> bool:
        """The event's handle is no longer the function's: a reset re-issued it
        before kmcheck looked (``__zpci_event_error()`` ignores such events)."""
        return self.event_fh is not None and self.event_fh != self.zdev.fh

    def check_consistent(self) -> None:
        """The kernel's view of the function matches the firmware's."""
        fn = self.host.fw.function(FID)
        assert self.zdev.fh == fn.fh, f"zdev->fh {self.zdev.fh:#x} but firmware fh {fn.fh:#x}"

    def teardown(self) -> None:
        for fd in reversed(self.fds):
            try:
                syscalls.close(fd)
            except OSError:
                pass
        if self.efd >= 0:
            os.close(self.efd)
        # a run the explorer unwound half-way leaves events its kmcheck never handles
        self.host.shutdown(wait=not self.unwound)


class ErrorVsClose(_Machine):
    """Firmware error vs. close of the vfio device (the user GETs once, then closes)."""

    name = "error-vs-close"

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        self.delivered: list[int] = []

        def user() -> None:
            rc, rec = get_error(self.reader)
            assert rc in (0, errno.ENOMSG), f"GET: {errno.errorcode.get(rc, rc)}"
            if rec is not None:
                self.delivered.append(rec.faddr)
            self.close_device()

        return [("fw", self.inject()), ("kmcheck", lambda: self.kmcheck(1)), ("user", user)]

    def check(self) -> None:
        stored = len(log_lines(LEAVING))
        unhandled = sum(int(m.group(1)) for m in log_lines(UNHANDLED))
        host = len(log_lines(HOST_RECOVERY))
        pe = self.zdev.pending_errs
        assert stored == len(self.delivered) + unhandled, (
            f"{stored} stored, {len(self.delivered)} delivered, {unhandled} counted at close"
        )
        assert pe.count == 0 and pe.head == 0 and pe.tail == 0, "records left queued after close"
        assert not pe.mediated_recovery, "mediated recovery still on after close"
        assert stored + (1 if host else 0) <= 1, f"stored {stored} and recovered by the host {host}"
        if not stored and not host:
            assert self.stale(), "the event was neither stored, recovered by the host, nor stale"
        assert self.delivered in ([], [0x1000])
        self.outcome = (
            ("stored, delivered" if self.delivered else "stored, counted at close")
            if stored
            else ("recovered by the host" if host else "ignored: stale handle")
        )


class TwoReaders(_Machine):
    """Two userspace readers draining with GET (twice each) while ``EVENTS`` records
    arrive (2 by default: every order of two stores against four GETs; 3 is 8x the
    schedules)."""

    name = "two-readers"
    EVENTS: ClassVar[int] = 2

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        self.seen: dict[str, list[int]] = {"reader1": [], "reader2": []}

        def fw() -> None:
            for i in range(1, self.EVENTS + 1):
                self.host.fw.inject_error(FID, pec=0x003A, faddr=i)

        def reader(name: str) -> Callable[[], None]:
            def body() -> None:
                for _ in range(2):
                    rc, rec = get_error(self.reader)
                    assert rc in (0, errno.ENOMSG), f"GET: {errno.errorcode.get(rc, rc)}"
                    if rec is not None:
                        self.seen[name].append(rec.faddr)

            return body

        return [
            ("fw", fw),
            ("kmcheck", lambda: self.kmcheck(self.EVENTS)),
            ("reader1", reader("reader1")),
            ("reader2", reader("reader2")),
        ]

    def check(self) -> None:
        got = self.seen["reader1"] + self.seen["reader2"]
        assert len(got) == len(set(got)), f"a record was returned twice: {self.seen}"
        for name, recs in self.seen.items():
            assert recs == sorted(recs), f"{name} saw records out of order: {recs}"
        pe = self.zdev.pending_errs
        queued = [pe.err[(pe.head + i) % 4].faddr for i in range(pe.count)]
        assert sorted(got + queued) == list(range(1, self.EVENTS + 1)), (
            f"delivered {self.seen}, queued {queued}: records lost or invented"
        )
        assert queued == sorted(queued)
        assert len(log_lines(LEAVING)) == self.EVENTS
        self.outcome = f"reader1 {self.seen['reader1']} reader2 {self.seen['reader2']} queued {queued}"


class ResetVsEvent(_Machine):
    """VFIO_DEVICE_RESET while kmcheck handles an error event."""

    name = "reset-vs-event"
    ALLOWED: ClassVar[frozenset[int]] = frozenset({0, errno.EAGAIN, errno.EIO})

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        self.rc: int | None = None

        def user() -> None:
            try:
                syscalls.ioctl(self.fd, V.VFIO_DEVICE_RESET)
                self.rc = 0
            except OSError as e:
                self.rc = e.errno

        return [("fw", self.inject()), ("kmcheck", lambda: self.kmcheck(1)), ("user", user)]

    def check(self) -> None:
        assert self.rc in self.ALLOWED, f"VFIO_DEVICE_RESET: {self.rc}"
        self.check_consistent()
        fn = self.host.fw.function(FID)
        assert fn.enabled, "the function was left disabled"
        pe = self.zdev.pending_errs
        stored = len(log_lines(LEAVING))
        assert pe.count == stored, f"{pe.count} queued but {stored} left to userspace"
        assert not log_lines(HOST_RECOVERY), "the host recovered a device userspace owns"
        if stored == 0:
            # only a handle re-issued by a successful reset makes the event stale
            assert self.rc == 0 and self.stale(), "event neither stored nor made stale by a reset"
        self.outcome = f"reset {errno.errorcode.get(self.rc or 0, 'ok')}, " + (
            "stored" if stored else "ignored: stale handle"
        )


class OpenVsError(_Machine):
    """The device opened (iommufd bind: mediated recovery starts) while an error is
    handled; after a successful open the user GETs once."""

    name = "open-vs-error"
    bind = False

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        self.open_rc: int | None = None
        self.delivered: list[int] = []

        def user() -> None:
            try:
                self.bind_device()
                self.open_rc = 0
            except OSError as e:
                self.open_rc = e.errno
                return
            self.reader = zpci_err_reader(self.fd)
            rc, rec = get_error(self.reader)
            assert rc in (0, errno.ENOMSG), f"GET: {errno.errorcode.get(rc, rc)}"
            if rec is not None:
                self.delivered.append(rec.faddr)

        return [("fw", self.inject()), ("kmcheck", lambda: self.kmcheck(1)), ("user", user)]

    def check(self) -> None:
        assert self.open_rc in (0, errno.EAGAIN, errno.EIO), f"open: {self.open_rc}"
        stored = len(log_lines(LEAVING))
        host = bool(log_lines(HOST_RECOVERY))
        pe = self.zdev.pending_errs
        assert not (stored and host), "an event both stored for userspace and recovered by the host"
        unhandled = sum(int(m.group(1)) for m in log_lines(UNHANDLED))
        if stored:
            # stored while the device was (being) opened: delivered, still queued, or
            # counted when a failing open stopped mediated recovery again
            assert len(self.delivered) + pe.count + unhandled == 1, (
                f"delivered {self.delivered}, queued {pe.count}, counted {unhandled}"
            )
        else:
            assert not self.delivered and pe.count == 0, "a record reached userspace without being stored"
        if self.open_rc:
            assert host or self.stale() or (stored and unhandled == 1), (
                "the open failed: the host recovers, or the record stored in the open's window is counted"
            )
            assert not pe.mediated_recovery
        if not stored and not host:
            # the event was ignored: its handle went stale (the open's reset re-issued it)
            assert self.open_rc == 0 and self.stale(), "event neither stored, recovered nor stale"
        self.check_consistent()
        self.outcome = f"open {errno.errorcode.get(self.open_rc or 0, 'ok')}, " + (
            ("stored, delivered" if self.delivered else "stored, queued" if pe.count else "stored, counted")
            if stored
            else ("recovered by the host" if host else "ignored: stale handle")
        )


class StaleMediatedRecovery(_Machine):
    """An error handled while userspace closes the device: ``mediated_recovery``
    used after its lock was dropped.

    ``zpci_event_attempt_error_recovery()`` (v17 4/7; unchanged as merged) decides
    once, in ``zpci_store_pci_error()`` under ``pending_errs_lock``, whether
    userspace owns the recovery, keeps that in a local ``mediated_recovery`` and
    acts on it later, after the driver's ``error_detected()``: "Leaving recovery of
    pass-through device to user-space".  Alex Williamson: "a convoluted way to get
    the state of zdev->pending_errs.mediated_recovery, which becomes invalid out of
    pending_errs_lock anyway" (Message-ID <20260603162006.27b78de5@shazbot.org>).
    The answer (Message-ID <6dd6de60d72a70ff85ecab2a9d14f45a617f05e7.camel@linux.ibm.com>,
    Niklas Schnelle, which the reply to Alex points to): the stale value is
    intended.  If the close's ``zpci_stop_mediated_recovery()`` runs in between, the
    record is counted ("Unhandled PCI error events count=1") and wiped, the host
    still leaves the recovery to the user-space that is gone, and the function stays
    in the error state -- as when a guest never recovers -- until the reset of the
    next open.

    Threads: ``fw`` raises the error, ``kmcheck`` handles it, ``user`` closes the
    device without reading.  Invariants (that design): never stored *and* recovered
    by the host; every stored record counted at the close, and nothing left queued;
    when the decision was stale (mediated recovery off when the host acts on it) the
    function is still in the error state at the end, and the next open recovers it
    (the check opens the device again, unscheduled).  The explorer must reach the
    stale decision (tests pin its schedule).
    """

    name = "stale-mediated-recovery"

    def setup(self) -> None:
        super().setup()
        #: per "Leaving recovery" line: was mediated recovery still on then?
        self.still_on: list[bool] = []
        klog_subscribe(self._on_line)

    def _on_line(self, line: LogLine) -> None:
        """The host acts on its decision where it prints it: that act is a
        scheduling point reading what the decision was taken from (the flag, under
        ``pending_errs_lock``), so that the close's ``zpci_stop_mediated_recovery()``
        is explored on either side of it."""
        if LEAVING.match(line.text):
            schedpoint.sched_access(reads=(self.zdev.pending_errs_lock,))
            self.still_on.append(bool(self.zdev.pending_errs.mediated_recovery))

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        return [("fw", self.inject()), ("kmcheck", lambda: self.kmcheck(1)), ("user", self.close_device)]

    def teardown(self) -> None:
        klog_unsubscribe(self._on_line)
        super().teardown()

    def check(self) -> None:
        leaving = log_lines(LEAVING)
        unhandled = sum(int(m.group(1)) for m in log_lines(UNHANDLED))
        host = bool(log_lines(HOST_RECOVERY))
        pe = self.zdev.pending_errs
        fn = self.host.fw.function(FID)
        assert not (leaving and host), "an event both left to userspace and recovered by the host"
        assert unhandled == len(leaving), f"{len(leaving)} left to userspace, {unhandled} counted at close"
        assert pe.count == 0 and not pe.mediated_recovery, "records or mediated recovery left after close"
        assert len(self.still_on) == len(leaving)
        stale = self.still_on == [False]
        if stale:
            assert fn.error, "a stale decision, yet the function left the error state"
            # the next open's reset brings the function back
            self.fd = syscalls.open(self.path)
            self.fds.append(self.fd)
            self.bind_device()
            assert not fn.error and fn.enabled, "the next open did not recover the function"
        elif not leaving and not host:
            assert self.stale(), "the event was neither stored, recovered by the host, nor stale"
        self.outcome = (
            "left to user-space after the close (stale decision): counted, function in error until reopened"
            if stale
            else "stored, counted at close"
            if leaving
            else "recovered by the host"
            if host
            else "ignored: stale handle"
        )


class _Kasan:
    """A use-after-free detector for the objects a scenario watches (what KASAN
    reports in the kernel): a read of an object after it was freed is recorded with
    the reading function and both tasks.  Exists only in Python."""

    def __init__(self) -> None:
        self.freed: dict[int, str] = {}  # id of a freed object -> the task that freed it
        self.reports: list[str] = []
        self.seen: dict[str, list[bool]] = {}  # task -> per read of the pointer: non-NULL?

    def check_read(self, obj: object, what: str) -> None:
        freer = self.freed.get(id(obj))
        if freer is not None:
            fn = sys._getframe(2).f_code.co_name
            self.reports.append(
                f"BUG: KASAN: slab-use-after-free in {fn}: {get_current().name} reads {what} "
                f"freed by {freer}"
            )


#: the detector of the scenario being run (one kernel, one scenario per process)
_kasan: _Kasan | None = None

_VDEV_STATE: Any = vfio_pci_core_device.__dict__["pci_saved_state"]  # the attrs slot


def _get_vdev_state(vdev: vfio_pci_core_device) -> Any:
    schedpoint.sched_point(schedpoint.SP_READ, (vdev, "pci_saved_state"))
    value = _VDEV_STATE.__get__(vdev)
    if _kasan is not None:
        _kasan.seen.setdefault(get_current().name, []).append(value is not None)
    return value


def _set_vdev_state(vdev: vfio_pci_core_device, state: Any) -> None:
    old = _VDEV_STATE.__get__(vdev)
    # storing NULL over a state is where every caller kfree()s it (the state's
    # memory is written too)
    writes: tuple[object, ...] = ((vdev, "pci_saved_state"),) + ((old,) if old is not None else ())
    schedpoint.sched_access(writes=writes)
    old = _VDEV_STATE.__get__(vdev)
    if state is None and old is not None and _kasan is not None:
        _kasan.freed[id(old)] = get_current().name
    _VDEV_STATE.__set__(vdev, state)


class _WatchedVdev(vfio_pci_core_device):
    """``struct vfio_pci_core_device`` whose ``pci_saved_state`` pointer is watched:
    every read and write of it is a scheduling point (as KCSAN instruments every
    access), and storing NULL over a state frees it."""

    __slots__ = ()
    pci_saved_state = property(_get_vdev_state, _set_vdev_state)


def _state_field(name: str) -> property:
    slot: Any = pci_saved_state.__dict__[name]

    def get(state: pci_saved_state) -> Any:
        schedpoint.sched_point(schedpoint.SP_READ, state)
        if _kasan is not None:
            _kasan.check_read(state, f"struct pci_saved_state.{name}")
        return slot.__get__(state)

    def set_(state: pci_saved_state, value: Any) -> None:
        slot.__set__(state, value)

    return property(get, set_)


class _WatchedSavedState(pci_saved_state):
    """``struct pci_saved_state`` whose reads are scheduling points and checked
    against its being freed."""

    __slots__ = ()
    config_space = _state_field("config_space")
    cap = _state_field("cap")


class ResetDoneVsClose(_Machine):
    """A reset through the PCI core (the function's sysfs ``reset``) while the
    device is closed: v17 6/7's ``reset_done`` against the close freeing the state.

    v17 6/7 adds ``vfio_pci_core_aer_reset_done()``: after every reset of the
    function through the PCI core (``pci_dev_restore()``), with the device lock
    held, it loads ``vdev->pci_saved_state`` (the state saved at open) back into the
    device.  Closing the device frees that state in ``vfio_pci_core_disable()``
    (``pci_load_and_free_saved_state()``) holding the ``dev_set`` lock, not the
    device lock.  A reset from outside the device's file -- the administrator
    writing 1 to the function's sysfs ``reset`` attribute: ``reset_store()`` ->
    ``pci_reset_function()`` -- racing with the last close can read the pointer,
    lose the CPU, and read the state after the close freed it.  Raised on v18 3/4
    (the same patch) by the automated review Alex Williamson forwarded, and
    acknowledged by Farhan Ali: "The reset_done() callback is called with pci
    device lock held, but it might not be enough to protect against the race and
    so we need to grab the dev_set->lock here?"
    (Message-ID <9fa7db8b-704d-46af-a68d-bc61e85ad4b4@linux.ibm.com>).

    The pointer and the state's memory are watched by the scenario (every access
    a scheduling point; the state freed when NULL is stored over it; a read of
    freed state recorded as KASAN would report it).  Invariant: no use after free;
    the reset returns 0; the device ends closed with its state freed.  Expected
    finding on v17 (:meth:`expected_finding`); the series as merged dropped
    ``reset_done``, so the race is gone and every schedule must pass there.
    """

    name = "reset-done-vs-close"
    #: both threads access config space a hundred times each (the reset saves and
    #: restores it, the close restores it): the orders of those raw-spinlock
    #: sections are not explored here (config-space accesses of different threads
    #: are taken to commute, as without --load-store), only the watched pointer,
    #: the state's memory and every other lock
    ATOMIC_LOCKS: ClassVar[frozenset[str]] = frozenset({"pci_lock"})

    @classmethod
    def expected_finding(cls) -> str | None:
        """The failure this kernel is known to have, as the start of the failure's
        message (``None``: none)."""
        if vfio_pci_core_err_handlers.reset_done is None:
            return None
        return "BUG: KASAN: slab-use-after-free in pci_load_saved_state"

    def setup(self) -> None:
        global _kasan
        super().setup()
        self.pdev = pdev_of(FID)
        self.vdev: vfio_pci_core_device = dev_get_drvdata(self.pdev.dev)
        self.kasan = _kasan = _Kasan()
        state = self.vdev.pci_saved_state
        assert isinstance(state, pci_saved_state), "the open saved no state"
        state.__class__ = _WatchedSavedState
        self.vdev.__class__ = _WatchedVdev

    def threads(self) -> Sequence[tuple[str, Callable[[], None]]]:
        self.reset_rc: int | None = None

        def admin() -> None:
            # reset_store(): echo 1 > /sys/bus/pci/devices/0000:00:00.0/reset
            self.reset_rc = pci_reset_function(self.pdev)

        return [("admin", admin), ("user", self.close_device)]

    def check(self) -> None:
        assert not self.kasan.reports, self.kasan.reports[0]
        assert self.reset_rc == 0, f"pci_reset_function: {self.reset_rc}"
        assert _VDEV_STATE.__get__(self.vdev) is None, "the state was not freed at close"
        core = any(ln.text.endswith(": reset done") for ln in dmesg())
        seen = self.kasan.seen.get("admin", [])
        self.outcome = (
            "no reset_done: the PCI core logs reset done"
            if core
            else "reset_done loaded the open-time state"
            if seen == [True, True]
            else "reset_done found the state freed (NULL)"
        )

    def teardown(self) -> None:
        global _kasan
        _kasan = None
        if type(self.vdev) is _WatchedVdev:
            object.__setattr__(self.vdev, "__class__", vfio_pci_core_device)
        super().teardown()


#: name -> scenario class (a factory of scenarios)
SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "error-vs-close": ErrorVsClose,
    "two-readers": TwoReaders,
    "reset-vs-event": ResetVsEvent,
    "open-vs-error": OpenVsError,
    "reset-done-vs-close": ResetDoneVsClose,
    "stale-mediated-recovery": StaleMediatedRecovery,
}
