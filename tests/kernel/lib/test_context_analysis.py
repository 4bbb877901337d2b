"""kernel/lib/context_analysis.py: __guarded_by fields of struct zpci_dev checked
against the locks the thread holds, the escapes (data_race(), context_unsafe(),
before publication, code outside kernel/), and the accesses the explorer sees.
Runs on every tree: fh and state (state_lock) are baseline fields."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator

import pytest

from kernel.lib import context_analysis, lockdep, schedpoint
from kernel.lib.cleanup import guard
from kernel.lib.context_analysis import GuardedField, data_race, guarded_fields, publish
from kernel.lib.mutex import mutex
from kernel.lib.printk import KERN_WARNING, dmesg
from kernel.s390.include.asm.pci import zdev_enabled, zpci_dev
from kernel.s390.pci import pci as zpci
from kernel.s390.pci.pci import zpci_cfg_load, zpci_update_fh
from sim.host import Host, zdev_of
from sim.pci.function import PciFunction

FID = 0x10


@pytest.fixture
def zdev() -> Iterator[zpci_dev]:
    host = Host.boot({FID: PciFunction(0x1AF4, 0x1041)})
    try:
        yield zdev_of(FID)
    finally:
        host.shutdown()


def _line_of(fn: Callable[..., object], text: str) -> int:
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def _update_fh_report(verb: str, text: str) -> str:
    line = _line_of(zpci_update_fh, text)
    return (
        "WARNING: guarded field accessed without its lock\n"
        f"MainThread {verb} zdev->fh at kernel/s390/pci/pci.py:{line} (zpci_update_fh)\n"
        "but zdev->fh is __guarded_by(zdev->state_lock), which it does not hold (held: none)"
    )


def test_zpci_dev_declares_its_guarded_fields_and_keeps_its_slots() -> None:
    fields = guarded_fields(zpci_dev)
    assert {n: f.lock for n, f in fields.items()}.items() >= {
        "state": "state_lock",
        "fh": "state_lock",
        "kzdev": "kzdev_lock",
    }.items()
    assert isinstance(vars(zpci_dev)["fh"], GuardedField)
    assert "fh" in zpci_dev.__slots__  # attrs made a slot; the descriptor wraps it
    z = zpci_dev(fh=0x1234)
    assert z.fh == 0x1234 and not hasattr(z, "__dict__")


def test_an_access_without_the_lock_is_reported_naming_field_lock_site_and_held_locks(
    zdev: zpci_dev,
) -> None:
    zpci_update_fh(zdev, zdev.fh ^ 0x100)
    iomap = _line_of(zpci.zpci_do_update_iomap_fh, "zdev.fh")
    assert lockdep.reports == [
        _update_fh_report("reads", "zdev.fh == fh"),
        _update_fh_report("writes", "zdev.fh = fh"),
        "WARNING: guarded field accessed without its lock\n"
        f"MainThread reads zdev->fh at kernel/s390/pci/pci.py:{iomap} (zpci_do_update_iomap_fh)\n"
        "but zdev->fh is __guarded_by(zdev->state_lock), which it does not hold (held: zpci_iomap_lock)",
    ]
    warnings = [(r.level, r.text) for r in dmesg() if r.text.startswith(("WARNING: guarded", "MainThread"))]
    assert warnings[:2] == [
        (KERN_WARNING, "WARNING: guarded field accessed without its lock"),
        (KERN_WARNING, lockdep.reports[0].splitlines()[1]),
    ]
    lockdep.reports.clear()


def test_the_same_site_is_reported_once_per_boot(zdev: zpci_dev) -> None:
    zpci_update_fh(zdev, zdev.fh ^ 0x100)
    zpci_update_fh(zdev, zdev.fh ^ 0x100)
    assert len(lockdep.reports) == 3  # the two reads and the write, once each
    lockdep.reports.clear()


def test_the_lock_held_silences_the_check(zdev: zpci_dev) -> None:
    with guard(mutex)(zdev.state_lock):
        zpci_update_fh(zdev, zdev.fh ^ 0x100)
    assert lockdep.reports == []


def test_the_report_lists_the_locks_held(zdev: zpci_dev) -> None:
    with guard(mutex)(zdev.kzdev_lock):
        zpci_update_fh(zdev, zdev.fh)  # equal: a read only
    assert lockdep.reports[0].splitlines()[2] == (
        "but zdev->fh is __guarded_by(zdev->state_lock), which it does not hold (held: zdev->kzdev_lock)"
    )
    lockdep.reports.clear()


def test_data_race_readers_are_not_reported(zdev: zpci_dev) -> None:
    """zdev_enabled() and the config load read the handle without state_lock, as the
    C does; they are marked data_race() and report nothing."""
    assert zdev_enabled(zdev)
    rc, val = zpci_cfg_load(zdev, 0, 4)
    assert (rc, val) == (0, 0x10411AF4)
    assert lockdep.reports == []


def test_an_unpublished_zdev_is_not_checked() -> None:
    z = zpci_dev(fh=0x80000001)
    zpci_update_fh(z, 0x80000002)
    assert z.fh == 0x80000002 and lockdep.reports == []
    publish(z)
    zpci_update_fh(z, 0x80000003)
    assert [r.splitlines()[1].split(" at ")[0] for r in lockdep.reports] == [
        "MainThread reads zdev->fh",
        "MainThread writes zdev->fh",
    ]
    lockdep.reports.clear()


def test_code_outside_kernel_reads_kernel_state_unchecked(zdev: zpci_dev) -> None:
    zdev.fh = zdev.fh  # a test, like a debugger, is not kernel code
    assert lockdep.reports == []


class _Recorder:
    def __init__(self) -> None:
        self.points: list[tuple[str, object]] = []

    def point(self, op: str, obj: object, ready: Callable[[], bool] | None = None) -> None:
        self.points.append((op, obj))


def test_the_explorer_sees_each_checked_access_as_a_read_or_a_write(zdev: zpci_dev) -> None:
    rec = _Recorder()
    schedpoint.sched_install(rec)
    try:
        with guard(mutex)(zdev.state_lock):
            zpci_update_fh(zdev, zdev.fh ^ 0x100)
        with data_race():
            zdev_enabled(zdev)
        _ = zdev.fh  # not kernel code: not a scheduling point
    finally:
        schedpoint.sched_remove(rec)
    fields = [(op, obj[1]) for op, obj in rec.points if isinstance(obj, tuple) and obj[0] is zdev]
    assert fields[:3] == [("read", "fh"), ("write", "fh"), ("read", "fh")]
    assert len(fields) >= 4 and fields[-1] == ("read", "fh")  # zdev_enabled()'s read


def test_data_race_nests_and_unwinds() -> None:
    with data_race():
        with context_analysis.context_unsafe():
            pass
        assert context_analysis._tls.unsafe == 1
    assert context_analysis._tls.unsafe == 0

