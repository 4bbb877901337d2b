"""drivers/pci/probe.c (Linux 7.1-rc4): finding PCI functions on a bus and creating
their ``struct pci_dev``, root buses and host bridges.  Not changed by the v17 series.

What is ported, in the C's order: ``pci_root_buses``, ``pci_alloc_bus``, the host
bridge allocation (``pci_release_host_bridge_dev``, ``pci_init_host_bridge``,
``pci_alloc_host_bridge``, ``pci_free_host_bridge``), ``pci_register_host_bridge``,
``pci_read_irq``, ``set_pcie_port_type``, ``pci_ext_cfg_is_aliased``,
``pci_cfg_space_size_ext``, ``pci_cfg_space_size``, ``pci_class``,
``pci_subsystem_ids``, ``pci_hdr_type``, ``pci_intx_mask_broken``, ``pci_type_str``,
``pci_setup_device``, ``pci_release_capabilities``, ``pci_release_dev``,
``pci_alloc_dev``, ``pci_bus_wait_rrs``, ``pci_bus_generic_read_dev_vendor_id``,
``pci_bus_read_dev_vendor_id``, ``pci_scan_device``, ``pci_imm_ready_init``,
``pci_init_capabilities``, ``pci_device_add``, ``pci_scan_single_device``,
``next_fn``, ``only_one_child``, ``pci_scan_slot``, ``pci_scan_child_bus_extend``,
``pci_scan_child_bus``, ``pci_create_root_bus``, ``pci_scan_root_bus``,
``pci_lock_rescan_remove``/``pci_unlock_rescan_remove``.

From other files, because probing calls them and no other module of the port holds
them: ``pci_msi_init``/``pci_msix_init`` (drivers/pci/msi/msi.c: find the capability,
leave MSI/MSI-X disabled) and ``pci_pm_init`` (drivers/pci/pci.c, reduced: find the
PM capability, set ``pm_cap`` and the D3 delays, read the power state).
``pci_dev_get``/``pci_dev_put`` are those of pci-driver.c, importable from here too.

Left out, with the reason:

* resources: no ``struct resource`` is modelled, so BAR sizing (``pci_read_bases``),
  bridge windows, bus-number resources (``busn_res`` and their log lines) and the
  host bridge's windows are not ported;
* bridges: only endpoints on a root bus are found; ``pci_scan_bridge_extend`` and
  child buses are not ported, ``pci_scan_child_bus_extend`` scans the slots only;
* ``pci_configure_device`` (MPS, extended tags, relaxed ordering, LTR, ASPM, SERR):
  link and payload tuning the model does not have; ARI, SR-IOV, ATS, PRI, PASID,
  ACS, PTM, AER, DPC, DOE, TPH, resizable BAR, VPD, EA initialisation; OF/ACPI
  nodes, MSI domains, NUMA nodes, DMA masks, fixups, sysfs/proc files, pwrctrl.

CONFIG_PCI_DOMAINS_GENERIC is not set on s390, where ``pci_domain_nr(bus)`` reads the
domain from the bus's ``sysdata`` (the ``zpci_bus``); the generic host bridge of sim/
passes a ``sysdata`` with a ``domain_nr`` too.  :func:`pci_register_host_bridge` also
stores that domain in ``bus.domain_nr`` (the generic field), taking the bridge's own
when it is set.
"""

from __future__ import annotations

import errno
from typing import Any, Final

from kernel.include.linux.pci import (
    PCI_FUNC,
    PCI_POSSIBLE_ERROR,
    PCI_SLOT,
    PCI_UNKNOWN,
    PCIBIOS_SUCCESSFUL,
    pci_bus,
    pci_channel_io_normal,
    pci_dev,
    pci_host_bridge,
    pci_is_pcie,
    pci_ops,
    pci_pcie_type,
    pci_upstream_bridge,
    pcie_downstream_port,
    to_pci_dev,
    to_pci_host_bridge,
)
from kernel.lib.bug import WARN_ON
from kernel.lib.device import dev_set_name, device, device_class, get_device, put_device
from kernel.lib.init import static_init
from kernel.lib.kref import kref_init
from kernel.lib.mutex import DEFINE_MUTEX, mutex_init, mutex_lock, mutex_unlock
from kernel.lib.printk import dev_dbg, dev_info, pci_err, pci_info, pr_info, pr_warn
from kernel.lib.rwsem import down_write, up_write
from kernel.lib.spinlock import spin_lock_init
from kernel.pci.access import (
    pci_bus_read_config_dword,
    pci_read_config_byte,
    pci_read_config_dword,
    pci_read_config_word,
    pci_write_config_word,
    pcie_capability_read_dword,
)
from kernel.pci.pci_driver import bus_add_device, pci_bus_type, pci_dev_get, pci_dev_put
from kernel.pci.search import pci_bus_sem, pci_find_bus, pci_get_slot
from uapi.linux.pci_regs import (
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_MSI,
    PCI_CAP_ID_MSIX,
    PCI_CAP_ID_PCIX,
    PCI_CAP_ID_PM,
    PCI_CFG_SPACE_EXP_SIZE,
    PCI_CFG_SPACE_SIZE,
    PCI_CLASS_REVISION,
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_EXP_DEVCAP,
    PCI_EXP_FLAGS,
    PCI_EXP_FLAGS_TYPE,
    PCI_EXP_LNKCAP,
    PCI_EXP_TYPE_DOWNSTREAM,
    PCI_EXP_TYPE_UPSTREAM,
    PCI_HEADER_TYPE,
    PCI_HEADER_TYPE_BRIDGE,
    PCI_HEADER_TYPE_CARDBUS,
    PCI_HEADER_TYPE_NORMAL,
    PCI_INTERRUPT_LINE,
    PCI_INTERRUPT_PIN,
    PCI_MSI_FLAGS,
    PCI_MSI_FLAGS_ENABLE,
    PCI_MSIX_FLAGS,
    PCI_MSIX_FLAGS_ENABLE,
    PCI_PM_CAP_VER_MASK,
    PCI_PM_CTRL,
    PCI_PM_CTRL_STATE_MASK,
    PCI_PM_PMC,
    PCI_STATUS,
    PCI_STATUS_IMM_READY,
    PCI_SUBSYSTEM_ID,
    PCI_SUBSYSTEM_VENDOR_ID,
    PCI_VENDOR_ID,
)

__all__ = [
    "pci_alloc_dev",
    "pci_alloc_host_bridge",
    "pci_bus_generic_read_dev_vendor_id",
    "pci_bus_read_dev_vendor_id",
    "pci_cfg_space_size",
    "pci_create_root_bus",
    "pci_dev_get",
    "pci_dev_put",
    "pci_device_add",
    "pci_free_host_bridge",
    "pci_lock_rescan_remove",
    "pci_root_buses",
    "pci_scan_child_bus",
    "pci_scan_root_bus",
    "pci_scan_single_device",
    "pci_scan_slot",
    "pci_setup_device",
    "pci_unlock_rescan_remove",
    "set_pcie_port_type",
]

#: ``LIST_HEAD(pci_root_buses)``: every root bus, under ``pci_bus_sem``.
pci_root_buses: list[pci_bus] = []

#: ``static DEFINE_MUTEX(pci_rescan_remove_lock)``: serialises scans and removals.
pci_rescan_remove_lock = DEFINE_MUTEX("pci_rescan_remove_lock")

PCI_DOMAIN_NR_NOT_SET: Final = -1
#: include/linux/pci_ids.h: the class of a host bridge (``dev->class >> 8``).
PCI_CLASS_BRIDGE_HOST: Final = 0x0600
PCI_CLASS_BRIDGE_PCI: Final = 0x0604
PCI_CLASS_BRIDGE_CARDBUS: Final = 0x0607
PCI_CLASS_NOT_DEFINED: Final = 0x0000
#: include/linux/pci_ids.h: the Vendor ID of a Configuration RRS completion.
PCI_VENDOR_ID_PCI_SIG: Final = 0x0001
#: drivers/pci/pci.h: default D3hot and D3cold delays (ms).
PCI_PM_D3HOT_WAIT: Final = 10
PCI_PM_D3COLD_WAIT: Final = 100
#: uapi/linux/pci_regs.h (PCI-X capability): PCI-X status and its Mode 2 bits.
PCI_X_STATUS: Final = 4
PCI_X_STATUS_266MHZ: Final = 0x40000000
PCI_X_STATUS_533MHZ: Final = 0x80000000
#: include/linux/pci.h (bus_flags): extended config space is not reachable.
PCI_BUS_FLAGS_NO_EXTCFG: Final = 0x2


@static_init
def probe_static_init() -> None:
    pci_root_buses.clear()
    mutex_init(pci_rescan_remove_lock)


def _pci_find_capability(dev: pci_dev, cap: int) -> int:
    from kernel.pci.pci import pci_find_capability  # drivers/pci/pci.c

    return pci_find_capability(dev, cap)


#: drivers/pci/probe.c: ``static struct class pcibus_class = { .name = "pci_bus" }``.
pcibus_class: Final = device_class("pci_bus")


def _pci_domain_nr(bus: pci_bus) -> int:
    from kernel.pci.slot import pci_domain_nr

    return pci_domain_nr(bus)


def device_initialize(dev: device) -> None:
    """drivers/base/core.c, reduced: the reference count starts at one."""
    kref_init(dev.kref)


def device_add(dev: device) -> int:
    """drivers/base/core.c, reduced: hang the kobject under the parent's and join
    the bus (no sysfs, no KOBJ_ADD uevent)."""
    if dev.parent is not None:
        dev.kobj.parent = dev.parent.kobj
    if dev.bus is pci_bus_type:
        return bus_add_device(dev)
    return 0


def pci_alloc_bus(parent: pci_bus | None) -> pci_bus:
    b = pci_bus()
    if parent is not None:  # CONFIG_PCI_DOMAINS_GENERIC
        b.domain_nr = parent.domain_nr
    return b


def pci_release_host_bridge_dev(dev: device) -> None:
    bridge = to_pci_host_bridge(dev)

    if bridge.release_fn is not None:
        bridge.release_fn(bridge)

    bridge.windows.clear()


def pci_init_host_bridge(bridge: pci_host_bridge) -> None:
    bridge.windows.clear()
    bridge.domain_nr = PCI_DOMAIN_NR_NOT_SET
    device_initialize(bridge.dev)


def pci_alloc_host_bridge(priv: int = 0) -> pci_host_bridge:
    """Allocate a host bridge (``priv`` bytes of driver data are not modelled)."""
    bridge = pci_host_bridge()
    pci_init_host_bridge(bridge)
    bridge.dev.release = pci_release_host_bridge_dev
    return bridge


def pci_free_host_bridge(bridge: pci_host_bridge) -> None:
    put_device(bridge.dev)


def pci_register_host_bridge(bridge: pci_host_bridge) -> int:
    parent = bridge.dev.parent

    bus = pci_alloc_bus(None)

    bridge.bus = bus

    bus.sysdata = bridge.sysdata
    bus.ops = bridge.ops
    bus.number = bridge.busnr
    # See the module docstring for where the domain comes from.
    if bridge.domain_nr == PCI_DOMAIN_NR_NOT_SET:
        bus.domain_nr = int(getattr(bus.sysdata, "domain_nr", 0))
    else:
        bus.domain_nr = bridge.domain_nr
    if bus.domain_nr < 0:
        return bus.domain_nr  # goto free

    b = pci_find_bus(_pci_domain_nr(bus), bridge.busnr)
    if b is not None:
        # Already found through another bridge.
        dev_dbg(b.dev, "bus already known\n")
        return -errno.EEXIST  # goto free

    dev_set_name(bridge.dev, "pci%04x:%02x", _pci_domain_nr(bus), bridge.busnr)

    err = device_add(bridge.dev)
    if err:
        return err

    bus.bridge = get_device(bridge.dev)

    bus.dev.parent = bus.bridge
    bus.dev.class_ = pcibus_class

    dev_set_name(bus.dev, "%04x:%02x", _pci_domain_nr(bus), bus.number)
    name = bus.dev.init_name

    device_initialize(bus.dev)  # device_register()
    device_add(bus.dev)

    if bus.ops is not None and bus.ops.add_bus is not None:
        err = bus.ops.add_bus(bus)
        if WARN_ON(err < 0):
            from kernel.lib.printk import dev_err

            dev_err(bus.dev, "failed to add bus: %d\n", err)

    if parent is not None:
        dev_info(parent, "PCI host bridge to bus %s\n", name)
    else:
        pr_info("PCI host bridge to bus %s\n", name)

    down_write(pci_bus_sem)
    pci_root_buses.append(bus)
    up_write(pci_bus_sem)

    return 0


def pci_read_irq(dev: pci_dev) -> None:
    """Read the interrupt pin and line."""
    if dev.is_virtfn:  # VFs have no INTx
        dev.pin = 0
        dev.irq = 0
        return

    _, irq = pci_read_config_byte(dev, PCI_INTERRUPT_PIN)
    dev.pin = irq
    if irq:
        _, irq = pci_read_config_byte(dev, PCI_INTERRUPT_LINE)
    dev.irq = irq


def set_pcie_port_type(pdev: pci_dev) -> None:
    pos = _pci_find_capability(pdev, PCI_CAP_ID_EXP)
    if not pos:
        return

    pdev.pcie_cap = pos
    _, reg16 = pci_read_config_word(pdev, pos + PCI_EXP_FLAGS)
    pdev.pcie_flags_reg = reg16

    type_ = pci_pcie_type(pdev)
    # (A Root Port would get RRS Software Visibility enabled: no root ports here.)

    _, pdev.devcap = pci_read_config_dword(pdev, pos + PCI_EXP_DEVCAP)

    pcie_capability_read_dword(pdev, PCI_EXP_LNKCAP)  # link_active_reporting not modelled

    parent = pci_upstream_bridge(pdev)
    if parent is None:
        return

    # Correct ports that misreport being upstream or downstream.
    if type_ == PCI_EXP_TYPE_DOWNSTREAM:
        if pcie_downstream_port(parent):
            pci_info(pdev, "claims to be downstream port but is acting as upstream port, correcting type\n")
            pdev.pcie_flags_reg &= ~PCI_EXP_FLAGS_TYPE
            pdev.pcie_flags_reg |= PCI_EXP_TYPE_UPSTREAM << 4
    elif type_ == PCI_EXP_TYPE_UPSTREAM:
        if pci_pcie_type(parent) == PCI_EXP_TYPE_UPSTREAM:
            pci_info(pdev, "claims to be upstream port but is acting as downstream port, correcting type\n")
            pdev.pcie_flags_reg &= ~PCI_EXP_FLAGS_TYPE
            pdev.pcie_flags_reg |= PCI_EXP_TYPE_DOWNSTREAM << 4


def pci_ext_cfg_is_aliased(dev: pci_dev) -> bool:
    """Does the extended config space just repeat the first 256 bytes?"""
    _, header = pci_read_config_dword(dev, PCI_VENDOR_ID)

    for pos in range(PCI_CFG_SPACE_SIZE, PCI_CFG_SPACE_EXP_SIZE, PCI_CFG_SPACE_SIZE):
        ret, tmp = pci_read_config_dword(dev, pos)
        if ret != PCIBIOS_SUCCESSFUL or header != tmp:
            return False

    return True


def pci_cfg_space_size_ext(dev: pci_dev) -> int:
    """The dword at 0x100 must be 0 or a valid extended capability header."""
    pos = PCI_CFG_SPACE_SIZE

    ret, status = pci_read_config_dword(dev, pos)
    if ret != PCIBIOS_SUCCESSFUL:
        return PCI_CFG_SPACE_SIZE
    if PCI_POSSIBLE_ERROR(status) or pci_ext_cfg_is_aliased(dev):
        return PCI_CFG_SPACE_SIZE

    return PCI_CFG_SPACE_EXP_SIZE


def pci_cfg_space_size(dev: pci_dev) -> int:
    if dev.bus.bus_flags & PCI_BUS_FLAGS_NO_EXTCFG:
        return PCI_CFG_SPACE_SIZE

    class_ = dev.class_ >> 8
    if class_ == PCI_CLASS_BRIDGE_HOST:
        return pci_cfg_space_size_ext(dev)

    if pci_is_pcie(dev):
        return pci_cfg_space_size_ext(dev)

    pos = _pci_find_capability(dev, PCI_CAP_ID_PCIX)
    if not pos:
        return PCI_CFG_SPACE_SIZE

    _, status = pci_read_config_dword(dev, pos + PCI_X_STATUS)
    if status & (PCI_X_STATUS_266MHZ | PCI_X_STATUS_533MHZ):
        return pci_cfg_space_size_ext(dev)

    return PCI_CFG_SPACE_SIZE


def pci_class(dev: pci_dev) -> int:
    _, class_ = pci_read_config_dword(dev, PCI_CLASS_REVISION)
    return class_


def pci_subsystem_ids(dev: pci_dev) -> tuple[int, int]:
    """Returns (subsystem vendor, subsystem device)."""
    _, vendor = pci_read_config_word(dev, PCI_SUBSYSTEM_VENDOR_ID)
    _, device_ = pci_read_config_word(dev, PCI_SUBSYSTEM_ID)
    return vendor, device_


def pci_hdr_type(dev: pci_dev) -> int:
    _, hdr_type = pci_read_config_byte(dev, PCI_HEADER_TYPE)
    return hdr_type


def pci_intx_mask_broken(dev: pci_dev) -> int:
    """1 if PCI_COMMAND_INTX_DISABLE cannot be written (tested at enumeration)."""
    _, orig = pci_read_config_word(dev, PCI_COMMAND)
    toggle = orig ^ PCI_COMMAND_INTX_DISABLE
    pci_write_config_word(dev, PCI_COMMAND, toggle)
    _, new = pci_read_config_word(dev, PCI_COMMAND)

    pci_write_config_word(dev, PCI_COMMAND, orig)

    # Read-only before PCI r2.3, so "broken" is a misnomer the kernel lives with.
    if new != toggle:
        return 1
    return 0


_PCI_TYPE_STR: Final = (
    "PCIe Endpoint",
    "PCIe Legacy Endpoint",
    "PCIe unknown",
    "PCIe unknown",
    "PCIe Root Port",
    "PCIe Switch Upstream Port",
    "PCIe Switch Downstream Port",
    "PCIe to PCI/PCI-X bridge",
    "PCI/PCI-X to PCIe bridge",
    "PCIe Root Complex Integrated Endpoint",
    "PCIe Root Complex Event Collector",
)


def pci_type_str(dev: pci_dev) -> str:
    if pci_is_pcie(dev):
        type_ = pci_pcie_type(dev)
        if type_ < len(_PCI_TYPE_STR):
            return _PCI_TYPE_STR[type_]
        return "PCIe unknown"

    if dev.hdr_type == PCI_HEADER_TYPE_NORMAL:
        return "conventional PCI endpoint"
    if dev.hdr_type == PCI_HEADER_TYPE_BRIDGE:
        return "conventional PCI bridge"
    if dev.hdr_type == PCI_HEADER_TYPE_CARDBUS:
        return "CardBus bridge"
    return "conventional PCI"


def pci_setup_device(dev: pci_dev) -> int:
    """Fill in the device's identity from its config space.  0, or -EIO for an
    unknown header type."""
    from kernel.pci.slot import pci_dev_assign_slot

    hdr_type = pci_hdr_type(dev)

    dev.sysdata = dev.bus.sysdata
    dev.dev.parent = dev.bus.bridge
    dev.dev.bus = pci_bus_type
    dev.hdr_type = hdr_type & 0x7F
    dev.multifunction = bool(hdr_type & 0x80)
    dev.error_state = pci_channel_io_normal
    set_pcie_port_type(dev)

    pci_dev_assign_slot(dev)

    dev_set_name(
        dev.dev,
        "%04x:%02x:%02x.%d",
        _pci_domain_nr(dev.bus),
        dev.bus.number,
        PCI_SLOT(dev.devfn),
        PCI_FUNC(dev.devfn),
    )

    class_ = pci_class(dev)

    dev.revision = class_ & 0xFF
    dev.class_ = class_ >> 8  # upper 3 bytes

    # Needs dev->class.
    dev.cfg_size = pci_cfg_space_size(dev)

    # "Unknown power state"
    dev.current_state = PCI_UNKNOWN

    pci_info(
        dev,
        "[%04x:%04x] type %02x class %#08x %s\n",
        dev.vendor,
        dev.device,
        dev.hdr_type,
        dev.class_,
        pci_type_str(dev),
    )

    class_ = dev.class_ >> 8

    dev.broken_intx_masking = bool(pci_intx_mask_broken(dev))

    if dev.hdr_type == PCI_HEADER_TYPE_NORMAL:
        if class_ == PCI_CLASS_BRIDGE_PCI:
            return _bad(dev)
        pci_read_irq(dev)
        # (pci_read_bases(): resources are not modelled.)
        dev.subsystem_vendor, dev.subsystem_device = pci_subsystem_ids(dev)
    elif dev.hdr_type == PCI_HEADER_TYPE_BRIDGE:
        pci_read_irq(dev)
    elif dev.hdr_type == PCI_HEADER_TYPE_CARDBUS:
        if class_ != PCI_CLASS_BRIDGE_CARDBUS:
            return _bad(dev)
        pci_read_irq(dev)
        dev.subsystem_vendor, dev.subsystem_device = pci_subsystem_ids(dev)
    else:
        pci_err(dev, "unknown header type %02x, ignoring device\n", dev.hdr_type)
        return -errno.EIO

    # A fine healthy device.
    return 0


def _bad(dev: pci_dev) -> int:
    """The ``bad:`` label of pci_setup_device() (Python only)."""
    pci_err(dev, "ignoring class %#08x (doesn't match header type %02x)\n", dev.class_, dev.hdr_type)
    dev.class_ = PCI_CLASS_NOT_DEFINED << 8
    return 0


def pci_release_capabilities(dev: pci_dev) -> None:
    dev.saved_cap_space.clear()  # pci_free_cap_save_buffers()


def pcibios_device_add(dev: pci_dev) -> int:
    """``int __weak pcibios_device_add(struct pci_dev *dev)``; s390 has the strong
    one (arch/s390/pci/pci.c: a zdev reference and the BARs' iomap entries), called
    for a device on a zPCI bus.  Python only as a dispatcher: the other host bridges
    of the model get the weak default, 0."""
    from kernel.s390.include.asm.pci import zpci_bus
    from kernel.s390.pci import pci as s390_pci  # arch code; imported late

    if isinstance(dev.sysdata, zpci_bus):
        return s390_pci.pcibios_device_add(dev)
    return 0


def pcibios_release_device(dev: pci_dev) -> None:
    """``void __weak pcibios_release_device(struct pci_dev *dev)``; the s390 one for a
    device on a zPCI bus (see :func:`pcibios_device_add`)."""
    from kernel.s390.include.asm.pci import zpci_bus
    from kernel.s390.pci import pci as s390_pci  # arch code; imported late

    if isinstance(dev.sysdata, zpci_bus):
        s390_pci.pcibios_release_device(dev)


def pci_release_dev(dev: device) -> None:
    """The device core calls this when the last reference to a pci_dev is gone."""
    from kernel.pci.slot import pci_bus_put

    pci_dev_ = to_pci_dev(dev)
    pci_release_capabilities(pci_dev_)
    pcibios_release_device(pci_dev_)
    pci_bus_put(pci_dev_.bus)
    pci_dev_.driver_override = None
    dev_dbg(dev, "device released\n")


def pci_alloc_dev(bus: pci_bus) -> pci_dev:
    from kernel.pci.slot import pci_bus_get

    dev = pci_dev(bus=pci_bus_get(bus))
    spin_lock_init(dev.pcie_cap_lock)
    return dev


def pci_bus_rrs_vendor_id(l32: int) -> bool:
    """drivers/pci/pci.h: a Configuration RRS completion's reserved Vendor ID."""
    return (l32 & 0xFFFF) == PCI_VENDOR_ID_PCI_SIG


def pci_bus_wait_rrs(bus: pci_bus, devfn: int, l32: int, timeout: int) -> tuple[bool, int]:
    """Returns (found, vendor/device dword)."""
    from kernel.lib.delay import msleep

    delay = 1

    if not pci_bus_rrs_vendor_id(l32):
        return True, l32  # not a Configuration RRS completion

    if not timeout:
        return False, l32  # RRS, but the caller does not want to wait

    # Retry until a valid Vendor ID or the timeout.
    while pci_bus_rrs_vendor_id(l32):
        if delay > timeout:
            pr_warn(
                "pci %04x:%02x:%02x.%d: not ready after %dms; giving up\n",
                _pci_domain_nr(bus), bus.number, PCI_SLOT(devfn), PCI_FUNC(devfn), delay - 1,
            )
            return False, l32
        if delay >= 1000:
            pr_info(
                "pci %04x:%02x:%02x.%d: not ready after %dms; waiting\n",
                _pci_domain_nr(bus), bus.number, PCI_SLOT(devfn), PCI_FUNC(devfn), delay - 1,
            )

        msleep(delay)
        delay *= 2

        ret, l32 = pci_bus_read_config_dword(bus, devfn, PCI_VENDOR_ID)
        if ret:
            return False, l32

    if delay >= 1000:
        pr_info(
            "pci %04x:%02x:%02x.%d: ready after %dms\n",
            _pci_domain_nr(bus), bus.number, PCI_SLOT(devfn), PCI_FUNC(devfn), delay - 1,
        )

    return True, l32


def pci_bus_generic_read_dev_vendor_id(bus: pci_bus, devfn: int, timeout: int) -> tuple[bool, int]:
    """Returns (a function answers, its vendor/device dword)."""
    ret, l32 = pci_bus_read_config_dword(bus, devfn, PCI_VENDOR_ID)
    if ret:
        return False, l32

    # Empty slots of some boards read 0 or all ones.
    if PCI_POSSIBLE_ERROR(l32) or l32 in (0x00000000, 0x0000FFFF, 0xFFFF0000):
        return False, l32

    if pci_bus_rrs_vendor_id(l32):
        return pci_bus_wait_rrs(bus, devfn, l32, timeout)

    return True, l32


def pci_bus_read_dev_vendor_id(bus: pci_bus, devfn: int, timeout: int) -> tuple[bool, int]:
    """(CONFIG_PCI_QUIRKS' IDT switch work-around does not apply: no bridges.)"""
    return pci_bus_generic_read_dev_vendor_id(bus, devfn, timeout)


def pci_scan_device(bus: pci_bus, devfn: int) -> pci_dev | None:
    """Read a function's config header, check it and fill in a new pci_dev."""
    found, l32 = pci_bus_read_dev_vendor_id(bus, devfn, 60 * 1000)
    if not found:
        return None

    dev = pci_alloc_dev(bus)

    dev.devfn = devfn
    dev.vendor = l32 & 0xFFFF
    dev.device = (l32 >> 16) & 0xFFFF

    if pci_setup_device(dev):
        from kernel.pci.slot import pci_bus_put

        pci_bus_put(dev.bus)
        return None

    return dev


def pci_msi_init(dev: pci_dev) -> None:
    """drivers/pci/msi/msi.c: find MSI and make sure it is off."""
    dev.msi_cap = _pci_find_capability(dev, PCI_CAP_ID_MSI)
    if not dev.msi_cap:
        return

    _, ctrl = pci_read_config_word(dev, dev.msi_cap + PCI_MSI_FLAGS)
    if ctrl & PCI_MSI_FLAGS_ENABLE:
        pci_write_config_word(dev, dev.msi_cap + PCI_MSI_FLAGS, ctrl & ~PCI_MSI_FLAGS_ENABLE)


def pci_msix_init(dev: pci_dev) -> None:
    """drivers/pci/msi/msi.c: find MSI-X and make sure it is off."""
    dev.msix_cap = _pci_find_capability(dev, PCI_CAP_ID_MSIX)
    if not dev.msix_cap:
        return

    _, ctrl = pci_read_config_word(dev, dev.msix_cap + PCI_MSIX_FLAGS)
    if ctrl & PCI_MSIX_FLAGS_ENABLE:
        pci_write_config_word(dev, dev.msix_cap + PCI_MSIX_FLAGS, ctrl & ~PCI_MSIX_FLAGS_ENABLE)


def pci_imm_ready_init(dev: pci_dev) -> None:
    _, status = pci_read_config_word(dev, PCI_STATUS)
    if status & PCI_STATUS_IMM_READY:
        dev.imm_ready = True


def pci_pm_init(dev: pci_dev) -> None:
    """drivers/pci/pci.c, reduced (see the module docstring): PME, D1/D2 support and
    runtime PM are not modelled; the power state is read from PMCSR."""
    dev.pm_cap = 0

    pm = _pci_find_capability(dev, PCI_CAP_ID_PM)
    if pm:
        _, pmc = pci_read_config_word(dev, pm + PCI_PM_PMC)
        if (pmc & PCI_PM_CAP_VER_MASK) > 3:
            pci_err(dev, "unsupported PM cap regs version (%u)\n", pmc & PCI_PM_CAP_VER_MASK)
        else:
            dev.pm_cap = pm
            dev.d3hot_delay = PCI_PM_D3HOT_WAIT
            dev.d3cold_delay = PCI_PM_D3COLD_WAIT
            _, status = pci_read_config_word(dev, PCI_STATUS)
            if status & PCI_STATUS_IMM_READY:
                dev.imm_ready = True

    # poweron: the function is in D0 after enumeration.
    if dev.pm_cap:
        _, pmcsr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
        dev.current_state = pmcsr & PCI_PM_CTRL_STATE_MASK
    else:
        dev.current_state = 0  # PCI_D0


def pci_init_capabilities(dev: pci_dev) -> None:
    from kernel.pci.pci import pci_allocate_cap_save_buffers, pci_init_reset_methods  # pci.c

    pci_msi_init(dev)  # disable MSI
    pci_msix_init(dev)  # disable MSI-X

    # Buffers for saving PCIe and PCI-X capabilities
    pci_allocate_cap_save_buffers(dev)

    pci_imm_ready_init(dev)  # Immediate Readiness
    pci_pm_init(dev)  # Power Management

    pci_init_reset_methods(dev)


def pci_device_add(dev: pci_dev, bus: pci_bus) -> None:
    device_initialize(dev.dev)
    dev.dev.release = pci_release_dev

    dev.state_saved = False

    pci_init_capabilities(dev)

    # The device joins the bus's list.
    down_write(pci_bus_sem)
    bus.devices.append(dev)
    up_write(pci_bus_sem)

    ret = pcibios_device_add(dev)
    WARN_ON(ret < 0)

    ret = device_add(dev.dev)
    WARN_ON(ret < 0)


def pci_scan_single_device(bus: pci_bus, devfn: int) -> pci_dev | None:
    """The pci_dev at ``devfn``, scanning and adding it if it is new.  No reference
    is returned (the C drops the one pci_get_slot() took)."""
    dev = pci_get_slot(bus, devfn)
    if dev is not None:
        pci_dev_put(dev)
        return dev

    dev = pci_scan_device(bus, devfn)
    if dev is None:
        return None

    pci_device_add(dev, bus)

    return dev


def next_fn(bus: pci_bus, dev: pci_dev | None, fn: int) -> int:
    # (ARI is not modelled: pci_ari_enabled() is false.)
    if fn >= 7:
        return -errno.ENODEV
    # Only multifunction devices have more functions.
    if dev is not None and not dev.multifunction:
        return -errno.ENODEV

    return fn + 1


def only_one_child(bus: pci_bus) -> int:
    bridge = bus.self

    # (PCI_SCAN_ALL_PCIE_DEVS is not set.)
    # A Downstream Port leads to a link with only Device 0.
    if bridge is not None and pci_is_pcie(bridge) and pcie_downstream_port(bridge):
        return 1

    return 0


def hypervisor_isolated_pci_functions() -> bool:
    """include/linux/hypervisor.h: only Jailhouse passes single functions through."""
    return False


def pci_scan_slot(bus: pci_bus, devfn: int) -> int:
    """Scan the functions of the slot at ``devfn`` (function 0); returns how many
    new devices were found."""
    from kernel.include.linux.pci import pci_dev_is_added

    fn = 0
    nr = 0

    if only_one_child(bus) and devfn > 0:
        return 0  # the entire slot was scanned already

    while True:
        dev = pci_scan_single_device(bus, devfn + fn)
        if dev is not None:
            if not pci_dev_is_added(dev):
                nr += 1
            if fn > 0:
                dev.multifunction = True
        elif fn == 0:
            # Function 0 is required (unless a hypervisor passes single functions).
            if not hypervisor_isolated_pci_functions():
                break
        fn = next_fn(bus, dev, fn)
        if fn < 0:
            break

    return nr


def pci_scan_child_bus_extend(bus: pci_bus, available_buses: int) -> int:
    """Scan the devices on ``bus`` (bridges below it are not modelled)."""
    max_ = bus.number

    dev_dbg(bus.dev, "scanning bus\n")

    # Go find them, Rover!
    for devfn in range(0, 256, 8):
        pci_scan_slot(bus, devfn)

    if not bus.is_added:
        dev_dbg(bus.dev, "fixups for bus\n")
        bus.is_added = True

    dev_dbg(bus.dev, "bus scan returning with max=%02x\n", max_)
    return max_


def pci_scan_child_bus(bus: pci_bus) -> int:
    return pci_scan_child_bus_extend(bus, 0)


def pci_create_root_bus(
    parent: device | None, bus: int, ops: pci_ops, sysdata: Any, resources: list[Any]
) -> pci_bus | None:
    bridge = pci_alloc_host_bridge(0)

    bridge.dev.parent = parent

    bridge.windows.extend(resources)
    resources.clear()
    bridge.sysdata = sysdata
    bridge.busnr = bus
    bridge.ops = ops

    error = pci_register_host_bridge(bridge)
    if error < 0:
        put_device(bridge.dev)  # err_out
        return None

    return bridge.bus


def pci_scan_root_bus(
    parent: device | None, bus: int, ops: pci_ops, sysdata: Any, resources: list[Any]
) -> pci_bus | None:
    """Create a root bus and scan it.  (Bus-number resources are not modelled.)"""
    b = pci_create_root_bus(parent, bus, ops, sysdata, resources)
    if b is None:
        return None

    pci_scan_child_bus(b)

    return b


def pci_lock_rescan_remove() -> None:
    mutex_lock(pci_rescan_remove_lock)


def pci_unlock_rescan_remove() -> None:
    mutex_unlock(pci_rescan_remove_lock)
