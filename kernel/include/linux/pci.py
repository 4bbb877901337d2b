"""include/linux/pci.h (Linux 7.1-rc4 with the v17 series), plus the few helpers of
drivers/pci/pci.h and uapi/linux/pci.h that the ported code reads as if they were here.

Patches of the v17 series that change this header:

* v17 1/7 "PCI: Allow per function PCI slots to fix slot reset on s390": ``struct
  pci_slot.number`` becomes ``u16``, ``per_func_slot`` is added,
  ``PCI_SLOT_ALL_DEVICES`` becomes ``0xfeff`` and ``PCI_SLOT_PLACEHOLDER`` appears.

``struct pci_slot.number`` is a ``u16`` since 1/7 (an ``unsigned char`` before, which
could not tell devfn 0xfe and 0xff from the two special values); whatever is
assigned to it is stored modulo 65536, as C's assignment to a ``u16`` does, so the
placeholder ``-1`` reads back as ``0xffff``.

Structures are attrs classes with the C field names.  Function-pointer tables
(``struct pci_ops``, ``struct pci_error_handlers``) are attrs classes whose fields are
callables or ``None`` for a NULL pointer.  Left out: every field the ported code does
not touch (resources, DMA masks, ASPM, ATS/PRI/PASID, IDE, TSM, VPD, ...).  ``class``
is a Python keyword, so ``pci_dev.class`` is spelt ``class_``.

C out-parameters become extra return values throughout the port: ``int
(*read)(bus, devfn, where, size, u32 *val)`` is ``read(bus, devfn, where, size) ->
(rc, val)``.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Final

import attrs

from kernel.lib.device import dev_name, device_driver
from kernel.lib.device import device as struct_device
from kernel.lib.kobject import kobject, kobject_name
from kernel.lib.spinlock import spinlock_t
from uapi.linux.pci import PCI_DEVFN, PCI_FUNC, PCI_SLOT
from uapi.linux.pci_regs import PCI_EXP_TYPE_DOWNSTREAM, PCI_EXP_TYPE_PCIE_BRIDGE, PCI_EXP_TYPE_ROOT_PORT

if TYPE_CHECKING:
    from kernel.include.linux.pci_hotplug import hotplug_slot

__all__ = [
    "pci_dev_test_and_set_removed",
    "pci_dev_test_and_clear_added",
    "pci_dev_is_added",
    "pci_dev_binding_disallowed",
    "pci_dev_assign_added",
    "pci_dev_allow_binding",
    "PCI_DEV_REMOVED",
    "PCI_DEV_ALLOW_BINDING",
    "PCI_DEV_ADDED",
    "PCIBIOS_BAD_REGISTER_NUMBER",
    "PCIBIOS_BAD_VENDOR_ID",
    "PCIBIOS_BUFFER_TOO_SMALL",
    "PCIBIOS_DEVICE_NOT_FOUND",
    "PCIBIOS_FUNC_NOT_SUPPORTED",
    "PCIBIOS_SET_FAILED",
    "PCIBIOS_SUCCESSFUL",
    "PCI_ANY_ID",
    "PCI_D0",
    "PCI_D1",
    "PCI_D2",
    "PCI_D3cold",
    "PCI_D3hot",
    "PCI_DEVFN",
    "PCI_DEV_FLAGS_ASSIGNED",
    "PCI_DEV_FLAGS_MSI_INTX_DISABLE_BUG",
    "PCI_DEV_FLAGS_NO_BUS_RESET",
    "PCI_DEV_FLAGS_NO_D3",
    "PCI_DEV_FLAGS_NO_FLR_RESET",
    "PCI_DEV_FLAGS_NO_PM_RESET",
    "PCI_ERROR_RESPONSE",
    "PCI_ERS_RESULT_CAN_RECOVER",
    "PCI_ERS_RESULT_DISCONNECT",
    "PCI_ERS_RESULT_NEED_RESET",
    "PCI_ERS_RESULT_NONE",
    "PCI_ERS_RESULT_NO_AER_DRIVER",
    "PCI_ERS_RESULT_RECOVERED",
    "PCI_FUNC",
    "PCI_NUM_RESET_METHODS",
    "PCI_POSSIBLE_ERROR",
    "PCI_POWER_ERROR",
    "PCI_RESET_DO_RESET",
    "PCI_RESET_PROBE",
    "PCI_SLOT",
    "PCI_SLOT_ALL_DEVICES",
    "PCI_SLOT_PLACEHOLDER",
    "PCI_UNKNOWN",
    "pci_bus",
    "pci_channel_io_frozen",
    "pci_channel_io_normal",
    "pci_channel_io_perm_failure",
    "pci_channel_offline",
    "pci_channel_state_t",
    "pci_dev",
    "pci_dev_is_disconnected",
    "pci_device_id",
    "pci_driver",
    "pci_ers_result_t",
    "pci_error_handlers",
    "pci_host_bridge",
    "pci_is_bridge",
    "pci_is_pcie",
    "pci_is_root_bus",
    "pci_name",
    "pci_ops",
    "pci_pcie_cap",
    "pci_pcie_type",
    "pci_resource_flags",
    "pci_resource_len",
    "pci_resource_start",
    "pci_physfn",
    "pci_slot",
    "pci_slot_name",
    "pci_upstream_bridge",
    "pcibios_err_to_errno",
    "pcie_caps_reg",
    "pcie_downstream_port",
    "to_pci_dev",
    "to_pci_host_bridge",
]

#: Number of reset methods in pci_reset_fn_methods[] (drivers/pci/pci.c).
PCI_NUM_RESET_METHODS: Final = 8

PCI_RESET_PROBE: Final = True
PCI_RESET_DO_RESET: Final = False

#: A slot that covers every device on its bus (PCIe hotplug: the slot is the whole
#: secondary bus).  Outside the range of a devfn, so a per-function slot of any
#: devfn cannot be mistaken for it.
PCI_SLOT_ALL_DEVICES: Final = 0xFEFF

#: The slot number of a placeholder slot (one whose device number is not known).
PCI_SLOT_PLACEHOLDER: Final = -1

PCI_ANY_ID: Final = 0xFFFFFFFF  # (~0) as an unsigned int

#: What a read from a device that does not answer returns (~0ULL).
PCI_ERROR_RESPONSE: Final = 0xFFFFFFFFFFFFFFFF


def PCI_POSSIBLE_ERROR(val: int, size: int = 4) -> bool:
    """``PCI_POSSIBLE_ERROR(val)``: ``val`` is all ones in its own width.  C takes the
    width from ``typeof(val)``; here it is ``size`` bytes, 4 (a u32) unless given."""
    return val == (PCI_ERROR_RESPONSE & ((1 << (8 * size)) - 1))


# pci_power_t
PCI_D0: Final = 0
PCI_D1: Final = 1
PCI_D2: Final = 2
PCI_D3hot: Final = 3
PCI_D3cold: Final = 4
PCI_UNKNOWN: Final = 5
PCI_POWER_ERROR: Final = -1


class pci_channel_state_t(IntEnum):
    """Connectivity between the CPU and the device."""

    pci_channel_io_normal = 1  # I/O channel is in normal state
    pci_channel_io_frozen = 2  # I/O to channel is blocked
    pci_channel_io_perm_failure = 3  # PCI card is dead


pci_channel_io_normal: Final = pci_channel_state_t.pci_channel_io_normal
pci_channel_io_frozen: Final = pci_channel_state_t.pci_channel_io_frozen
pci_channel_io_perm_failure: Final = pci_channel_state_t.pci_channel_io_perm_failure

# enum pci_dev_flags (those the ported code uses)
#: Do not use INTx disable while MSI/MSI-X is on (broken devices)
PCI_DEV_FLAGS_MSI_INTX_DISABLE_BUG: Final = 1 << 0
PCI_DEV_FLAGS_NO_D3: Final = 1 << 1
PCI_DEV_FLAGS_ASSIGNED: Final = 1 << 2
PCI_DEV_FLAGS_NO_BUS_RESET: Final = 1 << 6
PCI_DEV_FLAGS_NO_PM_RESET: Final = 1 << 7
PCI_DEV_FLAGS_NO_FLR_RESET: Final = 1 << 10


class pci_ers_result_t(IntEnum):
    """PCI Error Recovery System results."""

    PCI_ERS_RESULT_NONE = 1  # no result / not supported in the driver
    PCI_ERS_RESULT_CAN_RECOVER = 2  # driver can recover without slot reset
    PCI_ERS_RESULT_NEED_RESET = 3  # driver wants the slot reset
    PCI_ERS_RESULT_DISCONNECT = 4  # device has failed for good
    PCI_ERS_RESULT_RECOVERED = 5  # driver fully recovered
    PCI_ERS_RESULT_NO_AER_DRIVER = 6  # no AER capabilities registered


PCI_ERS_RESULT_NONE: Final = pci_ers_result_t.PCI_ERS_RESULT_NONE
PCI_ERS_RESULT_CAN_RECOVER: Final = pci_ers_result_t.PCI_ERS_RESULT_CAN_RECOVER
PCI_ERS_RESULT_NEED_RESET: Final = pci_ers_result_t.PCI_ERS_RESULT_NEED_RESET
PCI_ERS_RESULT_DISCONNECT: Final = pci_ers_result_t.PCI_ERS_RESULT_DISCONNECT
PCI_ERS_RESULT_RECOVERED: Final = pci_ers_result_t.PCI_ERS_RESULT_RECOVERED
PCI_ERS_RESULT_NO_AER_DRIVER: Final = pci_ers_result_t.PCI_ERS_RESULT_NO_AER_DRIVER

# Error values of the config accessors (PCIBIOS_*)
PCIBIOS_SUCCESSFUL: Final = 0x00
PCIBIOS_FUNC_NOT_SUPPORTED: Final = 0x81
PCIBIOS_BAD_VENDOR_ID: Final = 0x83
PCIBIOS_DEVICE_NOT_FOUND: Final = 0x86
PCIBIOS_BAD_REGISTER_NUMBER: Final = 0x87
PCIBIOS_SET_FAILED: Final = 0x88
PCIBIOS_BUFFER_TOO_SMALL: Final = 0x89


def pcibios_err_to_errno(err: int) -> int:
    """Turn a PCIBIOS_* code into an errno for code outside the PCI core."""
    if err <= PCIBIOS_SUCCESSFUL:
        return err  # already an errno
    return {
        PCIBIOS_FUNC_NOT_SUPPORTED: -errno.ENOENT,
        PCIBIOS_BAD_VENDOR_ID: -errno.ENOTTY,
        PCIBIOS_DEVICE_NOT_FOUND: -errno.ENODEV,
        PCIBIOS_BAD_REGISTER_NUMBER: -errno.EFAULT,
        PCIBIOS_SET_FAILED: -errno.EIO,
        PCIBIOS_BUFFER_TOO_SMALL: -errno.ENOSPC,
    }.get(err, -errno.ERANGE)


def _u16(value: int) -> int:
    return value & 0xFFFF


@attrs.define(eq=False)
class pci_slot:
    """``struct pci_slot``: a physical slot.  ``number`` is the device number, or
    PCI_SLOT_ALL_DEVICES, a ``u16`` (see module doc); ``per_func_slot`` (a 1-bit
    field) makes the slot belong to the one function whose devfn equals ``number``.
    The C ``list`` node is membership in ``bus.slots``."""

    bus: pci_bus
    hotplug: hotplug_slot | None = None
    number: int = attrs.field(default=0, converter=_u16, on_setattr=attrs.setters.convert)
    per_func_slot: bool = False  # allow per function slot
    kobj: kobject = attrs.field(factory=kobject)

    def __attrs_post_init__(self) -> None:
        self.kobj.container = self


def pci_slot_name(slot: pci_slot) -> str:
    return kobject_name(slot.kobj)


@attrs.define(eq=False)
class pci_ops:
    """``struct pci_ops``: the bus's configuration access functions.

    ``read(bus, devfn, where, size) -> (PCIBIOS_* rc, value)``;
    ``write(bus, devfn, where, size, value) -> PCIBIOS_* rc``.
    """

    read: Callable[[pci_bus, int, int, int], tuple[int, int]]
    write: Callable[[pci_bus, int, int, int, int], int]
    add_bus: Callable[[pci_bus], int] | None = None
    remove_bus: Callable[[pci_bus], None] | None = None


@attrs.define(eq=False)
class pci_error_handlers:
    """``struct pci_error_handlers``: ``None`` is a NULL callback."""

    error_detected: Callable[[pci_dev, pci_channel_state_t], pci_ers_result_t] | None = None
    mmio_enabled: Callable[[pci_dev], pci_ers_result_t] | None = None
    slot_reset: Callable[[pci_dev], pci_ers_result_t] | None = None
    reset_prepare: Callable[[pci_dev], None] | None = None
    reset_done: Callable[[pci_dev], None] | None = None
    resume: Callable[[pci_dev], None] | None = None
    cor_error_detected: Callable[[pci_dev], None] | None = None


@attrs.define(eq=False)
class pci_device_id:
    vendor: int = PCI_ANY_ID
    device: int = PCI_ANY_ID
    subvendor: int = PCI_ANY_ID
    subdevice: int = PCI_ANY_ID
    class_: int = 0
    class_mask: int = 0
    driver_data: Any = None
    override_only: int = 0


@attrs.define(eq=False)
class pci_driver:
    """``struct pci_driver``.  ``driver`` is the embedded ``struct device_driver``;
    it is named after the PCI driver when none is given."""

    name: str
    id_table: list[pci_device_id] | None = None
    probe: Callable[[pci_dev, pci_device_id | None], int] | None = None
    remove: Callable[[pci_dev], None] | None = None
    err_handler: pci_error_handlers | None = None
    driver: device_driver | None = None
    driver_managed_dma: bool = False

    def __attrs_post_init__(self) -> None:
        if self.driver is None:
            self.driver = device_driver(self.name)


@attrs.define(eq=False)
class pci_bus:
    """``struct pci_bus``.  The ``devices``, ``children`` and ``slots`` lists hold the
    objects themselves (C's ``list_head`` chains); ``slots`` is protected by
    ``pci_slot_mutex``, ``devices`` by ``pci_bus_sem``.  The bridge ``self`` is a
    field like any other (``bus.self``), passed to the constructor as ``self_``."""

    parent: pci_bus | None = None
    children: list[pci_bus] = attrs.field(factory=list)
    devices: list[pci_dev] = attrs.field(factory=list)
    self: pci_dev | None = attrs.field(default=None, alias="self_")
    slots: list[pci_slot] = attrs.field(factory=list)
    ops: pci_ops | None = None
    sysdata: Any = None
    number: int = 0
    primary: int = 0
    domain_nr: int = 0
    name: str = ""
    bus_flags: int = 0
    bridge: struct_device | None = None
    dev: struct_device = attrs.field(factory=struct_device)
    is_added: bool = False

    def __attrs_post_init__(self) -> None:
        self.dev.container = self


@attrs.define(eq=False)
class pci_host_bridge:
    """``struct pci_host_bridge``.  ``windows`` (the bridge's resources) is kept as a
    list but no resource is modelled.  Left out: DMA ranges, the native_* feature
    flags, MSI domains, ``map_irq``/``swizzle_irq``, ``child_ops``."""

    dev: struct_device = attrs.field(factory=struct_device)
    bus: pci_bus | None = None
    ops: pci_ops | None = None
    sysdata: Any = None
    busnr: int = 0
    domain_nr: int = -1  # PCI_DOMAIN_NR_NOT_SET
    windows: list[Any] = attrs.field(factory=list)
    release_fn: Callable[[pci_host_bridge], None] | None = None
    preserve_config: bool = False

    def __attrs_post_init__(self) -> None:
        self.dev.container = self


def to_pci_host_bridge(dev: struct_device) -> pci_host_bridge:
    """``container_of(dev, struct pci_host_bridge, dev)``."""
    bridge = dev.container
    if not isinstance(bridge, pci_host_bridge):
        raise TypeError(f"to_pci_host_bridge() of a device that is not a host bridge: {dev.init_name}")
    return bridge


@attrs.define(eq=False)
class pci_dev:
    """``struct pci_dev``.  Bit-fields are ``bool`` (``unsigned int x:1``); the
    ``bus_list`` node is membership in ``bus.devices``; ``saved_cap_space`` (an hlist
    of ``struct pci_cap_saved_state``) is a Python list of those entries."""

    bus: pci_bus
    devfn: int = 0
    subordinate: pci_bus | None = None
    sysdata: Any = None
    slot: pci_slot | None = None
    vendor: int = 0
    device: int = 0
    subsystem_vendor: int = 0
    subsystem_device: int = 0
    class_: int = 0
    revision: int = 0
    hdr_type: int = 0
    devcap: int = 0
    pcie_cap: int = 0
    msi_cap: int = 0
    msix_cap: int = 0
    pin: int = 0
    pcie_flags_reg: int = 0
    driver: pci_driver | None = None
    current_state: int = PCI_UNKNOWN
    pm_cap: int = 0
    imm_ready: bool = False
    d1_support: bool = False
    d2_support: bool = False
    no_d1d2: bool = False
    config_rrs_sv: bool = False
    d3hot_delay: int = 10
    d3cold_delay: int = 100
    error_state: pci_channel_state_t = pci_channel_io_normal
    dev: struct_device = attrs.field(factory=struct_device)
    cfg_size: int = 256
    irq: int = 0
    multifunction: bool = False
    is_busmaster: bool = False
    no_msi: bool = False
    block_cfg_access: bool = False
    msi_enabled: bool = False
    msix_enabled: bool = False
    #: ``void __iomem *msix_base``: the mapped MSI-X table (an iomap cookie), or None
    msix_base: int | None = None
    state_saved: bool = False
    is_physfn: bool = False
    is_virtfn: bool = False
    is_probed: bool = False
    broken_intx_masking: bool = False
    no_command_memory: bool = False
    dev_flags: int = 0
    enable_cnt: int = 0
    pcie_cap_lock: spinlock_t = attrs.field(factory=lambda: spinlock_t("&dev->pcie_cap_lock"))
    saved_config_space: list[int] = attrs.field(factory=lambda: [0] * 16)
    saved_cap_space: list[Any] = attrs.field(factory=list)
    acs_cap: int = 0
    physfn: pci_dev | None = None
    priv_flags: int = 0
    driver_override: str | None = None
    reset_methods: list[int] = attrs.field(factory=lambda: [0] * PCI_NUM_RESET_METHODS)

    def __attrs_post_init__(self) -> None:
        self.dev.container = self


def to_pci_dev(dev: struct_device) -> pci_dev:
    """``container_of(dev, struct pci_dev, dev)``."""
    pdev = dev.container
    if not isinstance(pdev, pci_dev):
        raise TypeError(f"to_pci_dev() of a device that is not a pci_dev: {dev.init_name}")
    return pdev


def pci_physfn(dev: pci_dev) -> pci_dev:
    if dev.is_virtfn and dev.physfn is not None:
        return dev.physfn
    return dev


def pci_channel_offline(pdev: pci_dev) -> bool:
    return pdev.error_state != pci_channel_io_normal


def pci_dev_is_disconnected(dev: pci_dev) -> bool:
    """drivers/pci/pci.h: the device is gone for good (``perm_failure``)."""
    return dev.error_state == pci_channel_io_perm_failure


# drivers/pci/pci.h: bits of pci_dev->priv_flags and their helpers.  The bit numbers
# are kernel-internal (no ABI); only their distinctness matters here.
PCI_DEV_ADDED: Final = 0
PCI_DEV_REMOVED: Final = 3
PCI_DEV_ALLOW_BINDING: Final = 7


def pci_dev_assign_added(dev: pci_dev) -> None:
    dev.priv_flags |= 1 << PCI_DEV_ADDED


def pci_dev_test_and_clear_added(dev: pci_dev) -> bool:
    old = bool(dev.priv_flags & (1 << PCI_DEV_ADDED))
    dev.priv_flags &= ~(1 << PCI_DEV_ADDED)
    return old


def pci_dev_is_added(dev: pci_dev) -> bool:
    return bool(dev.priv_flags & (1 << PCI_DEV_ADDED))


def pci_dev_test_and_set_removed(dev: pci_dev) -> bool:
    old = bool(dev.priv_flags & (1 << PCI_DEV_REMOVED))
    dev.priv_flags |= 1 << PCI_DEV_REMOVED
    return old


def pci_dev_allow_binding(dev: pci_dev) -> None:
    dev.priv_flags |= 1 << PCI_DEV_ALLOW_BINDING


def pci_dev_binding_disallowed(dev: pci_dev) -> bool:
    return not dev.priv_flags & (1 << PCI_DEV_ALLOW_BINDING)


def pci_is_root_bus(pbus: pci_bus) -> bool:
    return pbus.parent is None


def pci_is_bridge(dev: pci_dev) -> bool:
    # PCI_HEADER_TYPE_BRIDGE (1) or PCI_HEADER_TYPE_CARDBUS (2)
    return dev.hdr_type in (1, 2)


def pci_upstream_bridge(dev: pci_dev) -> pci_dev | None:
    dev = pci_physfn(dev)
    if pci_is_root_bus(dev.bus):
        return None
    return dev.bus.self


def pci_is_pcie(dev: pci_dev) -> bool:
    """The device has a PCI Express capability."""
    return bool(dev.pcie_cap)


def pci_pcie_type(dev: pci_dev) -> int:
    """The Device/Port Type field of the cached PCIe Capabilities register."""
    return (dev.pcie_flags_reg & 0x00F0) >> 4  # PCI_EXP_FLAGS_TYPE


def pci_pcie_cap(dev: pci_dev) -> int:
    """Offset of the PCI Express capability (0 if the device has none)."""
    return dev.pcie_cap


def pcie_caps_reg(dev: pci_dev) -> int:
    """The cached PCI Express Capabilities register (PCI_EXP_FLAGS)."""
    return dev.pcie_flags_reg


def pcie_downstream_port(dev: pci_dev) -> bool:
    """drivers/pci/pci.h: a Root Port, a Switch Downstream Port or a PCI/PCI-X to
    PCIe bridge (ports with a link below them)."""
    type_ = pci_pcie_type(dev)
    return type_ in (PCI_EXP_TYPE_ROOT_PORT, PCI_EXP_TYPE_DOWNSTREAM, PCI_EXP_TYPE_PCIE_BRIDGE)


def pci_name(pdev: pci_dev) -> str:
    """The device's name, ``DDDD:BB:dd.f``."""
    return dev_name(pdev.dev)


# Re-exported so that ported code can take them from "linux/pci.h" as C does.
_ = (PCI_DEVFN, PCI_FUNC, PCI_SLOT)


# pci_resource_start() / pci_resource_len() / pci_resource_flags() read
# pdev->resource[bar].  The model has no struct resource (no resource tree, and
# pci_dev.resource[] is left out), so no BAR and no ROM of any function has a
# resource assigned: start, length and flags are 0, which is what the C macros give
# for an unassigned BAR.  Callers answer as C does for such a BAR.


def pci_resource_start(dev: pci_dev, bar: int) -> int:
    return 0


def pci_resource_len(dev: pci_dev, bar: int) -> int:
    return 0


def pci_resource_flags(dev: pci_dev, bar: int) -> int:
    return 0
