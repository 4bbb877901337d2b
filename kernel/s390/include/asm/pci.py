"""arch/s390/include/asm/pci.h (Linux 7.1-rc4 with the v17 series): the zPCI data
structures.

Base text: legoater/linux @ 25f192f99a70, arch/s390/include/asm/pci.h, with ``bool
mediated_recovery`` dropped and the ``zpci_slot_attr_group``/``ARCH_PCI_SLOT_GROUPS``
block added, which is byte for byte the pre-image of v17 4/7
(blob 5dcf35f0f325).  v17 4/7 adds ``struct zpci_ccdf_err`` (moved here from pci_event.c),
``struct zpci_ccdf_pending``, ``ZPCI_ERR_PENDING_MAX`` and the ``pending_errs`` /
``pending_errs_lock`` fields of ``struct zpci_dev``, and the prototypes of
``zpci_start/stop_mediated_recovery``; v17 5/7 the prototype of
``zpci_get_pending_error`` (all three in :mod:`kernel.s390.pci.pci_event`).

``struct zpci_ccdf_err`` comes from firmware and ``struct zpci_ccdf_pending`` is
copied and cleared byte-wise (memcpy/memset), so both are ctypes structures with the
s390x layout (big-endian; the first bit-field takes the most significant bits).

``struct zpci_dev`` keeps the fields the ported code reads or writes.  Left out: the
IOMMU (``iommu_list``, ``iommu_dev``, ``s390_domain``, ``dom_lock``), adapter
interrupts (``aibv``, ``aisb``, ``msi_first_bit``, ``msi_nr_irqs``), the FMB contents
(``fmb`` stays None: function measurement is not modelled), debugfs, and ``rcu``.
``entry`` (the zpci_list link) is the Python list :data:`kernel.s390.pci.pci.zpci_list`.
``struct zpci_bus`` leaves out ``resources``/``bus_resource`` (no resource tree is
modelled) and ``msi_parent_domain``.  ``struct zpci_fmb`` is not modelled.

The fields the kernel's threads share are ``__guarded_by`` their lock
(:mod:`kernel.lib.context_analysis`), checked at every access by kernel code once
``zpci_add_device()`` published the zdev: ``state`` and ``fh`` by ``state_lock``,
``kzdev`` by ``kzdev_lock``, ``pending_errs`` by ``pending_errs_lock`` (an aggregate:
``zdev->pending_errs.count++`` reads the member to write into it).  The C reads
``fh`` (and ``state``) without the lock in places; those carry
``data_race()``/``context_unsafe()`` with the reason.

``hotplug_slot`` is embedded as in C (``struct hotplug_slot`` of
kernel/include/linux/pci_hotplug.py, made by ``zpci_create_device()``);
``container_of(hotplug_slot, struct zpci_dev, hotplug_slot)`` is
:func:`kernel.pci.hotplug.s390_pci_hpc.zdev_of_slot`.

The functions declared under "Prototypes" live in the modules of their .c files:
pci.c -> :mod:`kernel.s390.pci.pci` (zpci_create_device, zpci_add_device,
zpci_enable_device, zpci_reenable_device, zpci_disable_device,
zpci_scan_configured_device, zpci_deconfigure_device, zpci_device_reserved,
zpci_is_device_configured, zpci_scan_devices, zpci_hot_reset_device,
zpci_register_ioat, zpci_unregister_ioat, zpci_remove_reserved_devices, zpci_update_fh,
get_zdev_by_fid, zpci_is_enabled, zpci_report_error, zpci_clear_error_state,
zpci_reset_load_store_blocked); pci_clp.c -> :mod:`kernel.s390.pci.pci_clp`
(clp_scan_pci_devices, clp_query_pci_fn, clp_enable_fh, clp_disable_fh, clp_get_state,
clp_refresh_fh, update_uid_checking); pci_event.c -> :mod:`kernel.s390.pci.pci_event`
(zpci_event_error, zpci_event_availability); s390_pci_hpc.c ->
:mod:`kernel.pci.hotplug.s390_pci_hpc` (zpci_init_slot, zpci_exit_slot).
"""

from __future__ import annotations

import ctypes
from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

import attrs

from kernel.lib.context_analysis import check_guarded, data_race, guarded_by
from kernel.lib.kref import kref
from kernel.lib.mutex import Mutex
from kernel.s390.include.asm.pci_clp import CLP_PFIP_NR_SEGMENTS, CLP_UTIL_STR_LEN, PCI_STD_NUM_BARS

if TYPE_CHECKING:
    from kernel.include.linux.pci import pci_bus, pci_dev
    from kernel.lib.device import device

__all__ = [
    "PCI_SPEED_UNKNOWN",
    "PCIE_SPEED_5_0GT",
    "ZPCI_BUS_NR",
    "ZPCI_DOMAIN_BITMAP_SIZE",
    "ZPCI_ERR_PENDING_MAX",
    "ZPCI_FC_BLOCKED",
    "ZPCI_FC_DMA_ENABLED",
    "ZPCI_FC_ERROR",
    "ZPCI_FC_FN_ENABLED",
    "ZPCI_FMB_DMA_COUNTER_VALID",
    "ZPCI_FN_STATE_CONFIGURED",
    "ZPCI_FN_STATE_RESERVED",
    "ZPCI_FN_STATE_STANDBY",
    "ZPCI_FUNCTIONS_PER_BUS",
    "ZPCI_NR_DEVICES",
    "ZPCI_NR_DMA_SPACES",
    "to_zpci",
    "to_zpci_dev",
    "have_mio",
    "zdev_enabled",
    "zpci_bar_struct",
    "zpci_bus",
    "zpci_ccdf_err",
    "zpci_ccdf_pending",
    "zpci_dev",
    "zpci_state",
    "zpci_use_mio",
]

ZPCI_BUS_NR: Final = 0  # default bus number

ZPCI_NR_DMA_SPACES: Final = 1
#: CONFIG_PCI_NR_FUNCTIONS (arch/s390/Kconfig default).
ZPCI_NR_DEVICES: Final = 512
ZPCI_DOMAIN_BITMAP_SIZE: Final = 1 << 16

# PCI Function Controls
ZPCI_FC_FN_ENABLED: Final = 0x80
ZPCI_FC_ERROR: Final = 0x40
ZPCI_FC_BLOCKED: Final = 0x20
ZPCI_FC_DMA_ENABLED: Final = 0x10

ZPCI_FMB_DMA_COUNTER_VALID: Final = 1 << 23

#: include/linux/pci.h, enum pci_bus_speed: the two values the zPCI code assigns.
PCIE_SPEED_5_0GT: Final = 0x15
PCI_SPEED_UNKNOWN: Final = 0xFF


class zpci_state(IntEnum):
    ZPCI_FN_STATE_STANDBY = 0
    ZPCI_FN_STATE_CONFIGURED = 1
    ZPCI_FN_STATE_RESERVED = 2


ZPCI_FN_STATE_STANDBY: Final = zpci_state.ZPCI_FN_STATE_STANDBY
ZPCI_FN_STATE_CONFIGURED: Final = zpci_state.ZPCI_FN_STATE_CONFIGURED
ZPCI_FN_STATE_RESERVED: Final = zpci_state.ZPCI_FN_STATE_RESERVED


@attrs.define(eq=False)
class zpci_bar_struct:
    """``struct zpci_bar_struct``.  ``res`` stays None (no resource tree is modelled)."""

    res: Any = None  # bus resource
    mio_wb: int = 0
    mio_wt: int = 0
    val: int = 0  # bar start & 3 flag bits
    map_idx: int = 0  # index into bar mapping array
    size: int = 0  # order 2 exponent


ZPCI_FUNCTIONS_PER_BUS: Final = 256


@attrs.define(eq=False)
class zpci_bus:
    kref: kref = attrs.field(factory=kref)
    bus: pci_bus | None = None
    function: list[zpci_dev | None] = attrs.field(factory=lambda: [None] * ZPCI_FUNCTIONS_PER_BUS)
    topo: int = 0  # TID if topo_is_tid, PCHID otherwise
    domain_nr: int = 0
    multifunction: int = 0
    topo_is_tid: int = 0
    max_bus_speed: int = PCI_SPEED_UNKNOWN


class zpci_ccdf_err(ctypes.BigEndianStructure):
    """Content Code Description for PCI Function Error (32 bytes, packed)."""

    _pack_ = 1
    _fields_ = [
        ("reserved1", ctypes.c_uint32),
        ("fh", ctypes.c_uint32),  # function handle
        ("fid", ctypes.c_uint32),  # function id
        ("ett", ctypes.c_uint32, 4),  # expected table type
        ("mvn", ctypes.c_uint32, 12),  # MSI vector number
        ("dmaas", ctypes.c_uint32, 8),  # DMA address space
        ("reserved2", ctypes.c_uint32, 6),
        ("q", ctypes.c_uint32, 1),  # event qualifier
        ("rw", ctypes.c_uint32, 1),  # read/write
        ("faddr", ctypes.c_uint64),  # failing address
        ("reserved3", ctypes.c_uint32),
        ("reserved4", ctypes.c_uint16),
        ("pec", ctypes.c_uint16),  # PCI event code
    ]


ZPCI_ERR_PENDING_MAX: Final = 4


class zpci_ccdf_pending(ctypes.BigEndianStructure):
    """The error records of a function under mediated recovery, waiting for userspace:
    a ring of ZPCI_ERR_PENDING_MAX entries.  ``head``/``tail`` are free-running u8
    counters (slot = counter % ZPCI_ERR_PENDING_MAX; 256 is a multiple of 4, so the
    wrap-around of the u8 keeps them consistent), ``count`` the number queued.
    ``mediated_recovery`` says whether userspace, not the host, recovers the function
    (a C ``bool``: one byte, 0 or 1; ctypes has no big-endian ``c_bool``).
    """

    _fields_ = [
        ("mediated_recovery", ctypes.c_uint8),
        ("count", ctypes.c_uint8),
        ("head", ctypes.c_uint8),
        ("tail", ctypes.c_uint8),
        ("err", zpci_ccdf_err * ZPCI_ERR_PENDING_MAX),
    ]


@check_guarded
@attrs.define(eq=False)
class zpci_dev:
    """Private data per function."""

    c_label: ClassVar[str] = "zdev"  # the struct's name in guarded-field reports

    zbus: zpci_bus | None = None
    kref: kref = attrs.field(factory=kref)
    hotplug_slot: Any = None  # struct hotplug_slot, embedded (see the module docstring)

    state_lock: Mutex = attrs.field(factory=lambda: Mutex("zdev->state_lock"))  # protect state changes
    state: zpci_state = guarded_by("state_lock", default=ZPCI_FN_STATE_STANDBY)
    fid: int = 0  # function ID, used by sclp
    fh: int = guarded_by("state_lock", default=0)  # function handle, used by insn's
    gisa: int = 0  # GISA designation for passthrough
    vfn: int = 0  # virtual function number
    pchid: int = 0  # physical channel ID
    maxstbl: int = 0  # Maximum store block size
    rid: int = 0  # RID as supplied by firmware
    tid: int = 0  # Topology for which RID is valid
    pfgid: int = 0  # function group ID
    pft: int = 0  # pci function type
    port: int = 0
    fidparm: int = 0
    dtsm: int = 0  # Supported DT mask
    rid_available: int = 0
    has_hp_slot: int = 0
    has_resources: int = 0
    is_physfn: int = 0
    util_str_avail: int = 0
    tid_avail: int = 0
    rtr_avail: int = 0  # Relaxed translation allowed
    devfn: int = 0  # DEVFN part of the RID

    pfip: bytes = bytes(CLP_PFIP_NR_SEGMENTS)  # pci function internal path
    uid: int = 0  # user defined id
    util_str: bytes = bytes(CLP_UTIL_STR_LEN)  # utility string

    # IRQ stuff
    msi_addr: int = 0  # MSI address
    max_msi: int = 0  # maximum number of MSI's

    # DMA stuff
    dma_table: Any = None
    tlb_refresh: int = 0

    res_name: str = ""
    mio_capable: bool = False
    bars: list[zpci_bar_struct] = attrs.field(
        factory=lambda: [zpci_bar_struct() for _ in range(PCI_STD_NUM_BARS)]
    )

    start_dma: int = 0  # Start of available DMA addresses
    end_dma: int = 0  # End of available DMA addresses
    dma_mask: int = 0  # DMA address space mask

    # Function measurement block
    fmb_lock: Mutex = attrs.field(factory=lambda: Mutex("zdev->fmb_lock"))
    fmb: Any = None
    fmb_update: int = 0  # update interval
    fmb_length: int = 0

    version: int = 0
    max_bus_speed: int = PCI_SPEED_UNKNOWN

    # IOMMU and passthrough
    kzdev: Any = guarded_by("kzdev_lock", default=None)  # struct kvm_zdev *
    kzdev_lock: Mutex = attrs.field(factory=lambda: Mutex("zdev->kzdev_lock"))
    pending_errs: zpci_ccdf_pending = guarded_by(
        "pending_errs_lock", factory=zpci_ccdf_pending, aggregate=True
    )
    pending_errs_lock: Mutex = attrs.field(factory=lambda: Mutex("zdev->pending_errs_lock"))


#: ``DECLARE_STATIC_KEY_FALSE(have_mio)`` (asm/pci_insn.h): stays false, the modelled
#: machine has no PCI MIO facility (BAR space is not modelled).
have_mio: Final = False


def zpci_use_mio(zdev: zpci_dev) -> bool:
    return have_mio and zdev.mio_capable


def zdev_enabled(zdev: zpci_dev) -> bool:
    with data_race():  # C reads the handle without zdev->state_lock, wherever it asks
        return bool(zdev.fh & (1 << 31))


# Helpers
def to_zpci(pdev: pci_dev) -> zpci_dev:
    """As in C the result is NULL (None) when no zdev sits at that devfn; callers that
    may meet that case check, the others use it as C does."""
    zbus: zpci_bus = pdev.sysdata
    return cast(zpci_dev, zbus.function[pdev.devfn])


def to_zpci_dev(dev: device) -> zpci_dev:
    return to_zpci(dev.container)
