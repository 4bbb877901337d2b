"""sim/guest/process.py: the guest's process never outlives a run; crashes and
timeouts are reported clearly."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from sim.guest.process import GuestError, GuestProcess


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
