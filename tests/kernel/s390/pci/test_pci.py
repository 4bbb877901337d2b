"""kernel/s390/pci/pci.py: enabling, disabling and resetting zPCI functions, the
error-state controls, config access through the s390 pci_ops, the zdev life cycle."""

from __future__ import annotations

import errno
import inspect
from collections.abc import Callable

from kernel.lib import bug, lockdep
from kernel.lib.cleanup import guard
from kernel.lib.mutex import mutex, mutex_lock, mutex_unlock
from kernel.lib.printk import KERN_INFO, dmesg
from kernel.pci.access import pci_read_config_dword, pci_read_config_word, pci_write_config_dword
from kernel.pci.pci_driver import pci_dev_put
from kernel.pci.search import pci_get_slot
from kernel.s390.include.asm.pci import ZPCI_FN_STATE_RESERVED, zdev_enabled
from kernel.s390.pci import pci as zpci
from kernel.s390.pci.pci import (
    get_zdev_by_fid,
    zpci_clear_error_state,
    zpci_disable_device,
    zpci_enable_device,
    zpci_hot_reset_device,
    zpci_is_enabled,
    zpci_reset_load_store_blocked,
)
from kernel.s390.pci.pci_bus import zpci_zdev_put
from sim.host import zdev_of
from sim.zpci.firmware import ZpciFirmware

Machine = Callable[..., ZpciFirmware]


def _line_of(fn: Callable[..., object], text: str) -> int:
    """The line of ``fn``'s first source line containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)

def test_pci_base_init_scans_and_enables_zpci(zmachine: Machine) -> None:
    zmachine()
    assert zpci_is_enabled()
    assert [z.fid for z in zpci.zpci_list] == [0x10]


def test_without_facilities_pci_is_not_supported() -> None:
    fw = ZpciFirmware(facilities=frozenset())
    fw.boot()
    try:
        assert not zpci_is_enabled()
        assert [(line.level, line.text) for line in dmesg()] == [
            (KERN_INFO, "zpci: PCI is not supported because CPU facilities 69 or 71 are not available")
        ]
    finally:
        fw.shutdown()


def test_without_a_machine_zpci_stays_off_and_silent() -> None:
    assert not zpci_is_enabled()
    assert [line.text for line in dmesg() if line.text.startswith("zpci")] == []


def test_get_zdev_by_fid_takes_a_reference(zmachine: Machine) -> None:
    zmachine()
    zdev = get_zdev_by_fid(0x10)
    assert zdev is not None
    refs = zdev.kref.refcount
    again = get_zdev_by_fid(0x10)
    assert again is zdev and zdev.kref.refcount == refs + 1
    zpci_zdev_put(again)
    zpci_zdev_put(zdev)
    assert get_zdev_by_fid(0x99) is None


def test_config_space_is_read_and_written_through_pci_load_store(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    assert zdev.zbus is not None and zdev.zbus.bus is not None
    pdev = pci_get_slot(zdev.zbus.bus, 0)
    assert pdev is not None
    assert pci_read_config_word(pdev, 0) == (0, 0x1AF4)
    assert pci_read_config_dword(pdev, 0) == (0, 0x10411AF4)
    assert pci_write_config_dword(pdev, 0xC0, 0xA5A5A5A5) == 0
    assert fw.function(0x10).function.config_read(0xC0, 4) == 0xA5A5A5A5
    fw.function(0x10).blocked = True  # load/store blocked: the kernel reads all ones
    assert pci_read_config_dword(pdev, 0)[1] == 0xFFFFFFFF
    pci_dev_put(pdev)


def test_disable_then_enable_changes_the_handle(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    with guard(mutex)(zdev.state_lock):  # as zpci_hot_reset_device()'s callers
        assert zpci_disable_device(zdev) == 0
        assert not zdev_enabled(zdev) and zdev.fh == fw.fh(0x10)
        assert zpci_enable_device(zdev) == 0
    assert zdev_enabled(zdev) and zdev.fh == fw.fh(0x10)


def test_disable_of_an_already_disabled_function_refreshes_the_handle(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    fw.disable_behind_kernel(0x10)
    with guard(mutex)(zdev.state_lock):
        assert zpci_disable_device(zdev) == -errno.EINVAL
    msg = "zpci: Disabling PCI function 00000010 had no effect as it was already disabled"
    assert (dmesg()[-1].level, dmesg()[-1].text) == (KERN_INFO, msg)  # pr_info
    assert zdev.fh == fw.fh(0x10) and not zdev_enabled(zdev)


def test_hot_reset_treats_already_disabled_as_success(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    fw.disable_behind_kernel(0x10)
    mutex_lock(zdev.state_lock)
    try:
        assert zpci_hot_reset_device(zdev) == 0
    finally:
        mutex_unlock(zdev.state_lock)
    assert zdev_enabled(zdev) and zdev.fh == fw.fh(0x10)


def test_enable_of_an_enabled_function_is_eio(zmachine: Machine) -> None:
    zmachine()
    zdev = zdev_of(0x10)
    with guard(mutex)(zdev.state_lock):
        assert zpci_enable_device(zdev) == -errno.EIO


def test_hot_reset_needs_the_state_lock(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    assert zpci_hot_reset_device(zdev) == 0
    assert len(bug.warnings) == 1 and "lockdep_assert_held(zdev->state_lock)" in bug.warnings[0]
    bug.warnings.clear()
    # and the guarded-field check names the first access to zdev->fh without the lock
    line = _line_of(zpci.zpci_hot_reset_device, "zpci_dbg(")
    assert lockdep.reports[0] == (
        "WARNING: guarded field accessed without its lock\n"
        f"MainThread reads zdev->fh at kernel/s390/pci/pci.py:{line} (zpci_hot_reset_device)\n"
        "but zdev->fh is __guarded_by(zdev->state_lock), which it does not hold (held: none)"
    )
    lockdep.reports.clear()
    mutex_lock(zdev.state_lock)
    try:
        assert zpci_hot_reset_device(zdev) == 0
    finally:
        mutex_unlock(zdev.state_lock)
    assert bug.warnings == []
    assert zdev.fh == fw.fh(0x10) and zdev_enabled(zdev)
    assert fw.function(0x10).ioat_registered


def test_hot_reset_fails_with_eio_for_a_permanently_failed_function(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    fw.function(0x10).perm_failed = True
    mutex_lock(zdev.state_lock)
    try:
        assert zpci_hot_reset_device(zdev) == -errno.EIO  # enable answers "permanent error"
    finally:
        mutex_unlock(zdev.state_lock)
    assert not zdev_enabled(zdev)


def test_error_state_controls_answer_eio_when_not_in_error(zmachine: Machine) -> None:
    fw = zmachine()
    zdev = zdev_of(0x10)
    f = fw.function(0x10)
    with guard(mutex)(zdev.state_lock):  # as the recovery that calls them
        assert zpci_reset_load_store_blocked(zdev) == -errno.EIO
        assert zpci_clear_error_state(zdev) == -errno.EIO
        f.error = f.blocked = True
        assert zpci_reset_load_store_blocked(zdev) == 0 and not f.blocked and f.error
        assert zpci_clear_error_state(zdev) == 0 and not f.error


def test_reserved_device_leaves_the_list_and_is_released(zmachine: Machine) -> None:
    fw = zmachine()
    fw.raise_availability(0x10, 0x0308)  # Standby -> Reserved
    assert fw.wait_events_handled()
    assert get_zdev_by_fid(0x10) is None
    assert zpci.zpci_list == []


def test_reserved_state_constant() -> None:
    assert int(ZPCI_FN_STATE_RESERVED) == 2
