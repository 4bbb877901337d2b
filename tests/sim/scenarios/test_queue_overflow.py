"""sim/scenarios/queue_overflow.py: four records queued, the rest logged and dropped."""

from __future__ import annotations

from collections.abc import Callable

from sim.scenarios import Result
from sim.zpci.firmware import ZpciFirmware
from tests.offered import full_queue_line


def test_four_records_delivered_fifo_two_dropped_with_a_log_line(
    passed: Callable[[str], tuple[Result, ZpciFirmware]],
) -> None:
    res, fw = passed("queue-overflow")
    _, full = full_queue_line()  # v17: pr_err; as merged: dev_warn_ratelimited on the device
    assert [s.seq for s in res.steps if s.text == full] == res.order(
        ("firmware", "event", "error event PEC 0x3f"),
        ("host", "log", full),
        ("firmware", "event", "error event PEC 0x41"),
        ("host", "log", full),
    )[1::2]
    gets = [s for s in res.steps if s.request == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)"]
    assert [(s.ret, s.fields.get("pec")) for s in gets] == [
        (0, 0x3A),
        (0, 0x3C),
        (0, 0x3D),
        (0, 0x3E),
        (-42, None),
    ]
    res.order(("user-driver", "ioctl", "-ENOMSG"), ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"))
    assert fw.function(0x10).enabled and not fw.function(0x10).error
