import json

import pytest

from sim.timeline import Timeline, acting_as, current, current_actor, use


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
