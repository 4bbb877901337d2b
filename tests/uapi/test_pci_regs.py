"""uapi/linux/pci_regs.py against well-known values of include/uapi/linux/pci_regs.h."""

from __future__ import annotations

from uapi.linux import pci_regs as r


def test_standard_header_offsets() -> None:
    assert (r.PCI_VENDOR_ID, r.PCI_DEVICE_ID, r.PCI_COMMAND, r.PCI_STATUS) == (0, 2, 4, 6)
    assert r.PCI_CLASS_REVISION == 0x08
    assert r.PCI_HEADER_TYPE == 0x0E
    assert [r.PCI_BASE_ADDRESS_0, r.PCI_BASE_ADDRESS_5] == [0x10, 0x24]
    assert r.PCI_CAPABILITY_LIST == 0x34
    assert (r.PCI_INTERRUPT_LINE, r.PCI_INTERRUPT_PIN) == (0x3C, 0x3D)
    assert (r.PCI_CFG_SPACE_SIZE, r.PCI_CFG_SPACE_EXP_SIZE) == (256, 4096)


def test_command_status_and_header_type_bits() -> None:
    assert (r.PCI_COMMAND_IO, r.PCI_COMMAND_MEMORY, r.PCI_COMMAND_MASTER) == (1, 2, 4)
    assert r.PCI_COMMAND_INTX_DISABLE == 0x400
    assert r.PCI_STATUS_CAP_LIST == 0x10
    assert (r.PCI_HEADER_TYPE_MASK, r.PCI_HEADER_TYPE_MFD) == (0x7F, 0x80)
    assert (r.PCI_HEADER_TYPE_NORMAL, r.PCI_HEADER_TYPE_BRIDGE, r.PCI_HEADER_TYPE_CARDBUS) == (0, 1, 2)


def test_capability_ids_and_pm_bits() -> None:
    assert (r.PCI_CAP_ID_PM, r.PCI_CAP_ID_MSI, r.PCI_CAP_ID_EXP, r.PCI_CAP_ID_MSIX, r.PCI_CAP_ID_AF) == (
        0x01,
        0x05,
        0x10,
        0x11,
        0x13,
    )
    assert (r.PCI_PM_CTRL, r.PCI_PM_CTRL_STATE_MASK, r.PCI_PM_CTRL_NO_SOFT_RESET) == (4, 3, 8)
    assert (r.PCI_AF_CAP, r.PCI_AF_CAP_FLR, r.PCI_AF_CTRL, r.PCI_AF_CTRL_FLR) == (3, 2, 4, 1)
    assert r.PCI_AF_STATUS == 5


def test_pci_express_capability_registers() -> None:
    assert (r.PCI_EXP_FLAGS, r.PCI_EXP_FLAGS_TYPE, r.PCI_EXP_FLAGS_VERS) == (2, 0xF0, 0xF)
    assert (r.PCI_EXP_DEVCAP, r.PCI_EXP_DEVCAP_FLR) == (4, 0x10000000)
    assert (r.PCI_EXP_DEVCTL, r.PCI_EXP_DEVCTL_BCR_FLR) == (8, 0x8000)
    assert (r.PCI_EXP_DEVSTA, r.PCI_EXP_DEVSTA_TRPND) == (0x0A, 0x20)
    assert (r.PCI_EXP_LNKCTL, r.PCI_EXP_SLTCTL, r.PCI_EXP_RTCTL) == (0x10, 0x18, 0x1C)
    assert (r.PCI_EXP_DEVCTL2, r.PCI_EXP_LNKCTL2, r.PCI_EXP_SLTCTL2) == (0x28, 0x30, 0x38)


def test_extended_capability_header_fields() -> None:
    header = (0x150 << 20) | (1 << 16) | r.PCI_EXT_CAP_ID_ERR
    assert r.PCI_EXT_CAP_ID(header) == r.PCI_EXT_CAP_ID_ERR
    assert r.PCI_EXT_CAP_VER(header) == 1
    assert r.PCI_EXT_CAP_NEXT(header) == 0x150
    # The low two bits of the next pointer are reserved and masked off.
    assert r.PCI_EXT_CAP_NEXT(0xFFFFFFFF) == 0xFFC
