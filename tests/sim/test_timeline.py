import json

import pytest

from sim.timeline import KernelReport, Timeline, acting_as, current, current_actor, use


def test_record_numbers_steps_and_serialises_them() -> None:
    t = Timeline()
    seen: list[int] = []
    t.subscribe(lambda s: seen.append(s.seq))
    t.record("firmware", "event", "error event PEC 0x3a for fid 0x10", pec=0x3A)
    text = "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"
    t.record("qemu", "ioctl", text, request="VFIO_DEVICE_FEATURE", ret=-42)
    assert seen == [1, 2]
    assert [json.loads(line) for line in t.json_lines()] == [
        {
            "seq": 1,
            "actor": "firmware",
            "kind": "event",
            "text": "error event PEC 0x3a for fid 0x10",
            "pec": 58,
        },
        {
            "seq": 2,
            "actor": "qemu",
            "kind": "ioctl",
            "text": text,
            "request": "VFIO_DEVICE_FEATURE",
            "ret": -42,
        },
    ]
    assert t.text().splitlines()[0] == "   1  firmware    event  error event PEC 0x3a for fid 0x10"


def test_unknown_actor_or_kind_is_refused() -> None:
    t = Timeline()
    with pytest.raises(ValueError):
        t.record("bios", "log", "x")
    with pytest.raises(ValueError):
        t.record("host", "smoke", "x")


def test_current_timeline_and_actor_are_scoped() -> None:
    t = Timeline()
    assert current() is None and current_actor() == "host"
    with use(t), acting_as("qemu"):
        assert current() is t and current_actor() == "qemu"
    assert current() is None and current_actor() == "host"


def test_kernel_reports_are_kept_in_order_and_summarised_on_one_line() -> None:
    t = Timeline()
    report = "\n".join(
        [
            "WARNING: possible circular locking dependency detected",
            "kmcheck is trying to acquire lock B at x.py:2 (f)",
            "but it already holds lock A, taken at x.py:1 (f)",
            "which lock already depends on the new lock, in the other order:",
            "  B (taken at y.py:1 (g)) -> A (taken at y.py:2 (g))",
        ]
    )
    a = t.report("guest", "lockdep", report)
    b = t.report("host", "warn", "kernel/pci/pci.py:12 (f): oops")
    assert t.reports == [KernelReport("guest", "lockdep", report), KernelReport("host", "warn", b.text)]
    assert t.steps == []  # reports are not steps: their log lines are
    assert a.summary() == (
        "the guest kernel reported: possible circular locking dependency detected: "
        "kmcheck is trying to acquire lock B at x.py:2 (f) but it already holds lock A, taken at x.py:1 (f)"
    )
    assert b.summary() == "the host kernel reported: WARNING: at kernel/pci/pci.py:12 (f): oops"
    with pytest.raises(ValueError) as e:
        t.report("kernel", "warn", "x")
    assert str(e.value) == "unknown actor 'kernel'"
    with pytest.raises(ValueError) as e:
        t.report("host", "bug", "x")
    assert str(e.value) == "unknown report kind 'bug'"
    assert len(t.reports) == 2
