"""include/uapi/linux/vfio.h: the VFIO user API, as far as this model uses it.

Base: Linux 7.1-rc4.  Read from legoater/linux @ 1d9bf54a4264,
include/uapi/linux/vfio.h (7.1-rc4's text is blob 5de618a3a5ee, the v17 5/7 pre-image),
with the older version of the series' ``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` block
removed.  v17 patch 5/7 ("vfio-pci/zdev: Add a device feature for error
information") adds ``struct vfio_device_feature_zpci_err`` and
``VFIO_DEVICE_FEATURE_ZPCI_ERROR 13``.

Layouts are ``ctypes.BigEndianStructure`` with the C member names and the s390x ABI:
big-endian, natural alignment (``__u64``/``__aligned_u64`` at 8 bytes), nothing
packed (the header has no ``__packed``).  A C flexible array member (``__u8
data[];``) is a zero-length array field: it adds nothing to ``sizeof`` and its
``.offset`` is where the variable part starts, exactly ``offsetof(struct ..., data)``.

All ioctl numbers are ``_IO(VFIO_TYPE, VFIO_BASE + n)``: VFIO carries the argument
size in ``argsz`` inside the structure, not in the ioctl number (the ``_IOR``/``_IOW``
forms in the header comments are documentation only).

Left out: the type1 IOMMU and sPAPR container API, the migration state structures
beyond their feature numbers, the gfx/ccw/ap region types and the dma-buf structs;
nothing in the model calls them.
"""

from __future__ import annotations

import ctypes
from typing import Final

from uapi.asm_generic.ioctl import _IO

__all__ = [
    "VFIO_API_VERSION",
    "VFIO_TYPE1_IOMMU",
    "VFIO_SPAPR_TCE_IOMMU",
    "VFIO_TYPE1v2_IOMMU",
    "VFIO_DMA_CC_IOMMU",
    "VFIO_EEH",
    "VFIO_SPAPR_TCE_v2_IOMMU",
    "VFIO_NOIOMMU_IOMMU",
    "VFIO_UNMAP_ALL",
    "VFIO_UPDATE_VADDR",
    "VFIO_TYPE",
    "VFIO_BASE",
    "vfio_info_cap_header",
    "VFIO_GET_API_VERSION",
    "VFIO_CHECK_EXTENSION",
    "VFIO_SET_IOMMU",
    "vfio_group_status",
    "VFIO_GROUP_FLAGS_VIABLE",
    "VFIO_GROUP_FLAGS_CONTAINER_SET",
    "VFIO_GROUP_GET_STATUS",
    "VFIO_GROUP_SET_CONTAINER",
    "VFIO_GROUP_UNSET_CONTAINER",
    "VFIO_GROUP_GET_DEVICE_FD",
    "vfio_device_info",
    "VFIO_DEVICE_FLAGS_RESET",
    "VFIO_DEVICE_FLAGS_PCI",
    "VFIO_DEVICE_FLAGS_PLATFORM",
    "VFIO_DEVICE_FLAGS_AMBA",
    "VFIO_DEVICE_FLAGS_CCW",
    "VFIO_DEVICE_FLAGS_AP",
    "VFIO_DEVICE_FLAGS_FSL_MC",
    "VFIO_DEVICE_FLAGS_CAPS",
    "VFIO_DEVICE_FLAGS_CDX",
    "VFIO_DEVICE_GET_INFO",
    "VFIO_DEVICE_API_PCI_STRING",
    "VFIO_DEVICE_INFO_CAP_ZPCI_BASE",
    "VFIO_DEVICE_INFO_CAP_ZPCI_GROUP",
    "VFIO_DEVICE_INFO_CAP_ZPCI_UTIL",
    "VFIO_DEVICE_INFO_CAP_ZPCI_PFIP",
    "VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP",
    "vfio_device_info_cap_pci_atomic_comp",
    "VFIO_PCI_ATOMIC_COMP32",
    "VFIO_PCI_ATOMIC_COMP64",
    "VFIO_PCI_ATOMIC_COMP128",
    "vfio_region_info",
    "VFIO_REGION_INFO_FLAG_READ",
    "VFIO_REGION_INFO_FLAG_WRITE",
    "VFIO_REGION_INFO_FLAG_MMAP",
    "VFIO_REGION_INFO_FLAG_CAPS",
    "VFIO_DEVICE_GET_REGION_INFO",
    "vfio_irq_info",
    "VFIO_IRQ_INFO_EVENTFD",
    "VFIO_IRQ_INFO_MASKABLE",
    "VFIO_IRQ_INFO_AUTOMASKED",
    "VFIO_IRQ_INFO_NORESIZE",
    "VFIO_DEVICE_GET_IRQ_INFO",
    "vfio_irq_set",
    "VFIO_IRQ_SET_DATA_NONE",
    "VFIO_IRQ_SET_DATA_BOOL",
    "VFIO_IRQ_SET_DATA_EVENTFD",
    "VFIO_IRQ_SET_ACTION_MASK",
    "VFIO_IRQ_SET_ACTION_UNMASK",
    "VFIO_IRQ_SET_ACTION_TRIGGER",
    "VFIO_DEVICE_SET_IRQS",
    "VFIO_IRQ_SET_DATA_TYPE_MASK",
    "VFIO_IRQ_SET_ACTION_TYPE_MASK",
    "VFIO_DEVICE_RESET",
    "VFIO_PCI_BAR0_REGION_INDEX",
    "VFIO_PCI_BAR1_REGION_INDEX",
    "VFIO_PCI_BAR2_REGION_INDEX",
    "VFIO_PCI_BAR3_REGION_INDEX",
    "VFIO_PCI_BAR4_REGION_INDEX",
    "VFIO_PCI_BAR5_REGION_INDEX",
    "VFIO_PCI_ROM_REGION_INDEX",
    "VFIO_PCI_CONFIG_REGION_INDEX",
    "VFIO_PCI_VGA_REGION_INDEX",
    "VFIO_PCI_NUM_REGIONS",
    "VFIO_PCI_INTX_IRQ_INDEX",
    "VFIO_PCI_MSI_IRQ_INDEX",
    "VFIO_PCI_MSIX_IRQ_INDEX",
    "VFIO_PCI_ERR_IRQ_INDEX",
    "VFIO_PCI_REQ_IRQ_INDEX",
    "VFIO_PCI_NUM_IRQS",
    "VFIO_DEVICE_GET_PCI_HOT_RESET_INFO",
    "VFIO_DEVICE_PCI_HOT_RESET",
    "VFIO_DEVICE_QUERY_GFX_PLANE",
    "VFIO_DEVICE_GET_GFX_DMABUF",
    "VFIO_DEVICE_IOEVENTFD",
    "vfio_device_feature",
    "VFIO_DEVICE_FEATURE_MASK",
    "VFIO_DEVICE_FEATURE_GET",
    "VFIO_DEVICE_FEATURE_SET",
    "VFIO_DEVICE_FEATURE_PROBE",
    "VFIO_DEVICE_FEATURE",
    "vfio_device_bind_iommufd",
    "VFIO_DEVICE_BIND_FLAG_TOKEN",
    "VFIO_DEVICE_BIND_IOMMUFD",
    "vfio_device_attach_iommufd_pt",
    "VFIO_DEVICE_ATTACH_PASID",
    "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
    "vfio_device_detach_iommufd_pt",
    "VFIO_DEVICE_DETACH_PASID",
    "VFIO_DEVICE_DETACH_IOMMUFD_PT",
    "VFIO_DEVICE_FEATURE_PCI_VF_TOKEN",
    "VFIO_DEVICE_FEATURE_MIGRATION",
    "VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE",
    "VFIO_MIG_GET_PRECOPY_INFO",
    "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY",
    "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP",
    "VFIO_DEVICE_FEATURE_LOW_POWER_EXIT",
    "VFIO_DEVICE_FEATURE_DMA_LOGGING_START",
    "VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP",
    "VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT",
    "VFIO_DEVICE_FEATURE_MIG_DATA_SIZE",
    "VFIO_DEVICE_FEATURE_BUS_MASTER",
    "VFIO_DEVICE_FEATURE_DMA_BUF",
    "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2",
    "VFIO_DEVICE_FEATURE_ZPCI_ERROR",
    "vfio_device_feature_zpci_err",
    "VFIO_MIGRATION_STOP_COPY",
    "VFIO_MIGRATION_P2P",
    "VFIO_MIGRATION_PRE_COPY",
]

VFIO_API_VERSION: Final = 0

# Extensions (VFIO_CHECK_EXTENSION arguments)
VFIO_TYPE1_IOMMU: Final = 1
VFIO_SPAPR_TCE_IOMMU: Final = 2
VFIO_TYPE1v2_IOMMU: Final = 3
VFIO_DMA_CC_IOMMU: Final = 4
VFIO_EEH: Final = 5
VFIO_SPAPR_TCE_v2_IOMMU: Final = 7
VFIO_NOIOMMU_IOMMU: Final = 8
VFIO_UNMAP_ALL: Final = 9
VFIO_UPDATE_VADDR: Final = 10

VFIO_TYPE: Final = ord(";")
VFIO_BASE: Final = 100


class vfio_info_cap_header(ctypes.BigEndianStructure):
    """Head of every capability in an INFO capability chain; ``next`` is an offset
    from the start of the INFO buffer (0 ends the chain)."""

    _fields_ = [
        ("id", ctypes.c_uint16),
        ("version", ctypes.c_uint16),
        ("next", ctypes.c_uint32),
    ]


# -------- ioctls on the container fd (/dev/vfio/vfio) --------
VFIO_GET_API_VERSION: Final = _IO(VFIO_TYPE, VFIO_BASE + 0)
VFIO_CHECK_EXTENSION: Final = _IO(VFIO_TYPE, VFIO_BASE + 1)
VFIO_SET_IOMMU: Final = _IO(VFIO_TYPE, VFIO_BASE + 2)


# -------- ioctls on a group fd (/dev/vfio/$GROUP) --------
class vfio_group_status(ctypes.BigEndianStructure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
    ]


VFIO_GROUP_FLAGS_VIABLE: Final = 1 << 0
VFIO_GROUP_FLAGS_CONTAINER_SET: Final = 1 << 1
VFIO_GROUP_GET_STATUS: Final = _IO(VFIO_TYPE, VFIO_BASE + 3)
VFIO_GROUP_SET_CONTAINER: Final = _IO(VFIO_TYPE, VFIO_BASE + 4)
VFIO_GROUP_UNSET_CONTAINER: Final = _IO(VFIO_TYPE, VFIO_BASE + 5)
VFIO_GROUP_GET_DEVICE_FD: Final = _IO(VFIO_TYPE, VFIO_BASE + 6)


# -------- ioctls on a device fd --------
class vfio_device_info(ctypes.BigEndianStructure):
    """7.1 form, with the trailing ``pad`` (24 bytes; 6.1 headers had 20)."""

    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("num_regions", ctypes.c_uint32),  # max region index + 1
        ("num_irqs", ctypes.c_uint32),  # max IRQ index + 1
        ("cap_offset", ctypes.c_uint32),  # offset of the first capability
        ("pad", ctypes.c_uint32),
    ]


VFIO_DEVICE_FLAGS_RESET: Final = 1 << 0
VFIO_DEVICE_FLAGS_PCI: Final = 1 << 1
VFIO_DEVICE_FLAGS_PLATFORM: Final = 1 << 2
VFIO_DEVICE_FLAGS_AMBA: Final = 1 << 3
VFIO_DEVICE_FLAGS_CCW: Final = 1 << 4
VFIO_DEVICE_FLAGS_AP: Final = 1 << 5
VFIO_DEVICE_FLAGS_FSL_MC: Final = 1 << 6
VFIO_DEVICE_FLAGS_CAPS: Final = 1 << 7
VFIO_DEVICE_FLAGS_CDX: Final = 1 << 8
VFIO_DEVICE_GET_INFO: Final = _IO(VFIO_TYPE, VFIO_BASE + 7)

VFIO_DEVICE_API_PCI_STRING: Final = "vfio-pci"

# s390 zPCI capabilities of VFIO_DEVICE_GET_INFO (contents in vfio_zdev.h)
VFIO_DEVICE_INFO_CAP_ZPCI_BASE: Final = 1
VFIO_DEVICE_INFO_CAP_ZPCI_GROUP: Final = 2
VFIO_DEVICE_INFO_CAP_ZPCI_UTIL: Final = 3
VFIO_DEVICE_INFO_CAP_ZPCI_PFIP: Final = 4

VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP: Final = 5


class vfio_device_info_cap_pci_atomic_comp(ctypes.BigEndianStructure):
    _fields_ = [
        ("header", vfio_info_cap_header),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


VFIO_PCI_ATOMIC_COMP32: Final = 1 << 0
VFIO_PCI_ATOMIC_COMP64: Final = 1 << 1
VFIO_PCI_ATOMIC_COMP128: Final = 1 << 2


class vfio_region_info(ctypes.BigEndianStructure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("index", ctypes.c_uint32),  # region index
        ("cap_offset", ctypes.c_uint32),  # offset of the first capability
        ("size", ctypes.c_uint64),  # __aligned_u64: region size in bytes
        ("offset", ctypes.c_uint64),  # __aligned_u64: region offset in the device fd
    ]


VFIO_REGION_INFO_FLAG_READ: Final = 1 << 0
VFIO_REGION_INFO_FLAG_WRITE: Final = 1 << 1
VFIO_REGION_INFO_FLAG_MMAP: Final = 1 << 2
VFIO_REGION_INFO_FLAG_CAPS: Final = 1 << 3
VFIO_DEVICE_GET_REGION_INFO: Final = _IO(VFIO_TYPE, VFIO_BASE + 8)


class vfio_irq_info(ctypes.BigEndianStructure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("index", ctypes.c_uint32),  # IRQ index
        ("count", ctypes.c_uint32),  # number of IRQs in this index
    ]


VFIO_IRQ_INFO_EVENTFD: Final = 1 << 0
VFIO_IRQ_INFO_MASKABLE: Final = 1 << 1
VFIO_IRQ_INFO_AUTOMASKED: Final = 1 << 2
VFIO_IRQ_INFO_NORESIZE: Final = 1 << 3
VFIO_DEVICE_GET_IRQ_INFO: Final = _IO(VFIO_TYPE, VFIO_BASE + 9)


class vfio_irq_set(ctypes.BigEndianStructure):
    """``data[]`` (flexible, 20 bytes in) holds ``count`` bools (``__u8``) or
    eventfds (``__s32``) according to the DATA_* flag."""

    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("index", ctypes.c_uint32),
        ("start", ctypes.c_uint32),
        ("count", ctypes.c_uint32),
        ("data", ctypes.c_uint8 * 0),
    ]


VFIO_IRQ_SET_DATA_NONE: Final = 1 << 0  # data not present
VFIO_IRQ_SET_DATA_BOOL: Final = 1 << 1  # data is bool (u8)
VFIO_IRQ_SET_DATA_EVENTFD: Final = 1 << 2  # data is eventfd (s32)
VFIO_IRQ_SET_ACTION_MASK: Final = 1 << 3
VFIO_IRQ_SET_ACTION_UNMASK: Final = 1 << 4
VFIO_IRQ_SET_ACTION_TRIGGER: Final = 1 << 5
VFIO_DEVICE_SET_IRQS: Final = _IO(VFIO_TYPE, VFIO_BASE + 10)

VFIO_IRQ_SET_DATA_TYPE_MASK: Final = (
    VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD
)
VFIO_IRQ_SET_ACTION_TYPE_MASK: Final = (
    VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER
)

VFIO_DEVICE_RESET: Final = _IO(VFIO_TYPE, VFIO_BASE + 11)

# vfio-pci's fixed region indexes (anonymous enum in C)
VFIO_PCI_BAR0_REGION_INDEX: Final = 0
VFIO_PCI_BAR1_REGION_INDEX: Final = 1
VFIO_PCI_BAR2_REGION_INDEX: Final = 2
VFIO_PCI_BAR3_REGION_INDEX: Final = 3
VFIO_PCI_BAR4_REGION_INDEX: Final = 4
VFIO_PCI_BAR5_REGION_INDEX: Final = 5
VFIO_PCI_ROM_REGION_INDEX: Final = 6
VFIO_PCI_CONFIG_REGION_INDEX: Final = 7
VFIO_PCI_VGA_REGION_INDEX: Final = 8
VFIO_PCI_NUM_REGIONS: Final = 9  # fixed user ABI; higher indexes are device specific

# vfio-pci's fixed IRQ indexes (anonymous enum in C)
VFIO_PCI_INTX_IRQ_INDEX: Final = 0
VFIO_PCI_MSI_IRQ_INDEX: Final = 1
VFIO_PCI_MSIX_IRQ_INDEX: Final = 2
VFIO_PCI_ERR_IRQ_INDEX: Final = 3
VFIO_PCI_REQ_IRQ_INDEX: Final = 4
VFIO_PCI_NUM_IRQS: Final = 5

VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: Final = _IO(VFIO_TYPE, VFIO_BASE + 12)
VFIO_DEVICE_PCI_HOT_RESET: Final = _IO(VFIO_TYPE, VFIO_BASE + 13)
VFIO_DEVICE_QUERY_GFX_PLANE: Final = _IO(VFIO_TYPE, VFIO_BASE + 14)
VFIO_DEVICE_GET_GFX_DMABUF: Final = _IO(VFIO_TYPE, VFIO_BASE + 15)
VFIO_DEVICE_IOEVENTFD: Final = _IO(VFIO_TYPE, VFIO_BASE + 16)


class vfio_device_feature(ctypes.BigEndianStructure):
    """8-byte header; the feature's own data follows at ``data`` (offset 8)."""

    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("data", ctypes.c_uint8 * 0),
    ]


VFIO_DEVICE_FEATURE_MASK: Final = 0xFFFF  # 16-bit feature index
VFIO_DEVICE_FEATURE_GET: Final = 1 << 16  # get feature into data[]
VFIO_DEVICE_FEATURE_SET: Final = 1 << 17  # set feature from data[]
VFIO_DEVICE_FEATURE_PROBE: Final = 1 << 18  # probe feature support
VFIO_DEVICE_FEATURE: Final = _IO(VFIO_TYPE, VFIO_BASE + 17)


class vfio_device_bind_iommufd(ctypes.BigEndianStructure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("iommufd", ctypes.c_int32),
        ("out_devid", ctypes.c_uint32),
        ("token_uuid_ptr", ctypes.c_uint64),  # __aligned_u64
    ]


VFIO_DEVICE_BIND_FLAG_TOKEN: Final = 1 << 0
VFIO_DEVICE_BIND_IOMMUFD: Final = _IO(VFIO_TYPE, VFIO_BASE + 18)


class vfio_device_attach_iommufd_pt(ctypes.BigEndianStructure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("pt_id", ctypes.c_uint32),
        ("pasid", ctypes.c_uint32),
    ]


VFIO_DEVICE_ATTACH_PASID: Final = 1 << 0
VFIO_DEVICE_ATTACH_IOMMUFD_PT: Final = _IO(VFIO_TYPE, VFIO_BASE + 19)


class vfio_device_detach_iommufd_pt(ctypes.BigEndianStructure):
    _fields_ = [
        ("argsz", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("pasid", ctypes.c_uint32),
    ]


VFIO_DEVICE_DETACH_PASID: Final = 1 << 0
VFIO_DEVICE_DETACH_IOMMUFD_PT: Final = _IO(VFIO_TYPE, VFIO_BASE + 20)

# Device features (the VFIO_DEVICE_FEATURE_MASK part of vfio_device_feature.flags)
VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: Final = 0
VFIO_DEVICE_FEATURE_MIGRATION: Final = 1
VFIO_MIGRATION_STOP_COPY: Final = 1 << 0
VFIO_MIGRATION_P2P: Final = 1 << 1
VFIO_MIGRATION_PRE_COPY: Final = 1 << 2
VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: Final = 2
VFIO_MIG_GET_PRECOPY_INFO: Final = _IO(VFIO_TYPE, VFIO_BASE + 21)
VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY: Final = 3
VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP: Final = 4
VFIO_DEVICE_FEATURE_LOW_POWER_EXIT: Final = 5
VFIO_DEVICE_FEATURE_DMA_LOGGING_START: Final = 6
VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP: Final = 7
VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT: Final = 8
VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: Final = 9
VFIO_DEVICE_FEATURE_BUS_MASTER: Final = 10
VFIO_DEVICE_FEATURE_DMA_BUF: Final = 11
VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2: Final = 12


class vfio_device_feature_zpci_err(ctypes.BigEndianStructure):
    """VFIO_DEVICE_FEATURE_ZPCI_ERROR: one PCI error record of a zPCI function, as the
    s390 firmware reported it, for userspace to act on (GET only; -ENOMSG when none is
    pending).  The fields are the firmware's CCDF fields, copied one by one; the
    reserved fields and ``feature_flags`` are zero.  Not packed: natural alignment
    leaves a 4-byte hole after the bit-field word (before ``faddr``) and 4 bytes of
    tail padding, 72 bytes in all."""

    _fields_ = [
        ("feature_flags", ctypes.c_uint32),  # indicate future features
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
        ("reserved5", ctypes.c_uint8 * 28),  # allow for future expansion
    ]


VFIO_DEVICE_FEATURE_ZPCI_ERROR: Final = 13
