"""Layouts and numbers of uapi/linux/vfio.py against the s390x ABI of
include/uapi/linux/vfio.h (7.1-rc4): sizes, every field offset, ioctl numbers and the
big-endian byte image."""

from __future__ import annotations

import ctypes

import pytest

from uapi.linux import vfio as V


def offsets(struct: type[ctypes.Structure]) -> dict[str, int]:
    return {name: getattr(struct, name).offset for name, *_ in struct._fields_}


@pytest.mark.parametrize(
    ("struct", "size", "layout"),
    [
        (V.vfio_info_cap_header, 8, {"id": 0, "version": 2, "next": 4}),
        (V.vfio_group_status, 8, {"argsz": 0, "flags": 4}),
        (
            V.vfio_device_info,
            24,
            {"argsz": 0, "flags": 4, "num_regions": 8, "num_irqs": 12, "cap_offset": 16, "pad": 20},
        ),
        (V.vfio_device_info_cap_pci_atomic_comp, 16, {"header": 0, "flags": 8, "reserved": 12}),
        (
            V.vfio_region_info,
            32,
            {"argsz": 0, "flags": 4, "index": 8, "cap_offset": 12, "size": 16, "offset": 24},
        ),
        (V.vfio_irq_info, 16, {"argsz": 0, "flags": 4, "index": 8, "count": 12}),
        (V.vfio_irq_set, 20, {"argsz": 0, "flags": 4, "index": 8, "start": 12, "count": 16, "data": 20}),
        (V.vfio_device_feature, 8, {"argsz": 0, "flags": 4, "data": 8}),
        (
            V.vfio_device_bind_iommufd,
            24,
            {"argsz": 0, "flags": 4, "iommufd": 8, "out_devid": 12, "token_uuid_ptr": 16},
        ),
        (V.vfio_device_attach_iommufd_pt, 16, {"argsz": 0, "flags": 4, "pt_id": 8, "pasid": 12}),
        (V.vfio_device_detach_iommufd_pt, 12, {"argsz": 0, "flags": 4, "pasid": 8}),
        (  # v17 5/7; the bit-field word (ett..rw) sits at 16, then a 4-byte hole
            V.vfio_device_feature_zpci_err,
            72,
            {
                "feature_flags": 0,
                "reserved1": 4,
                "fh": 8,
                "fid": 12,
                "ett": 16,
                "mvn": 16,
                "dmaas": 16,
                "reserved2": 16,
                "q": 16,
                "rw": 16,
                "faddr": 24,
                "reserved3": 32,
                "reserved4": 36,
                "pec": 38,
                "reserved5": 40,
            },
        ),
    ],
)
def test_struct_size_and_every_field_offset(
    struct: type[ctypes.Structure], size: int, layout: dict[str, int]
) -> None:
    assert ctypes.sizeof(struct) == size
    assert offsets(struct) == layout

def test_zpci_err_reserved5_is_28_bytes() -> None:
    """v17 5/7: ``__u8 reserved5[28]``; one byte more would hide in the tail padding
    (sizeof stays 72), so the field's own size is checked."""
    assert V.vfio_device_feature_zpci_err.reserved5.size == 28


def test_flexible_arrays_add_nothing_to_sizeof() -> None:
    assert ctypes.sizeof(V.vfio_device_feature) == V.vfio_device_feature.data.offset == 8
    assert V.vfio_device_feature.data.size == 0
    assert V.vfio_irq_set.data.size == 0


def test_ioctl_numbers_are_io_type_semicolon_base_100() -> None:
    assert (V.VFIO_TYPE, V.VFIO_BASE) == (0x3B, 100)
    numbers = [
        V.VFIO_GET_API_VERSION,
        V.VFIO_CHECK_EXTENSION,
        V.VFIO_SET_IOMMU,
        V.VFIO_GROUP_GET_STATUS,
        V.VFIO_GROUP_SET_CONTAINER,
        V.VFIO_GROUP_UNSET_CONTAINER,
        V.VFIO_GROUP_GET_DEVICE_FD,
        V.VFIO_DEVICE_GET_INFO,
        V.VFIO_DEVICE_GET_REGION_INFO,
        V.VFIO_DEVICE_GET_IRQ_INFO,
        V.VFIO_DEVICE_SET_IRQS,
        V.VFIO_DEVICE_RESET,
        V.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO,
        V.VFIO_DEVICE_PCI_HOT_RESET,
        V.VFIO_DEVICE_QUERY_GFX_PLANE,
        V.VFIO_DEVICE_GET_GFX_DMABUF,
        V.VFIO_DEVICE_IOEVENTFD,
        V.VFIO_DEVICE_FEATURE,
        V.VFIO_DEVICE_BIND_IOMMUFD,
        V.VFIO_DEVICE_ATTACH_IOMMUFD_PT,
        V.VFIO_DEVICE_DETACH_IOMMUFD_PT,
        V.VFIO_MIG_GET_PRECOPY_INFO,
    ]
    assert numbers == [15204 + n for n in range(22)]


def test_ioctl_numbers_of_the_error_recovery_flow() -> None:
    assert V.VFIO_DEVICE_FEATURE == 0x3B75
    assert V.VFIO_DEVICE_RESET == 0x3B6F
    assert V.VFIO_DEVICE_GET_INFO == 15211
    assert V.VFIO_DEVICE_GET_IRQ_INFO == 15213
    assert V.VFIO_DEVICE_SET_IRQS == 15214


def test_feature_flags_and_numbers() -> None:
    assert V.VFIO_DEVICE_FEATURE_MASK == 0xFFFF
    assert (V.VFIO_DEVICE_FEATURE_GET, V.VFIO_DEVICE_FEATURE_SET, V.VFIO_DEVICE_FEATURE_PROBE) == (
        0x10000,
        0x20000,
        0x40000,
    )
    features = [
        V.VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
        V.VFIO_DEVICE_FEATURE_MIGRATION,
        V.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
        V.VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
        V.VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
        V.VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
        V.VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
        V.VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
        V.VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
        V.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
        V.VFIO_DEVICE_FEATURE_BUS_MASTER,
        V.VFIO_DEVICE_FEATURE_DMA_BUF,
        V.VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
        V.VFIO_DEVICE_FEATURE_ZPCI_ERROR,  # v17 5/7
    ]
    assert features == list(range(14))


def test_pci_region_and_irq_indexes() -> None:
    assert [
        V.VFIO_PCI_BAR0_REGION_INDEX,
        V.VFIO_PCI_BAR1_REGION_INDEX,
        V.VFIO_PCI_BAR2_REGION_INDEX,
        V.VFIO_PCI_BAR3_REGION_INDEX,
        V.VFIO_PCI_BAR4_REGION_INDEX,
        V.VFIO_PCI_BAR5_REGION_INDEX,
        V.VFIO_PCI_ROM_REGION_INDEX,
        V.VFIO_PCI_CONFIG_REGION_INDEX,
        V.VFIO_PCI_VGA_REGION_INDEX,
        V.VFIO_PCI_NUM_REGIONS,
    ] == list(range(10))
    assert [
        V.VFIO_PCI_INTX_IRQ_INDEX,
        V.VFIO_PCI_MSI_IRQ_INDEX,
        V.VFIO_PCI_MSIX_IRQ_INDEX,
        V.VFIO_PCI_ERR_IRQ_INDEX,
        V.VFIO_PCI_REQ_IRQ_INDEX,
        V.VFIO_PCI_NUM_IRQS,
    ] == list(range(6))


def test_flag_values() -> None:
    assert [
        V.VFIO_IRQ_INFO_EVENTFD,
        V.VFIO_IRQ_INFO_MASKABLE,
        V.VFIO_IRQ_INFO_AUTOMASKED,
        V.VFIO_IRQ_INFO_NORESIZE,
    ] == [1, 2, 4, 8]
    assert [
        V.VFIO_IRQ_SET_DATA_NONE,
        V.VFIO_IRQ_SET_DATA_BOOL,
        V.VFIO_IRQ_SET_DATA_EVENTFD,
        V.VFIO_IRQ_SET_ACTION_MASK,
        V.VFIO_IRQ_SET_ACTION_UNMASK,
        V.VFIO_IRQ_SET_ACTION_TRIGGER,
    ] == [1, 2, 4, 8, 16, 32]
    assert V.VFIO_IRQ_SET_DATA_TYPE_MASK == 0x07
    assert V.VFIO_IRQ_SET_ACTION_TYPE_MASK == 0x38
    assert [
        V.VFIO_DEVICE_FLAGS_RESET,
        V.VFIO_DEVICE_FLAGS_PCI,
        V.VFIO_DEVICE_FLAGS_PLATFORM,
        V.VFIO_DEVICE_FLAGS_AMBA,
        V.VFIO_DEVICE_FLAGS_CCW,
        V.VFIO_DEVICE_FLAGS_AP,
        V.VFIO_DEVICE_FLAGS_FSL_MC,
        V.VFIO_DEVICE_FLAGS_CAPS,
        V.VFIO_DEVICE_FLAGS_CDX,
    ] == [1 << n for n in range(9)]
    assert [
        V.VFIO_DEVICE_INFO_CAP_ZPCI_BASE,
        V.VFIO_DEVICE_INFO_CAP_ZPCI_GROUP,
        V.VFIO_DEVICE_INFO_CAP_ZPCI_UTIL,
        V.VFIO_DEVICE_INFO_CAP_ZPCI_PFIP,
        V.VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP,
    ] == [1, 2, 3, 4, 5]
    assert [
        V.VFIO_REGION_INFO_FLAG_READ,
        V.VFIO_REGION_INFO_FLAG_WRITE,
        V.VFIO_REGION_INFO_FLAG_MMAP,
        V.VFIO_REGION_INFO_FLAG_CAPS,
    ] == [1, 2, 4, 8]


def test_big_endian_byte_image() -> None:
    feature = V.vfio_device_feature(argsz=0x11223344, flags=V.VFIO_DEVICE_FEATURE_GET | 0x0102)
    assert bytes(feature) == bytes.fromhex("11223344" "00010102")
    info = V.vfio_region_info(argsz=32, index=7, size=0x0102030405060708)
    assert bytes(info)[16:24] == bytes.fromhex("0102030405060708")
    assert bytes(info)[8:12] == b"\x00\x00\x00\x07"
