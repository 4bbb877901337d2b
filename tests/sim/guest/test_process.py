"""sim/guest/process.py: the guest's process never outlives a run; crashes and
timeouts are reported clearly."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from sim.guest.process import GuestError, GuestProcess, GuestReported
from sim.timeline import KernelReport


def no_requests(op: str, args: tuple[Any, ...]) -> Any:
    raise AssertionError(f"unexpected guest request {op}")


def started() -> GuestProcess:
    g = GuestProcess(no_requests, lambda level, text, function, source, running: None, timeout=20.0)
    g.start()
    g.wait_ready()
    return g


def test_status_of_an_unbooted_guest_lists_no_functions() -> None:
    with started() as g:
        assert g.call("status") == {"functions": [], "driver_calls": []}
        pid = g.pid
    assert not g.alive()
    assert pid is not None


def test_unknown_command_crashes_the_guest_and_reports_its_traceback() -> None:
    g = started()
    with pytest.raises(GuestError) as e:
        g.call("bogus")
    first = str(e.value).splitlines()[0]
    assert first == "guest: crashed during 'bogus' (exit status 1): ValueError: unknown command 'bogus'"
    assert "Traceback (most recent call last)" in str(e.value)
    assert not g.alive()


def test_a_guest_that_stops_answering_is_killed_at_the_deadline() -> None:
    g = started()
    assert g.pid is not None
    os.kill(g.pid, signal.SIGSTOP)
    with pytest.raises(GuestError) as e:
        g.call("status", timeout=0.3)
    assert str(e.value).startswith("guest: no answer within the deadline (0.3 s) during 'status'")
    assert not g.alive()


def test_a_guest_killed_under_the_vmm_ends_the_call() -> None:
    g = started()
    assert g.pid is not None and g.proc is not None
    os.kill(g.pid, signal.SIGKILL)
    g.proc.wait(timeout=5)
    with pytest.raises(GuestError) as e:
        g.call("status", timeout=5.0)
    assert "during 'status' (exit status -9)" in str(e.value)
    assert not g.alive()


def test_the_guest_exits_when_its_vmm_goes_away() -> None:
    g = started()
    assert g.chan is not None and g.proc is not None
    g.chan.close()
    g.chan = None
    assert g.proc.wait(timeout=5) == 0
    g.kill()


def test_leaving_the_block_on_an_exception_kills_the_guest() -> None:
    with pytest.raises(RuntimeError), started() as g:
        raise RuntimeError("the VMM failed")
    assert not g.alive()


def fake_guest(messages: list[tuple[Any, ...]]) -> tuple[GuestProcess, list[tuple[str, Any]]]:
    """A GuestProcess whose other end is this test: the guest's side answers the
    first command with ``messages``.  What the VMM side saw, in order."""
    import socket
    import threading
    from multiprocessing.connection import Connection

    from sim.guest.ipc import Channel

    seen: list[tuple[str, Any]] = []
    g = GuestProcess(
        no_requests,
        lambda level, text: seen.append(("log", (level, text))),
        on_report=lambda kind, text: seen.append((kind, text)),
    )
    ours, theirs = socket.socketpair()
    g.chan = Channel(Connection(ours.detach()))
    g.ready = True
    guest = Channel(Connection(theirs.detach()))

    def serve() -> None:
        cmd = guest.recv()
        assert cmd[:3] == ("cmd", 1, "crw")
        for msg in messages:
            guest.send(*msg)
        guest.close()

    threading.Thread(target=serve, daemon=True).start()
    return g, seen


def test_reports_from_the_guest_kernel_end_the_command_that_made_them() -> None:
    report = "\n".join(
        [
            "WARNING: possible circular locking dependency detected",
            "kmcheck is trying to acquire lock B at x.py:2 (f)",
            "but it already holds lock A, taken at x.py:1 (f)",
            "which lock already depends on the new lock, in the other order:",
            "  B (taken at y.py:1 (g)) -> A (taken at y.py:2 (g))",
        ]
    )
    g, seen = fake_guest(
        [
            ("log", 4, "WARNING: possible circular locking dependency detected"),
            ("lockdep", report),
            ("log", 4, "WARNING: at x.py:9 (h): late"),
            ("warn", "x.py:9 (h): late"),
            ("log", 6, "zpci: 0000:00:00.0: The device is ready to resume operations"),
            ("done", 1, True),
        ]
    )
    with pytest.raises(GuestReported) as e:
        g.call("crw")
    assert str(e.value) == (
        "guest: during 'crw', the guest kernel reported: possible circular locking dependency detected: "
        "kmcheck is trying to acquire lock B at x.py:2 (f) but it already holds lock A, taken at x.py:1 (f)"
        " (and 1 more)"
    )
    assert e.value.reports == g.reports == [
        KernelReport("guest", "lockdep", report),
        KernelReport("guest", "warn", "x.py:9 (h): late"),
    ]
    # in the order the guest sent them, and the command still ran to its end
    assert seen == [
        ("log", (4, "WARNING: possible circular locking dependency detected")),
        ("lockdep", report),
        ("log", (4, "WARNING: at x.py:9 (h): late")),
        ("warn", "x.py:9 (h): late"),
        ("log", (6, "zpci: 0000:00:00.0: The device is ready to resume operations")),
    ]
    g.kill()


def test_a_command_without_reports_returns_its_result() -> None:
    g, seen = fake_guest([("log", 6, "fine"), ("done", 1, {"ok": True})])
    assert g.call("crw") == {"ok": True}
    assert g.reports == [] and seen == [("log", (6, "fine"))]
    g.kill()
