"""drivers/s390/cio/chsc.c (Store Event Information, network type 2) and crw.c (the
``kmcheck`` thread), reduced to the path that delivers zPCI events.

On the machine, firmware signals pending event information with a channel report
word (a machine check); ``crw_handle_channel_report()`` wakes the ``kmcheck`` kernel
thread, which calls the CHSC handler; that loops on CHSC Store Event Information
(``chsc_sei``) while the machine says more events are pending, and hands each
network-type-2 event to ``chsc_process_sei_nt2()``: content code 1 to
``zpci_event_error()``, 2 to ``zpci_event_availability()``, with the bytes of the
content-code-dependent field.

Simplified: the CRW contents and the CRW-handler registry (``crw_register_handler``)
are not modelled -- every channel report means "event information pending" here;
``chsc_sei()`` of :class:`kernel.s390.machine.ZpciMachine` returns one event
(nt, cc, ccdf, more) or None, standing for the SEI response block and its response
code; only network type 2 is handled, and ``CIO_CRW_EVENT`` records go to a
``cio_crw`` debug area (:data:`cio_debug_crw_id`).

:func:`crw_wait_idle` exists only in Python: tests and the simulator wait with it
until every reported event has been handled.

Under a schedule explorer (:mod:`kernel.lib.schedpoint`, :mod:`sim.explore`) the hand-off
of a report to ``kmcheck`` is a scheduling point, and :func:`kmcheck_explored` (Python
only) stops the boot's ``kmcheck`` thread and gives its body to the explorer, which
runs it as one of the threads it schedules: the handler then waits for a report at a
scheduling point instead of on a condition variable the OS wakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kernel.lib import schedpoint
from kernel.lib.init import arch_initcall, static_init
from kernel.s390.kernel.debug import debug_info_t, debug_register, debug_sprintf_event
from kernel.s390.machine import machine

__all__ = [
    "cio_debug_crw_id",
    "crw_handle_channel_report",
    "crw_wait_idle",
    "kmcheck_explored",
]


def CIO_CRW_EVENT(imp: int, fmt: str, *args: object) -> None:
    debug_sprintf_event(cio_debug_crw_id[0], imp, fmt, *args)


#: The ``cio_crw`` debug area of the running boot.
cio_debug_crw_id: list[debug_info_t | None] = [None]


def chsc_process_sei_nt2(cc: int, ccdf: bytes) -> None:
    from kernel.s390.pci.pci_event import zpci_event_availability, zpci_event_error

    if cc == 1:
        zpci_event_error(ccdf)
    elif cc == 2:
        zpci_event_availability(ccdf)
    else:
        CIO_CRW_EVENT(2, "chsc: sei nt2 unhandled cc=%d\n", cc)


def chsc_process_event_information() -> None:
    while True:
        m = machine()
        sei = m.chsc_sei() if m is not None else None
        if sei is None:
            break
        nt, cc, ccdf, more = sei
        CIO_CRW_EVENT(2, "chsc: sei successful (nt=%d)\n", nt)
        if nt == 2:
            chsc_process_sei_nt2(cc, ccdf)
        else:
            CIO_CRW_EVENT(2, "chsc: unhandled nt: %d\n", nt)
        if not more:
            break


def chsc_process_crw() -> None:
    """The CRW handler for channel-subsystem reports; the CRW itself is not modelled."""
    chsc_process_event_information()


class _Kmcheck:
    """The ``kmcheck`` thread of one boot: pending channel reports are counted, the
    thread handles them one at a time."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.pending = 0
        self.busy = False
        self.stop = False
        #: the thread's work is done by a schedule explorer's thread (kmcheck_explored)
        self.explored = False
        self.thread = threading.Thread(target=self.run, name="kmcheck", daemon=True)

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.pending and not self.stop:
                    self.cond.wait()
                if self.stop:
                    return
                self.pending -= 1
                self.busy = True
            try:
                chsc_process_crw()
            finally:
                with self.cond:
                    self.busy = False
                    self.cond.notify_all()


_kmcheck: list[_Kmcheck] = []


@static_init
def chsc_static_init() -> None:
    # a reboot stops the previous boot's thread
    for k in _kmcheck:
        with k.cond:
            k.stop = True
            k.cond.notify_all()
        if k.thread.is_alive() and k.thread is not threading.current_thread():
            k.thread.join(timeout=5)
    _kmcheck.clear()
    cio_debug_crw_id[0] = None


@arch_initcall
def crw_machine_check_init() -> int:
    """crw.c ``crw_machine_check_init()``: start the ``kmcheck`` thread; and
    ``cio_debug_init()``'s ``cio_crw`` area."""
    cio_debug_crw_id[0] = debug_register("cio_crw", 8, 1, 8 * 8)
    k = _Kmcheck()
    _kmcheck.append(k)
    k.thread.start()
    return 0


def crw_handle_channel_report() -> None:
    """The machine-check handler's entry for a channel report: wake ``kmcheck``."""
    for k in _kmcheck:
        if k.explored:
            schedpoint.sched_point(schedpoint.SP_HANDOFF, k)
        with k.cond:
            k.pending += 1
            k.cond.notify_all()


def crw_wait_idle(timeout: float = 10.0) -> bool:
    """Wait until every channel report so far is handled; False on timeout.  Exists
    only in Python."""
    for k in _kmcheck:
        with k.cond:
            if not k.cond.wait_for(lambda k=k: not k.pending and not k.busy, timeout):  # type: ignore[misc]
                return False
    return True


def kmcheck_explored() -> Callable[[int], None]:
    """Stop this boot's ``kmcheck`` thread and return its body for a schedule
    explorer: ``body(n)`` handles ``n`` channel reports, waiting for each at a
    scheduling point (``SP_WAIT`` on the kmcheck object, ready once a report is
    pending; with no explorer installed it waits on the condition variable, so
    the same body runs as a plain thread too).  The next boot starts a real
    ``kmcheck`` again.  Exists only in Python."""
    if not _kmcheck:
        raise RuntimeError("no kmcheck thread: the kernel is not booted")
    k = _kmcheck[0]
    with k.cond:
        k.stop = True
        k.cond.notify_all()
    if k.thread.is_alive() and k.thread is not threading.current_thread():
        k.thread.join(timeout=5)
    with k.cond:
        k.stop = False
        k.explored = True

    def body(n: int) -> None:
        for _ in range(n):
            schedpoint.sched_point(schedpoint.SP_WAIT, k, lambda: k.pending > 0)
            with k.cond:
                # with no explorer installed (a plain run of the same threads) the
                # point returned at once: wait as the real thread does
                k.cond.wait_for(lambda: k.pending > 0)
                k.pending -= 1
                k.busy = True
            try:
                chsc_process_crw()
            finally:
                with k.cond:
                    k.busy = False
                    k.cond.notify_all()

    return body
