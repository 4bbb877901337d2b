"""drivers/pci/hotplug/s390_pci_hpc.c: the PCI hot-plug controller driver for System z
(Linux 7.1-rc4 base; not changed by the v17 series).  ``pr_fmt`` is "zpci: ".

Source: Kingxukai/linux @ 0291023e7330, drivers/pci/hotplug/s390_pci_hpc.c, with that
repository's stray "the woke" insertions in comments ignored; a 6.13+ text whose
identity with 7.1-rc4 is not verified (no v17 patch touches it, so no blob id pins
it).  Each zPCI function gets its own hotplug slot, named by its fid (``%08x``) and
registered with slot number ``zdev->devfn``.  ``reset_slot`` is how the PCI core's slot
reset (``pci_reset_hotplug_slot``) reaches ``zpci_hot_reset_device()``: it only
*tries* ``zdev->state_lock`` and fails with -EIO while a state change (such as an
error event) is in progress.

``container_of(hotplug_slot, struct zpci_dev, hotplug_slot)`` is
:func:`zdev_of_slot`.  Left out: ``pci_num_vf()`` in ``disable_slot`` counts no VFs
(SR-IOV is not modelled).
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.include.linux.pci_hotplug import hotplug_slot, hotplug_slot_ops
from kernel.lib.mutex import mutex_lock, mutex_trylock, mutex_unlock
from kernel.pci.hotplug.pci_hotplug_core import pci_hp_deregister, pci_hp_register
from kernel.pci.pci_driver import pci_dev_put
from kernel.pci.search import pci_get_slot
from kernel.s390.include.asm.pci import (
    ZPCI_FN_STATE_CONFIGURED,
    ZPCI_FN_STATE_STANDBY,
    zpci_dev,
)
from kernel.s390.include.asm.pci_debug import zpci_dbg

__all__ = ["s390_hotplug_slot_ops", "zdev_of_slot", "zpci_exit_slot", "zpci_init_slot"]


def pr_fmt(fmt: str) -> str:
    return "zpci: " + fmt


SLOT_NAME_SIZE: Final = 10


def zdev_of_slot(slot: hotplug_slot) -> zpci_dev:
    """``container_of(hotplug_slot, struct zpci_dev, hotplug_slot)``.  Exists only in
    Python."""
    zdev: zpci_dev = slot.container
    return zdev


def enable_slot(hotplug_slot: hotplug_slot) -> int:
    from kernel.s390.char.sclp_pci import sclp_pci_configure
    from kernel.s390.pci.pci import zpci_scan_configured_device

    zdev = zdev_of_slot(hotplug_slot)

    mutex_lock(zdev.state_lock)
    try:
        if zdev.state != ZPCI_FN_STATE_STANDBY:
            return -errno.EIO  # goto out

        rc = sclp_pci_configure(zdev.fid)
        zpci_dbg(3, "conf fid:%x, rc:%d\n", zdev.fid, rc)
        if rc:
            return rc  # goto out
        zdev.state = ZPCI_FN_STATE_CONFIGURED

        rc = zpci_scan_configured_device(zdev, zdev.fh)
    finally:
        # out:
        mutex_unlock(zdev.state_lock)
    return rc


def pci_num_vf(pdev: object) -> int:
    """drivers/pci/iov.c: SR-IOV is not modelled, a device has no VFs.  Exists here only
    so disable_slot() reads as in C."""
    return 0


def disable_slot(hotplug_slot: hotplug_slot) -> int:
    from kernel.s390.pci.pci import zpci_deconfigure_device

    zdev = zdev_of_slot(hotplug_slot)
    pdev = None

    mutex_lock(zdev.state_lock)
    try:
        if zdev.state != ZPCI_FN_STATE_CONFIGURED:
            return -errno.EIO  # goto out

        assert zdev.zbus is not None and zdev.zbus.bus is not None
        pdev = pci_get_slot(zdev.zbus.bus, zdev.devfn)
        if pdev is not None and pci_num_vf(pdev):
            return -errno.EBUSY  # goto out

        rc = zpci_deconfigure_device(zdev)
    finally:
        # out:
        if pdev is not None:
            pci_dev_put(pdev)
        mutex_unlock(zdev.state_lock)
    return rc


def reset_slot(hotplug_slot: hotplug_slot, probe: bool) -> int:
    from kernel.s390.pci.pci import zpci_hot_reset_device

    zdev = zdev_of_slot(hotplug_slot)
    rc = -errno.EIO

    # If we can't get the zdev->state_lock the device state is currently undergoing a
    # transition and we bail out - just the same as if the device's state is not
    # configured at all.
    if not mutex_trylock(zdev.state_lock):
        return rc

    try:
        # We can reset only if the function is configured
        if zdev.state != ZPCI_FN_STATE_CONFIGURED:
            return rc  # goto out

        if probe:
            rc = 0
            return rc  # goto out

        rc = zpci_hot_reset_device(zdev)
    finally:
        # out:
        mutex_unlock(zdev.state_lock)
    return rc


def get_power_status(hotplug_slot: hotplug_slot) -> tuple[int, int]:
    """``int get_power_status(struct hotplug_slot *, u8 *value)`` -> (0, value)."""
    from kernel.s390.pci.pci import zpci_is_device_configured

    zdev = zdev_of_slot(hotplug_slot)

    value = 1 if zpci_is_device_configured(zdev) else 0
    return 0, value


def get_adapter_status(hotplug_slot: hotplug_slot) -> tuple[int, int]:
    # if the slot exists it always contains a function
    return 0, 1


s390_hotplug_slot_ops: Final = hotplug_slot_ops(
    enable_slot=enable_slot,
    disable_slot=disable_slot,
    reset_slot=reset_slot,
    get_power_status=get_power_status,
    get_adapter_status=get_adapter_status,
)


def zpci_init_slot(zdev: zpci_dev) -> int:

    zbus = zdev.zbus
    assert zbus is not None and zbus.bus is not None

    zdev.hotplug_slot.ops = s390_hotplug_slot_ops

    name = f"{zdev.fid:08x}"[: SLOT_NAME_SIZE - 1]  # snprintf(name, SLOT_NAME_SIZE, "%08x", fid)
    return pci_hp_register(zdev.hotplug_slot, zbus.bus, zdev.devfn, name)


def zpci_exit_slot(zdev: zpci_dev) -> None:

    pci_hp_deregister(zdev.hotplug_slot)
