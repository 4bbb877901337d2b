"""kernel/pci/hotplug/s390_pci_hpc.py: the s390 hotplug slot of each zPCI function."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator

import pytest

from kernel.include.linux.pci import pci_slot_name
from kernel.lib.mutex import mutex_lock, mutex_unlock
from kernel.pci.hotplug.s390_pci_hpc import (
    disable_slot,
    enable_slot,
    get_adapter_status,
    get_power_status,
    reset_slot,
    s390_hotplug_slot_ops,
)
from kernel.s390.include.asm.pci import ZPCI_FN_STATE_CONFIGURED, ZPCI_FN_STATE_STANDBY
from sim.host import zdev_of
from sim.pci.function import PciFunction
from sim.zpci.firmware import CONFIGURED, STANDBY, ZpciFirmware


@pytest.fixture
def fw() -> Iterator[ZpciFirmware]:
    """A machine with a configured function (fid 0x10) and one in standby (0x11)."""
    f = ZpciFirmware()
    f.add_function(0x10, PciFunction(0x1AF4, 0x1041))
    f.add_function(0x11, PciFunction(0x1AF4, 0x1041), state=STANDBY)
    f.boot()
    yield f
    f.shutdown()


def test_each_function_gets_a_slot_named_by_its_fid(fw: ZpciFirmware) -> None:
    for fid in (0x10, 0x11):
        slot = zdev_of(fid).hotplug_slot
        assert slot.ops is s390_hotplug_slot_ops
        assert slot.pci_slot is not None and pci_slot_name(slot.pci_slot) == f"{fid:08x}"


def test_power_and_adapter_status(fw: ZpciFirmware) -> None:
    assert get_power_status(zdev_of(0x10).hotplug_slot) == (0, 1)
    assert get_power_status(zdev_of(0x11).hotplug_slot) == (0, 0)
    assert get_adapter_status(zdev_of(0x11).hotplug_slot) == (0, 1)


def test_reset_slot_probe_and_reset_of_a_configured_function(fw: ZpciFirmware) -> None:
    zdev = zdev_of(0x10)
    old = zdev.fh
    assert reset_slot(zdev.hotplug_slot, True) == 0
    assert zdev.fh == old  # probing does nothing
    assert reset_slot(zdev.hotplug_slot, False) == 0
    assert zdev.fh == fw.fh(0x10) != old and zdev.fh & 0x80000000
    assert fw.function(0x10).function.resets == ["hot"]  # type: ignore[attr-defined]


def test_reset_slot_of_a_standby_function_is_eio(fw: ZpciFirmware) -> None:
    assert reset_slot(zdev_of(0x11).hotplug_slot, True) == -errno.EIO


def test_reset_slot_returns_eio_while_state_lock_is_held(fw: ZpciFirmware) -> None:
    """An event being handled holds zdev->state_lock: the slot reset bails out."""
    zdev = zdev_of(0x10)
    held, release = threading.Event(), threading.Event()
    trace_before = len(fw.trace)

    def holder() -> None:
        mutex_lock(zdev.state_lock)
        held.set()
        release.wait(10)
        mutex_unlock(zdev.state_lock)

    t = threading.Thread(target=holder, name="event")
    t.start()
    try:
        assert held.wait(10)
        assert reset_slot(zdev.hotplug_slot, False) == -errno.EIO
        assert reset_slot(zdev.hotplug_slot, True) == -errno.EIO
    finally:
        release.set()
        t.join(10)
    assert fw.trace[trace_before:] == []  # no disable/enable happened
    assert zdev.fh == fw.fh(0x10)


def test_enable_slot_configures_and_scans_a_standby_function(fw: ZpciFirmware) -> None:
    zdev = zdev_of(0x11)
    assert enable_slot(zdev.hotplug_slot) == 0
    assert zdev.state == ZPCI_FN_STATE_CONFIGURED and fw.function(0x11).state == CONFIGURED
    assert zdev.fh & 0x80000000
    assert enable_slot(zdev.hotplug_slot) == -errno.EIO  # not in standby any more


def test_disable_slot_deconfigures_a_configured_function(fw: ZpciFirmware) -> None:
    zdev = zdev_of(0x10)
    assert zdev.zbus is not None and zdev.zbus.bus is not None
    assert len(zdev.zbus.bus.devices) == 1
    assert disable_slot(zdev.hotplug_slot) == 0
    assert zdev.state == ZPCI_FN_STATE_STANDBY and fw.function(0x10).state == STANDBY
    assert zdev.zbus.bus.devices == []
    assert not zdev.fh & 0x80000000
    assert disable_slot(zdev.hotplug_slot) == -errno.EIO
