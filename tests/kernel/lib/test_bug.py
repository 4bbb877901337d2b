"""kernel/lib/bug.py: WARN and friends -- what they print, what they remember, who hears
of them, and what a boot forgets."""

from __future__ import annotations

import inspect

import pytest

from kernel.init.main import start_kernel
from kernel.lib import bug
from kernel.lib.bug import WARN, WARN_ON, WARN_ON_ONCE, KernelBug
from kernel.lib.printk import KERN_WARNING, dmesg


def _line(fn: object, needle: str) -> int:
    lines, first = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    (n,) = [first + i for i, line in enumerate(lines) if needle in line]
    return n


def fire() -> None:
    WARN(True, "queue %d of %s is full\n", 4, "zdev")
    WARN_ON(True)


def late() -> None:
    WARN_ON(True)


def test_warn_prints_remembers_and_tells_subscribers_in_that_order() -> None:
    seen: list[tuple[str, list[str]]] = []

    def subscriber(text: str) -> None:
        seen.append((text, [line.text for line in dmesg()]))

    bug.warn_subscribe(subscriber)
    try:
        fire()
    finally:
        bug.warn_unsubscribe(subscriber)
    late()  # after unsubscribing: remembered, not told
    first = f"tests/kernel/lib/test_bug.py:{_line(fire, 'WARN(True')} (fire): queue 4 of zdev is full"
    second = f"tests/kernel/lib/test_bug.py:{_line(fire, 'WARN_ON(True)')} (fire)"
    third = f"tests/kernel/lib/test_bug.py:{_line(late, 'WARN_ON(True)')} (late)"
    assert bug.warnings == [first, second, third]
    assert seen == [
        (first, [f"WARNING: at {first}"]),
        (second, [f"WARNING: at {first}", f"WARNING: at {second}"]),
    ]
    assert [(line.level, line.text) for line in dmesg()] == [
        (KERN_WARNING, f"WARNING: at {first}"),
        (KERN_WARNING, f"WARNING: at {second}"),
        (KERN_WARNING, f"WARNING: at {third}"),
    ]
    bug.warnings.clear()


def test_a_boot_keeps_the_warnings_but_re_arms_warn_on_once() -> None:
    def once() -> None:
        WARN_ON_ONCE(True)

    once()
    once()
    assert len(bug.warnings) == 1
    start_kernel()
    assert len(bug.warnings) == 1  # the first kernel's warning survives the boot
    once()  # a new kernel warns once again
    site = f"tests/kernel/lib/test_bug.py:{_line(once, 'WARN_ON_ONCE')} (once)"
    assert bug.warnings == [site, site]
    assert [line.text for line in dmesg()] == [f"WARNING: at {site}"]
    bug.warnings.clear()


def crash() -> None:
    bug.BUG("zdev is gone")


def test_bug_raises_naming_the_site() -> None:
    with pytest.raises(KernelBug) as e:
        crash()
    n = _line(crash, "bug.BUG(")
    assert str(e.value) == f"kernel BUG at tests/kernel/lib/test_bug.py:{n} (crash): zdev is gone"
    assert bug.warnings == []
