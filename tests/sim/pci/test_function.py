"""sim/pci/function.py: the PCI function model's registers, error state and resets."""

from __future__ import annotations

import pytest

from sim.pci.function import (
    AF_CAP_OFFSET,
    EXP_CAP_OFFSET,
    MSIX_CAP_OFFSET,
    PM_CAP_OFFSET,
    SCRATCH_OFFSET,
    PciFunction,
)
from uapi.linux.pci_regs import (
    PCI_AF_CAP,
    PCI_AF_CTRL,
    PCI_AF_CTRL_FLR,
    PCI_BASE_ADDRESS_0,
    PCI_BASE_ADDRESS_1,
    PCI_CAP_ID_AF,
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_MSIX,
    PCI_CAP_ID_PM,
    PCI_CAPABILITY_LIST,
    PCI_CLASS_REVISION,
    PCI_COMMAND,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
    PCI_DEVICE_ID,
    PCI_EXP_DEVCAP,
    PCI_EXP_DEVCAP_FLR,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL_BCR_FLR,
    PCI_EXP_DEVSTA,
    PCI_EXP_DEVSTA_TRPND,
    PCI_EXP_FLAGS,
    PCI_HEADER_TYPE,
    PCI_HEADER_TYPE_MFD,
    PCI_MSIX_FLAGS,
    PCI_MSIX_FLAGS_ENABLE,
    PCI_PM_CTRL,
    PCI_PM_CTRL_NO_SOFT_RESET,
    PCI_STATUS,
    PCI_STATUS_CAP_LIST,
    PCI_STATUS_REC_MASTER_ABORT,
    PCI_VENDOR_ID,
)


def caps(fn: PciFunction) -> list[tuple[int, int]]:
    out = []
    pos = fn.config_read(PCI_CAPABILITY_LIST, 1)
    while pos:
        out.append((pos, fn.config_read(pos, 1)))
        pos = fn.config_read(pos + 1, 1)
    return out


def test_header_ids_class_and_capability_chain() -> None:
    fn = PciFunction(0x1014, 0x044B, class_code=0x020000, revision=3, af=True, msix=True)
    assert fn.config_read(PCI_VENDOR_ID, 2) == 0x1014
    assert fn.config_read(PCI_DEVICE_ID, 2) == 0x044B
    assert fn.config_read(PCI_VENDOR_ID, 4) == 0x044B1014
    assert fn.config_read(PCI_CLASS_REVISION, 4) == 0x02000003
    assert fn.config_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST
    assert caps(fn) == [
        (PM_CAP_OFFSET, PCI_CAP_ID_PM),
        (AF_CAP_OFFSET, PCI_CAP_ID_AF),
        (MSIX_CAP_OFFSET, PCI_CAP_ID_MSIX),
        (EXP_CAP_OFFSET, PCI_CAP_ID_EXP),
    ]
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_FLAGS, 2) == 0x0002


def test_conventional_function_has_no_pcie_capability_and_256_bytes() -> None:
    fn = PciFunction(0x1014, 0x04ED, pm=False, pcie=False)
    assert fn.config_read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST == 0
    assert fn.config_read(PCI_CAPABILITY_LIST, 1) == 0
    assert fn.config_read(0x100, 4) == 0xFFFFFFFF
    fn.config_write(0x100, 4, 0)  # dropped, no exception


def test_multifunction_bit_in_header_type() -> None:
    assert PciFunction(1, 2, multifunction=True).config_read(PCI_HEADER_TYPE, 1) == PCI_HEADER_TYPE_MFD
    assert PciFunction(1, 2).config_read(PCI_HEADER_TYPE, 1) == 0


def test_read_only_registers_ignore_writes() -> None:
    fn = PciFunction(0x1014, 0x044B)
    fn.config_write(PCI_VENDOR_ID, 4, 0xDEADBEEF)
    fn.config_write(PCI_CLASS_REVISION, 4, 0)
    fn.config_write(PCI_CAPABILITY_LIST, 1, 0x80)
    fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVCAP, 4, 0)
    assert fn.config_read(PCI_VENDOR_ID, 4) == 0x044B1014
    assert fn.config_read(PCI_CLASS_REVISION, 4) == 0x02000000
    assert fn.config_read(PCI_CAPABILITY_LIST, 1) == PM_CAP_OFFSET
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR


def test_status_error_bits_are_write_one_to_clear() -> None:
    fn = PciFunction(1, 2)
    fn._set_value(PCI_STATUS, 2, PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT)
    fn.config_write(PCI_STATUS, 2, 0)
    assert fn.config_read(PCI_STATUS, 2) & PCI_STATUS_REC_MASTER_ABORT
    fn.config_write(PCI_STATUS, 2, 0xFFFF)
    assert fn.config_read(PCI_STATUS, 2) == PCI_STATUS_CAP_LIST


def test_bar_sizing_reads_back_the_size_mask() -> None:
    fn = PciFunction(1, 2, bars=(0x4000, 0))
    fn.config_write(PCI_BASE_ADDRESS_0, 4, 0xFFFFFFFF)
    assert fn.config_read(PCI_BASE_ADDRESS_0, 4) == 0xFFFFC000
    fn.config_write(PCI_BASE_ADDRESS_1, 4, 0xFFFFFFFF)
    assert fn.config_read(PCI_BASE_ADDRESS_1, 4) == 0


def test_inaccessible_function_reads_all_ones_and_drops_writes() -> None:
    fn = PciFunction(0x1014, 0x044B)
    fn.set_accessible(False)
    assert fn.config_read(PCI_VENDOR_ID, 2) == 0xFFFF
    assert fn.config_read(PCI_VENDOR_ID, 4) == 0xFFFFFFFF
    assert fn.config_read(PCI_HEADER_TYPE, 1) == 0xFF
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR)
    assert fn.resets == []
    fn.set_accessible(True)
    assert fn.config_read(PCI_COMMAND, 2) == 0
    assert fn.config_read(PCI_VENDOR_ID, 2) == 0x1014


def test_flr_through_device_control_resets_registers_and_is_recorded() -> None:
    fn = PciFunction(1, 2, bars=(0x1000,))
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)
    fn.config_write(PCI_BASE_ADDRESS_0, 4, 0x80001000)
    fn.config_write(SCRATCH_OFFSET, 4, 0x12345678)
    default_devctl = fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2)
    fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2, 0x000F)
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2) == 0x000F

    fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2, 0x000F | PCI_EXP_DEVCTL_BCR_FLR)

    assert fn.resets == ["flr"]
    assert fn.config_read(PCI_COMMAND, 2) == 0
    assert fn.config_read(PCI_BASE_ADDRESS_0, 4) == 0
    assert fn.config_read(SCRATCH_OFFSET, 4) == 0
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2) == default_devctl
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR == 0


def test_initiate_flr_is_ignored_without_flr_capability() -> None:
    fn = PciFunction(1, 2, flr=False)
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR)
    assert fn.resets == []
    assert fn.config_read(PCI_COMMAND, 2) == PCI_COMMAND_MEMORY


def test_af_flr_resets_and_is_recorded() -> None:
    fn = PciFunction(1, 2, pcie=False, af=True)
    assert fn.config_read(AF_CAP_OFFSET + PCI_AF_CAP, 1) == 0x03
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MASTER)
    fn.config_write(AF_CAP_OFFSET + PCI_AF_CTRL, 1, PCI_AF_CTRL_FLR)
    assert fn.resets == ["af_flr"]
    assert fn.config_read(PCI_COMMAND, 2) == 0
    assert fn.config_read(AF_CAP_OFFSET + PCI_AF_CTRL, 1) == 0


def test_pm_d3hot_to_d0_without_no_soft_reset_resets_the_function() -> None:
    fn = PciFunction(1, 2)
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    fn.config_write(PM_CAP_OFFSET + PCI_PM_CTRL, 2, 3)
    assert fn.power_state == 3
    assert fn.resets == []
    fn.config_write(PM_CAP_OFFSET + PCI_PM_CTRL, 2, 0)
    assert fn.power_state == 0
    assert fn.resets == ["pm"]
    assert fn.config_read(PCI_COMMAND, 2) == 0


def test_pm_d3hot_to_d0_with_no_soft_reset_keeps_state() -> None:
    fn = PciFunction(1, 2, no_soft_reset=True)
    assert fn.config_read(PM_CAP_OFFSET + PCI_PM_CTRL, 2) & PCI_PM_CTRL_NO_SOFT_RESET
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    fn.config_write(PM_CAP_OFFSET + PCI_PM_CTRL, 2, 3)
    fn.config_write(PM_CAP_OFFSET + PCI_PM_CTRL, 2, 0)
    assert fn.resets == []
    assert fn.config_read(PCI_COMMAND, 2) == PCI_COMMAND_MEMORY


def test_unsupported_d1_is_ignored() -> None:
    fn = PciFunction(1, 2)
    fn.config_write(PM_CAP_OFFSET + PCI_PM_CTRL, 2, 1)
    assert fn.power_state == 0


def test_hot_reset_resets_and_is_recorded_even_when_inaccessible() -> None:
    fn = PciFunction(1, 2, msix=True)
    fn.config_write(MSIX_CAP_OFFSET + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE)
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MASTER)
    fn.set_accessible(False)
    fn.hot_reset()
    fn.set_accessible(True)
    assert fn.resets == ["hot"]
    assert fn.config_read(PCI_COMMAND, 2) == 0
    assert fn.config_read(MSIX_CAP_OFFSET + PCI_MSIX_FLAGS, 2) == 7


def test_transactions_pending_reflected_in_device_status() -> None:
    fn = PciFunction(1, 2)
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVSTA, 2) & PCI_EXP_DEVSTA_TRPND == 0
    fn.transactions_pending = True
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVSTA, 2) & PCI_EXP_DEVSTA_TRPND
    # Read-only: a write does not clear it.
    fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVSTA, 2, 0xFFFF)
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVSTA, 2) & PCI_EXP_DEVSTA_TRPND


def test_bad_access_size_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        PciFunction(1, 2).config_read(0, 3)
