"""kernel/s390/kernel/debug.py: the s390 debug feature rings the zPCI code writes."""

from __future__ import annotations

from kernel.s390.kernel.debug import (
    debug_dump,
    debug_entries,
    debug_event,
    debug_register,
    debug_set_level,
    debug_sprintf_event,
    debug_text_event,
)


def test_records_above_the_area_level_are_dropped() -> None:
    d = debug_register("t", 1, 1, 16)
    debug_set_level(d, 3)
    debug_sprintf_event(d, 3, "fid:%x rc:%d\n", 0x10, -5)
    debug_sprintf_event(d, 4, "dropped\n")
    debug_text_event(d, 0, "text")
    debug_event(d, 0, b"\x01\x02")
    assert [(e.level, e.text) for e in debug_entries(d)] == [(3, "fid:10 rc:-5"), (0, "text"), (0, "0102")]


def test_the_ring_keeps_the_newest_records() -> None:
    d = debug_register("t", 1, 1, 16)
    for i in range(d.capacity() + 5):
        debug_sprintf_event(d, 1, "%d", i)
    entries = debug_entries(d)
    assert len(entries) == d.capacity() and entries[-1].text == str(d.capacity() + 4)


def test_dump_renders_newest_first_within_the_size() -> None:
    d = debug_register("t", 1, 1, 16)
    debug_text_event(d, 1, "old")
    debug_text_event(d, 2, "new")
    assert debug_dump(d, 100) == "2 - new\n1 - old\n"
    assert debug_dump(d, 8) == "2 - new\n"
