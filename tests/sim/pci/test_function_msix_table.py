"""sim/pci/function.py: BAR memory and the MSI-X table -- requests are decoded only
while Command.Memory Space is on, and a reset returns the table to power-on."""

from __future__ import annotations

import pytest

from sim.pci.function import EXP_CAP_OFFSET, PciFunction
from uapi.linux.pci_regs import (
    PCI_COMMAND,
    PCI_COMMAND_MEMORY,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL_BCR_FLR,
    PCI_MSIX_ENTRY_CTRL_MASKBIT,
    PCI_MSIX_ENTRY_DATA,
    PCI_MSIX_ENTRY_LOWER_ADDR,
    PCI_MSIX_ENTRY_SIZE,
    PCI_MSIX_ENTRY_UPPER_ADDR,
    PCI_MSIX_ENTRY_VECTOR_CTRL,
)

MASKED = PCI_MSIX_ENTRY_CTRL_MASKBIT


def msix_function(memory: bool) -> PciFunction:
    fn = PciFunction(0x1AF4, 0x1041, msix=True, msix_table_size=4)
    if memory:
        fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    return fn


def write_entry(fn: PciFunction, i: int, lo: int, hi: int, data: int, ctrl: int) -> None:
    base = i * PCI_MSIX_ENTRY_SIZE
    fn.mem_write(0, base + PCI_MSIX_ENTRY_LOWER_ADDR, 4, lo)
    fn.mem_write(0, base + PCI_MSIX_ENTRY_UPPER_ADDR, 4, hi)
    fn.mem_write(0, base + PCI_MSIX_ENTRY_DATA, 4, data)
    fn.mem_write(0, base + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, ctrl)


def test_table_entries_are_masked_and_empty_at_power_on() -> None:
    fn = msix_function(memory=True)
    assert [fn.msix_entry(i) for i in range(4)] == [(0, 0, 0, MASKED)] * 4


def test_table_write_with_memory_decoding_on_is_kept() -> None:
    fn = msix_function(memory=True)
    write_entry(fn, 2, 0xFEE01000, 0x1, 0x4242, 0)
    assert fn.msix_entry(2) == (0xFEE01000, 0x1, 0x4242, 0)
    assert fn.mem_read(0, 2 * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_DATA, 4) == 0x4242
    assert fn.unsupported_requests == 0


def test_table_write_with_memory_decoding_off_is_dropped_as_unsupported_request() -> None:
    fn = msix_function(memory=False)
    write_entry(fn, 0, 0xFEE00000, 0, 0x20, 0)
    assert fn.msix_entry(0) == (0, 0, 0, MASKED)
    assert fn.unsupported_requests == 4
    # a read is an Unsupported Request too: all ones
    assert fn.mem_read(0, PCI_MSIX_ENTRY_DATA, 4) == 0xFFFFFFFF
    assert fn.unsupported_requests == 5
    # turning decoding on afterwards does not bring the writes back
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    assert fn.msix_entry(0) == (0, 0, 0, MASKED)


def test_vector_control_keeps_only_the_mask_bit_and_pba_is_read_only() -> None:
    fn = msix_function(memory=True)
    fn.mem_write(0, PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0xFFFFFFFE)
    assert fn.msix_entry(0)[3] == 0
    pba = 4 * PCI_MSIX_ENTRY_SIZE
    fn.mem_write(0, pba, 8, 0xFFFFFFFFFFFFFFFF)
    assert fn.mem_read(0, pba, 8) == 0


@pytest.mark.parametrize("reset", ["hot", "flr"])
def test_reset_clears_the_table_and_memory_decoding(reset: str) -> None:
    fn = msix_function(memory=True)
    write_entry(fn, 1, 0xFEE00000, 0, 0x21, 0)
    fn.mem_write(0, 0x800, 4, 0xDEADBEEF)  # a device register in BAR 0
    if reset == "hot":
        fn.hot_reset()
    else:
        fn.config_write(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR)
    assert fn.resets == [reset]
    assert not fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY
    fn.config_write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY)
    assert fn.msix_entry(1) == (0, 0, 0, MASKED)
    assert fn.mem_read(0, 0x800, 4) == 0


def test_inaccessible_function_drops_memory_writes_and_reads_all_ones() -> None:
    fn = msix_function(memory=True)
    fn.set_accessible(False)
    write_entry(fn, 0, 0xFEE00000, 0, 0x20, 0)
    assert fn.mem_read(0, 0, 4) == 0xFFFFFFFF
    fn.set_accessible(True)
    assert fn.msix_entry(0) == (0, 0, 0, MASKED)


def test_requests_past_the_bar_or_to_a_missing_bar_go_nowhere() -> None:
    fn = msix_function(memory=True)
    assert fn.mem_read(0, 0x1000, 4) == 0xFFFFFFFF
    assert fn.mem_read(3, 0, 4) == 0xFFFFFFFF
    fn.mem_write(0, 0xFFE, 4, 0x12345678)  # straddles the end: dropped
    assert fn.mem_read(0, 0xFFC, 4) == 0


def test_bar0_too_small_for_the_msix_table_is_refused() -> None:
    with pytest.raises(ValueError, match="too small"):
        PciFunction(1, 2, msix=True, msix_table_size=512, bars=(0x1000,))
