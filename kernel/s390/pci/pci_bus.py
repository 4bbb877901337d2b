"""arch/s390/pci/pci_bus.c and pci_bus.h: the zPCI buses (Linux 7.1-rc4 base; not changed
by the v17 series).

Source read: Kingxukai/linux @ 9b44fff6 (6.16-era, with ``topo``/``topo_is_tid`` as in
the base asm/pci.h), and torvalds/linux pci_bus.h for the inline helpers;
``zdev_from_bus`` is the 7.x name of pci_bus.h's bus-to-zdev helper that pci.c calls.

A zbus groups the functions that share a PCI domain: the functions of one
multi-function device (same PCHID, or same TID when the platform reports one, with a
RID available) sit on one zbus at ``devfn = rid & 0xff``; any other function gets a
zbus of its own at devfn 0.  The zbus owns the ``pci_bus`` created with the s390
``pci_ops``.

Left out and why: BAR resources (``zpci_setup_bus_resources`` only marks
``has_resources``; no iomem resource tree is modelled), the DMA range map of
``pcibios_bus_add_device`` (no DMA is modelled), SR-IOV linking (``zpci_iov_*``:
``vfn`` functions are placed like physical ones, never as isolated VFs), and the
MSI parent domain of a zbus (no interrupts are modelled).
"""

from __future__ import annotations

import errno

from kernel.include.linux.pci import pci_bus, pci_channel_io_perm_failure, pci_ops
from kernel.lib.bug import WARN
from kernel.lib.context_analysis import context_unsafe
from kernel.lib.init import static_init
from kernel.lib.kref import kref_get, kref_init, kref_put
from kernel.lib.mutex import DEFINE_MUTEX, mutex_init, mutex_lock, mutex_unlock
from kernel.lib.printk import pr_err, pr_warn
from kernel.pci.bus import pci_bus_add_device, pci_bus_add_devices
from kernel.pci.pci_driver import pci_dev_put
from kernel.pci.probe import (
    pci_create_root_bus,
    pci_lock_rescan_remove,
    pci_scan_child_bus,
    pci_scan_single_device,
    pci_unlock_rescan_remove,
)
from kernel.pci.remove import pci_remove_root_bus, pci_stop_and_remove_bus_device_locked, pci_stop_root_bus
from kernel.pci.search import pci_get_slot
from kernel.s390.include.asm.pci import (
    ZPCI_BUS_NR,
    ZPCI_FN_STATE_CONFIGURED,
    ZPCI_FUNCTIONS_PER_BUS,
    ZPCI_NR_DEVICES,
    zdev_enabled,
    zpci_bus,
    zpci_dev,
)

__all__ = [
    "ZPCI_RID_MASK_DEVFN",
    "zdev_from_bus",
    "zpci_bus_device_register",
    "zpci_bus_device_unregister",
    "zpci_bus_remove_device",
    "zpci_bus_scan_bus",
    "zpci_bus_scan_busses",
    "zpci_bus_scan_device",
    "zpci_zdev_get",
    "zpci_zdev_put",
]


def pr_fmt(fmt: str) -> str:
    return "zpci: " + fmt


#: arch/s390/include/asm/pci.h: the devfn part of a RID.
ZPCI_RID_MASK_DEVFN = 0x00FF


# --- pci_bus.h ------------------------------------------------------------------------


def zpci_zdev_get(zdev: zpci_dev) -> None:
    kref_get(zdev.kref)


def zpci_zdev_put(zdev: zpci_dev | None) -> None:
    """``kref_put(&zdev->kref, zpci_release_device)``.  Tolerates NULL as the callers
    in pci_event.c need (they pass a possibly NULL zdev)."""
    from kernel.s390.pci.pci import zpci_release_device

    if zdev is None:
        return
    kref_put(zdev.kref, lambda _k: zpci_release_device(zdev))


def zdev_from_bus(bus: pci_bus, devfn: int) -> zpci_dev | None:
    zbus: zpci_bus = bus.sysdata
    return None if devfn >= ZPCI_FUNCTIONS_PER_BUS else zbus.function[devfn]


# --- pci_bus.c ------------------------------------------------------------------------

#: ``static LIST_HEAD(zbus_list)``
zbus_list: list[zpci_bus] = []
zbus_list_lock = DEFINE_MUTEX("zbus_list_lock")
zpci_nb_devices = 0


@static_init
def pci_bus_static_init() -> None:
    global zpci_nb_devices
    zbus_list.clear()
    mutex_init(zbus_list_lock)
    zpci_nb_devices = 0


def zpci_bus_prepare_device(zdev: zpci_dev) -> int:
    """Prepare a zPCI function for scanning: enable it and set up its resources.  If an
    error occurs the function is not enabled."""
    from kernel.s390.pci.pci import zpci_enable_device, zpci_setup_bus_resources

    if not zdev_enabled(zdev):
        rc = zpci_enable_device(zdev)
        if rc:
            return rc

    if not zdev.has_resources:
        zpci_setup_bus_resources(zdev)
        # the BAR resources would be added to the bus here (none are modelled)

    return 0


def zpci_bus_scan_device(zdev: zpci_dev) -> int:
    """Scan a single device adding it to the PCI core."""

    rc = zpci_bus_prepare_device(zdev)
    if rc:
        return rc

    assert zdev.zbus is not None and zdev.zbus.bus is not None
    pdev = pci_scan_single_device(zdev.zbus.bus, zdev.devfn)
    if pdev is None:
        return -errno.ENODEV

    pci_lock_rescan_remove()
    pci_bus_add_device(pdev)
    pci_unlock_rescan_remove()

    return 0


def zpci_bus_remove_device(zdev: zpci_dev, set_error: bool) -> None:
    """Remove the zdev's pci_dev from the PCI core; with ``set_error`` its error state
    is set to permanent failure first.  The zdev stays reachable through its hotplug
    slot and the zPCI API."""

    zbus = zdev.zbus
    if zbus is None or zbus.bus is None:
        return

    pdev = pci_get_slot(zbus.bus, zdev.devfn)
    if pdev is not None:
        if set_error:
            pdev.error_state = pci_channel_io_perm_failure
        pci_stop_and_remove_bus_device_locked(pdev)
        # balance pci_get_slot
        pci_dev_put(pdev)


def zpci_bus_scan_bus(zbus: zpci_bus) -> int:
    """Enable and scan all configured functions on the bus; a function that fails to
    be prepared makes the result -EIO, the others are still tried."""

    ret = 0

    for devfn in range(ZPCI_FUNCTIONS_PER_BUS):
        zdev = zbus.function[devfn]
        if zdev is not None and zdev.state == ZPCI_FN_STATE_CONFIGURED:
            rc = zpci_bus_prepare_device(zdev)
            if rc:
                ret = -errno.EIO

    assert zbus.bus is not None
    pci_lock_rescan_remove()
    pci_scan_child_bus(zbus.bus)
    pci_bus_add_devices(zbus.bus)
    pci_unlock_rescan_remove()

    return ret


def zpci_bus_scan_busses() -> None:
    mutex_lock(zbus_list_lock)
    for zbus in list(zbus_list):
        # The boot-time scan (zpci_scan_devices()) reads zdev->state and enables the
        # functions, writing zdev->fh, without zdev->state_lock, as the C does: no
        # event for them is handled before the initcall returns.
        with context_unsafe():
            zpci_bus_scan_bus(zbus)
    mutex_unlock(zbus_list_lock)


def zpci_bus_is_multifunction_root(zdev: zpci_dev) -> bool:
    from kernel.s390.pci import pci as pci_c

    return not pci_c.s390_pci_no_rid and bool(zdev.rid_available) and not zdev.vfn


def zpci_bus_create_pci_bus(zbus: zpci_bus, fr: zpci_dev, ops: pci_ops) -> int:
    """Create the PCI bus of this zbus; the function ``fr`` gives the domain (its UID),
    the multifunction property and the bus speed."""
    from kernel.s390.pci.pci import zpci_alloc_domain, zpci_free_domain

    domain = zpci_alloc_domain(fr.uid & 0xFFFF)
    if domain < 0:
        return domain

    zbus.domain_nr = domain
    zbus.multifunction = int(zpci_bus_is_multifunction_root(fr))
    zbus.max_bus_speed = fr.max_bus_speed

    bus = pci_create_root_bus(None, ZPCI_BUS_NR, ops, zbus, [])
    if bus is None:
        zpci_free_domain(zbus.domain_nr)
        return -errno.EFAULT

    zbus.bus = bus

    return 0


def zpci_bus_release(zbus: zpci_bus) -> None:
    from kernel.s390.pci.pci import zpci_free_domain

    if zbus.bus is not None:
        pci_lock_rescan_remove()
        pci_stop_root_bus(zbus.bus)

        zpci_free_domain(zbus.domain_nr)

        pci_remove_root_bus(zbus.bus)
        pci_unlock_rescan_remove()

    mutex_lock(zbus_list_lock)
    if zbus in zbus_list:
        zbus_list.remove(zbus)
    mutex_unlock(zbus_list_lock)


def zpci_bus_put(zbus: zpci_bus) -> None:
    kref_put(zbus.kref, lambda _k: zpci_bus_release(zbus))


def zpci_bus_get(topo: int, topo_is_tid: bool) -> zpci_bus | None:
    found = None
    mutex_lock(zbus_list_lock)
    for zbus in zbus_list:
        if not zbus.multifunction:
            continue
        if topo_is_tid == bool(zbus.topo_is_tid) and topo == zbus.topo:
            kref_get(zbus.kref)
            found = zbus
            break
    mutex_unlock(zbus_list_lock)
    return found


def zpci_bus_alloc(topo: int, topo_is_tid: bool) -> zpci_bus | None:
    zbus = zpci_bus()

    zbus.topo = topo
    zbus.topo_is_tid = int(topo_is_tid)
    mutex_lock(zbus_list_lock)
    zbus_list.append(zbus)
    mutex_unlock(zbus_list_lock)

    kref_init(zbus.kref)

    return zbus


def zpci_bus_add_device(zbus: zpci_bus, zdev: zpci_dev) -> int:
    from kernel.pci.hotplug.s390_pci_hpc import zpci_init_slot

    global zpci_nb_devices
    rc = -errno.EINVAL

    if zbus.multifunction:
        if not zdev.rid_available:
            WARN(True, "rid_available not set for multifunction\n")
            return rc
        zdev.devfn = zdev.rid & ZPCI_RID_MASK_DEVFN

    if zbus.function[zdev.devfn] is not None:
        pr_err("devfn %04x is already assigned\n", zdev.devfn)
        return rc
    zdev.zbus = zbus
    zbus.function[zdev.devfn] = zdev
    zpci_nb_devices += 1

    rc = zpci_init_slot(zdev)
    if rc:
        # error:
        zbus.function[zdev.devfn] = None
        zdev.zbus = None
        zpci_nb_devices -= 1
        return rc
    zdev.has_hp_slot = 1

    return 0


def zpci_bus_device_register(zdev: zpci_dev, ops: pci_ops) -> int:
    topo_is_tid = bool(zdev.tid_avail)

    if zpci_nb_devices == ZPCI_NR_DEVICES:
        pr_warn(
            "Adding PCI function %08x failed because the configured limit of %d is reached\n",
            zdev.fid,
            ZPCI_NR_DEVICES,
        )
        return -errno.ENOSPC

    topo = zdev.tid if topo_is_tid else zdev.pchid
    zbus = zpci_bus_get(topo, topo_is_tid)
    # An isolated VF would get its own domain/bus here (SR-IOV is not modelled).

    if zbus is None:
        zbus = zpci_bus_alloc(topo, topo_is_tid)
        if zbus is None:
            return -errno.ENOMEM

    if zbus.bus is None:
        # The UID of the first PCI function registered with a zpci_bus is used as the
        # domain number for that bus.  Currently there is exactly one zpci_bus per domain.
        rc = zpci_bus_create_pci_bus(zbus, zdev, ops)
        if rc:
            pr_err("Adding PCI function %08x failed\n", zdev.fid)
            zpci_bus_put(zbus)
            return rc

    rc = zpci_bus_add_device(zbus, zdev)
    if rc:
        pr_err("Adding PCI function %08x failed\n", zdev.fid)
        zpci_bus_put(zbus)
        return rc

    return 0


def zpci_bus_device_unregister(zdev: zpci_dev) -> None:
    global zpci_nb_devices
    zbus = zdev.zbus
    assert zbus is not None

    zpci_nb_devices -= 1
    zbus.function[zdev.devfn] = None
    zpci_bus_put(zbus)
