"""kernel/s390/cio/chsc.py: channel reports wake kmcheck, which fetches every pending
event and dispatches network-type-2 events by content code."""

from __future__ import annotations

from collections.abc import Callable

from kernel.s390.cio.chsc import cio_debug_crw_id, crw_wait_idle
from kernel.s390.kernel.debug import debug_entries
from sim.zpci.firmware import ZpciFirmware

Machine = Callable[..., ZpciFirmware]


def test_unhandled_content_code_is_recorded(zmachine: Machine) -> None:
    fw = zmachine()
    fw._raise(3, bytes(32))
    assert fw.wait_events_handled()
    texts = [e.text for e in debug_entries(cio_debug_crw_id[0])]
    assert texts[-2:] == ["chsc: sei successful (nt=2)", "chsc: sei nt2 unhandled cc=3"]


def test_one_channel_report_drains_every_queued_event(zmachine: Machine) -> None:
    fw = zmachine()
    with fw._lock:
        fw.events.extend([(2, 3, bytes(32)), (2, 3, bytes(32)), (0, 1, bytes(32))])
    fw._raise(3, bytes(32))
    assert fw.wait_events_handled()
    texts = [e.text for e in debug_entries(cio_debug_crw_id[0])]
    assert texts.count("chsc: sei nt2 unhandled cc=3") == 3
    assert "chsc: unhandled nt: 0" in texts
    assert fw.events == type(fw.events)()


def test_wait_idle_without_reports_returns_at_once() -> None:
    assert crw_wait_idle(0.1)
