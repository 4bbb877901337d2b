"""drivers/pci/pci-driver.c (Linux 7.1-rc4): the PCI bus type, driver registration,
binding a driver to a device, device references and the error-recovery uevent.
Not changed by the v17 series.

Ported from pci-driver.c: ``pci_match_id``, ``pci_match_device``, ``local_pci_probe``,
``pci_call_probe``, ``__pci_device_probe``, ``pci_device_can_probe``,
``pci_device_probe``, ``pci_device_remove``, ``__pci_register_driver`` (and the
``pci_register_driver`` macro), ``pci_unregister_driver``, ``pci_bus_match``,
``pci_dev_get``, ``pci_dev_put``, ``pci_uevent_ers``, ``pci_bus_type``,
``to_pci_driver``.  ``pci_match_one_device`` is the static inline of drivers/pci/pci.h.

``pci_uevent_ers`` is the form after the 2025 fix "PCI: ... NEED_RESET as beginning
recovery" (msgid 20250807-add_err_uevents-v5-1): ``PCI_ERS_RESULT_NEED_RESET`` also
reports ``ERROR_EVENT=BEGIN_RECOVERY``.  The C builds it for CONFIG_PCIEAER,
CONFIG_EEH or CONFIG_S390; it is always built here.

The driver core under the bus (drivers/base/dd.c and bus.c) is reduced to what
binding needs and kept here, as kernel/lib/device.py leaves binding to the bus code:
the bus's device and driver lists, ``driver_register``/``driver_unregister``,
``driver_attach``, ``device_attach``, ``really_probe``, ``device_driver_attach``,
``device_release_driver``, ``bus_add_device``/``bus_remove_device`` (called by
``device_add``/``device_del`` of the PCI core), and the sysfs files user space uses
to hand a device to a given driver: ``driver_override_store`` (pci-sysfs.c),
``bind_store``, ``unbind_store`` and ``drivers_probe_store`` (bus.c), which take the
written text and return the count or a negative errno, as the files do.

Left out: dynamic ids (``new_id``/``remove_id``), power management callbacks,
``pci_uevent`` (no KOBJ_ADD uevent is sent on device_add), shutdown, IRQ assignment
in probe (``pci_assign_irq``/``pcibios_alloc_irq``: no INTx model), NUMA placement
of probe (``work_on_cpu``), runtime PM, DMA configuration, asynchronous probing and
deferred probe.
"""

from __future__ import annotations

import errno

from kernel.include.linux.pci import (
    PCI_ANY_ID,
    PCI_D0,
    PCI_ERS_RESULT_CAN_RECOVER,
    PCI_ERS_RESULT_DISCONNECT,
    PCI_ERS_RESULT_NEED_RESET,
    PCI_ERS_RESULT_NONE,
    PCI_ERS_RESULT_RECOVERED,
    PCI_UNKNOWN,
    pci_dev,
    pci_dev_binding_disallowed,
    pci_device_id,
    pci_driver,
    pci_ers_result_t,
    to_pci_dev,
)
from kernel.lib.device import (
    bus_type,
    device,
    device_driver,
    device_lock,
    device_unlock,
    get_device,
    put_device,
)
from kernel.lib.init import static_init
from kernel.lib.kobject import KOBJ_CHANGE, kobject_uevent_env
from kernel.lib.printk import dev_dbg, dev_err, pci_warn

__all__ = [
    "bind_store",
    "bus_add_device",
    "bus_remove_device",
    "device_attach",
    "device_driver_attach",
    "device_release_driver",
    "driver_attach",
    "driver_override_store",
    "drivers_probe_store",
    "pci_bus_type",
    "pci_dev_get",
    "pci_dev_put",
    "pci_match_id",
    "pci_register_driver",
    "pci_uevent_ers",
    "pci_unregister_driver",
    "to_pci_driver",
    "unbind_store",
]

#: ``const struct bus_type pci_bus_type``.
pci_bus_type = bus_type("pci")

#: The bus's lists of registered drivers and added devices (``bus->p->klist_drivers``
#: and ``klist_devices``).
bus_drivers: list[device_driver] = []
bus_devices: list[device] = []

#: PAGE_SIZE: the longest text a sysfs store accepts is one page minus the NUL.
_PAGE_SIZE = 4096


@static_init
def pci_driver_static_init() -> None:
    bus_drivers.clear()
    bus_devices.clear()


def to_pci_driver(drv: device_driver | None) -> pci_driver | None:
    """``container_of(drv, struct pci_driver, driver)`` (NULL stays NULL)."""
    if drv is None:
        return None
    pdrv = drv.container
    if not isinstance(pdrv, pci_driver):
        raise TypeError(f"to_pci_driver() of a driver that is not a PCI driver: {drv.name}")
    return pdrv


def pci_match_one_device(id: pci_device_id, dev: pci_dev) -> pci_device_id | None:
    """drivers/pci/pci.h (static inline): does ``id`` match ``dev``?"""
    if (
        (id.vendor == PCI_ANY_ID or id.vendor == dev.vendor)
        and (id.device == PCI_ANY_ID or id.device == dev.device)
        and (id.subvendor == PCI_ANY_ID or id.subvendor == dev.subsystem_vendor)
        and (id.subdevice == PCI_ANY_ID or id.subdevice == dev.subsystem_device)
        and not ((id.class_ ^ dev.class_) & id.class_mask)
    ):
        return id
    return None


def pci_match_id(ids: list[pci_device_id] | None, dev: pci_dev) -> pci_device_id | None:
    """The first entry of ``ids`` matching ``dev``.  The table ends at an all-zero
    entry, as in C, or at the end of the list."""
    if ids is not None:
        for id in ids:
            if not (id.vendor or id.subvendor or id.class_mask):
                break
            if pci_match_one_device(id, dev):
                return id
    return None


#: ``pci_device_id_any``: what a driver_override match hands the probe routine.
pci_device_id_any = pci_device_id(
    vendor=PCI_ANY_ID, device=PCI_ANY_ID, subvendor=PCI_ANY_ID, subdevice=PCI_ANY_ID
)


def pci_match_device(drv: pci_driver, dev: pci_dev) -> pci_device_id | None:
    # With driver_override set, only the named driver binds.
    if dev.driver_override is not None and dev.driver_override != drv.name:
        return None

    # (Dynamic ids are not modelled.)
    ids = drv.id_table
    start = 0
    while ids is not None and (found_id := pci_match_id(ids[start:], dev)) is not None:
        # Entries marked override_only match only through driver_override.
        if found_id.override_only:
            if dev.driver_override is not None:
                return found_id
        else:
            return found_id
        start = ids.index(found_id) + 1

    # driver_override always matches: hand over a wildcard id.
    if dev.driver_override is not None:
        return pci_device_id_any
    return None


def local_pci_probe(drv: pci_driver, pci_dev_: pci_dev, id: pci_device_id) -> int:
    """``local_pci_probe(struct drv_dev_and_id *)``: the three members are parameters."""
    assert drv.probe is not None
    pci_dev_.driver = drv
    rc = drv.probe(pci_dev_, id)
    if not rc:
        return rc
    if rc < 0:
        pci_dev_.driver = None
        return rc
    # A positive return is success, but the driver should not do that.
    pci_warn(pci_dev_, "Driver probe function unexpectedly returned %d\n", rc)
    return 0


def pci_call_probe(drv: pci_driver, dev: pci_dev, id: pci_device_id) -> int:
    # Probe runs on the calling thread: NUMA placement is not modelled.
    dev.is_probed = True
    error = local_pci_probe(drv, dev, id)
    dev.is_probed = False
    return error


def __pci_device_probe(drv: pci_driver, pci_dev_: pci_dev) -> int:
    error = 0
    if drv.probe is not None:
        error = -errno.ENODEV

        id = pci_match_device(drv, pci_dev_)
        if id is not None:
            error = pci_call_probe(drv, pci_dev_, id)
    return error


def pci_device_can_probe(pdev: pci_dev) -> bool:
    """The !CONFIG_PCI_IOV form (no SR-IOV model): always True."""
    return True


def pci_device_probe(dev: device) -> int:
    """``pci_bus_type.probe``: called by the driver core with the device lock held
    and ``dev->driver`` set."""
    pci_dev_ = to_pci_dev(dev)
    drv = to_pci_driver(dev.driver)
    assert drv is not None

    if not pci_device_can_probe(pci_dev_):
        return -errno.ENODEV

    pci_dev_get(pci_dev_)
    error = __pci_device_probe(drv, pci_dev_)
    if error:
        pci_dev_put(pci_dev_)

    return error


def pci_device_remove(dev: device) -> None:
    """``pci_bus_type.remove``: the driver core unbinds, device lock held."""
    pci_dev_ = to_pci_dev(dev)
    drv = pci_dev_.driver

    if drv is not None and drv.remove is not None:
        drv.remove(pci_dev_)
    pci_dev_.driver = None

    # A device left on is in an unknown state until a driver probes it again.
    if pci_dev_.current_state == PCI_D0:
        pci_dev_.current_state = PCI_UNKNOWN

    pci_dev_put(pci_dev_)


def __pci_register_driver(drv: pci_driver, owner: object = None, mod_name: str = "") -> int:
    """Register ``drv`` and bind it to every matching device without a driver."""
    assert drv.driver is not None
    drv.driver.name = drv.name
    drv.driver.bus = pci_bus_type
    drv.driver.container = drv

    return driver_register(drv.driver)


def pci_register_driver(drv: pci_driver) -> int:
    """``#define pci_register_driver(driver)`` of include/linux/pci.h."""
    return __pci_register_driver(drv, None, drv.name)


def pci_unregister_driver(drv: pci_driver) -> None:
    """Unbind ``drv`` from its devices (calling its remove()) and unregister it."""
    assert drv.driver is not None
    driver_unregister(drv.driver)


def pci_bus_match(dev: device, drv: device_driver) -> int:
    """``pci_bus_type.match``: 1 if ``drv`` may bind ``dev``."""
    pci_dev_ = to_pci_dev(dev)

    if pci_dev_binding_disallowed(pci_dev_):
        return 0

    pci_drv = to_pci_driver(drv)
    assert pci_drv is not None
    found_id = pci_match_device(pci_drv, pci_dev_)
    if found_id is not None:
        return 1

    return 0


def pci_dev_get(dev: pci_dev | None) -> pci_dev | None:
    """Take a reference on ``dev`` (None passes through)."""
    if dev is not None:
        get_device(dev.dev)
    return dev


def pci_dev_put(dev: pci_dev | None) -> None:
    """Drop a reference; the last one releases the device."""
    if dev is not None:
        put_device(dev.dev)


def pci_uevent_ers(pdev: pci_dev, err_type: pci_ers_result_t) -> None:
    """Tell user space (a KOBJ_CHANGE uevent) where the error recovery of ``pdev``
    stands."""
    envp: list[str] = []

    if err_type in (PCI_ERS_RESULT_NONE, PCI_ERS_RESULT_CAN_RECOVER, PCI_ERS_RESULT_NEED_RESET):
        envp.append("ERROR_EVENT=BEGIN_RECOVERY")
        envp.append("DEVICE_ONLINE=0")
    elif err_type == PCI_ERS_RESULT_RECOVERED:
        envp.append("ERROR_EVENT=SUCCESSFUL_RECOVERY")
        envp.append("DEVICE_ONLINE=1")
    elif err_type == PCI_ERS_RESULT_DISCONNECT:
        envp.append("ERROR_EVENT=FAILED_RECOVERY")
        envp.append("DEVICE_ONLINE=0")

    if envp:
        kobject_uevent_env(pdev.dev.kobj, KOBJ_CHANGE, envp)


# --- the driver core, reduced (drivers/base/dd.c, drivers/base/bus.c) ---


def driver_match_device(drv: device_driver, dev: device) -> int:
    """drivers/base/base.h: ask the bus whether ``drv`` supports ``dev``."""
    return pci_bus_match(dev, drv)


def really_probe(dev: device, drv: device_driver) -> int:
    """drivers/base/dd.c, reduced: bind, call the bus's probe, unbind on failure."""
    dev.driver = drv
    ret = pci_device_probe(dev)
    if ret:
        dev.driver = None
        if ret in (-errno.ENODEV, -errno.ENXIO):
            dev_dbg(dev, "probe with driver %s rejects match %d\n", drv.name, ret)
        else:
            dev_err(dev, "probe with driver %s failed with error %d\n", drv.name, ret)
    return ret


def __driver_probe_device(drv: device_driver, dev: device) -> int:
    """drivers/base/dd.c: called with the device lock held."""
    if dev not in bus_devices:  # !device_is_registered(dev)
        return -errno.ENODEV
    if dev.driver is not None:
        return -errno.EBUSY
    return really_probe(dev, drv)


def device_driver_attach(drv: device_driver, dev: device) -> int:
    """drivers/base/dd.c: bind ``drv`` to ``dev`` (the ``bind`` file)."""
    device_lock(dev)
    try:
        ret = __driver_probe_device(drv, dev)
    finally:
        device_unlock(dev)
    return -ret if ret > 0 else ret


def device_attach(dev: device) -> int:
    """drivers/base/dd.c: try every registered driver on ``dev``.  1 if bound (or
    already bound), 0 if no driver matched, a negative errno on error."""
    device_lock(dev)
    try:
        if dev.driver is not None:
            return 1
        for drv in list(bus_drivers):
            if not driver_match_device(drv, dev):
                continue
            ret = really_probe(dev, drv)
            if ret == 0:
                return 1
            if ret not in (-errno.ENODEV, -errno.ENXIO):
                return ret
        return 0
    finally:
        device_unlock(dev)


def driver_attach(drv: device_driver) -> int:
    """drivers/base/dd.c: try ``drv`` on every device of the bus without a driver.
    Probe errors do not stop the walk, as in ``__driver_attach``."""
    for dev in list(bus_devices):
        if not driver_match_device(drv, dev):
            continue
        device_lock(dev)
        try:
            if dev.driver is None:
                really_probe(dev, drv)
        finally:
            device_unlock(dev)
    return 0


def device_release_driver(dev: device) -> None:
    """drivers/base/dd.c: unbind whatever driver ``dev`` has."""
    device_lock(dev)
    try:
        if dev.driver is not None:
            pci_device_remove(dev)
            dev.driver = None
    finally:
        device_unlock(dev)


def driver_register(drv: device_driver) -> int:
    """drivers/base/driver.c, reduced: -EBUSY if a driver of that name is already
    registered on the bus, else add it and attach it."""
    for other in bus_drivers:
        if other.name == drv.name:
            return -errno.EBUSY
    bus_drivers.append(drv)
    return driver_attach(drv)


def driver_unregister(drv: device_driver) -> None:
    """drivers/base/driver.c, reduced: detach from every device, then forget it."""
    for dev in list(bus_devices):
        if dev.driver is drv:
            device_release_driver(dev)
    if drv in bus_drivers:
        bus_drivers.remove(drv)


def bus_add_device(dev: device) -> int:
    """drivers/base/bus.c: the device joins its bus (called from ``device_add``)."""
    bus_devices.append(dev)
    return 0


def bus_remove_device(dev: device) -> None:
    """drivers/base/bus.c: unbind and leave the bus (called from ``device_del``)."""
    device_release_driver(dev)
    if dev in bus_devices:
        bus_devices.remove(dev)


def bus_find_device_by_name(name: str) -> device | None:
    """drivers/base/bus.c: the device called ``name`` (a reference is taken)."""
    for dev in bus_devices:
        if dev.init_name == name:
            return get_device(dev)
    return None


def _sysfs_streq_name(buf: str) -> str:
    """sysfs_streq() compares ignoring one trailing newline."""
    return buf[:-1] if buf.endswith("\n") else buf


def bind_store(drv: device_driver, buf: str, count: int) -> int:
    """``/sys/bus/pci/drivers/<drv>/bind``: bind the named device to ``drv``."""
    err = -errno.ENODEV
    dev = bus_find_device_by_name(_sysfs_streq_name(buf))
    if dev is not None and driver_match_device(drv, dev):
        err = device_driver_attach(drv, dev)
        if not err:
            err = count  # success
    put_device(dev)
    return err


def unbind_store(drv: device_driver, buf: str, count: int) -> int:
    """``/sys/bus/pci/drivers/<drv>/unbind``: unbind the named device from ``drv``."""
    err = -errno.ENODEV
    dev = bus_find_device_by_name(_sysfs_streq_name(buf))
    if dev is not None and dev.driver is drv:
        device_release_driver(dev)  # device_driver_detach()
        err = count
    put_device(dev)
    return err


def drivers_probe_store(buf: str, count: int) -> int:
    """``/sys/bus/pci/drivers_probe``: attach a driver to the named device."""
    err = -errno.EINVAL
    dev = bus_find_device_by_name(_sysfs_streq_name(buf))
    if dev is None:
        return -errno.ENODEV
    # bus_rescan_devices_helper(): probe only a device that has no driver
    ret = device_attach(dev) if dev.driver is None else 0
    if ret >= 0:
        err = count
    put_device(dev)
    return err


def driver_override_store(dev: device, buf: str, count: int) -> int:
    """``/sys/bus/pci/devices/<dev>/driver_override`` (pci-sysfs.c through
    ``driver_set_override()``): name the only driver that may bind ``dev``; an empty
    write (or a lone newline) clears it."""
    pdev = to_pci_dev(dev)
    if count >= _PAGE_SIZE - 1 or len(buf) >= _PAGE_SIZE - 1:
        return -errno.EINVAL
    text = buf[:count]
    cp = text.find("\n")
    if cp != -1:
        text = text[:cp]
    device_lock(dev)
    pdev.driver_override = text if text else None
    device_unlock(dev)
    return count
