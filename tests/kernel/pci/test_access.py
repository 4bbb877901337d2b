"""kernel/pci/access.py: config accessors through a bus's pci_ops to the function model."""

from __future__ import annotations

import threading
import time

import pytest

from kernel.include.linux.pci import (
    PCIBIOS_BAD_REGISTER_NUMBER,
    PCIBIOS_DEVICE_NOT_FOUND,
    PCIBIOS_SUCCESSFUL,
    pci_bus,
    pci_channel_io_perm_failure,
    pci_dev,
    pci_ops,
)
from kernel.lib import bug
from kernel.pci import access
from kernel.pci.access import (
    pci_bus_read_config_dword,
    pci_bus_read_config_word,
    pci_bus_write_config_dword,
    pci_bus_write_config_word,
    pci_cfg_access_lock,
    pci_cfg_access_trylock,
    pci_cfg_access_unlock,
    pci_read_config_byte,
    pci_read_config_dword,
    pci_read_config_word,
    pci_user_read_config_dword,
    pci_user_read_config_word,
    pci_user_write_config_word,
    pci_write_config_byte,
    pci_write_config_dword,
    pci_write_config_word,
    pcie_capability_clear_and_set_word,
    pcie_capability_clear_word,
    pcie_capability_read_dword,
    pcie_capability_read_word,
    pcie_capability_set_word,
    pcie_capability_write_word,
)
from sim.pci.function import EXP_CAP_OFFSET, PciFunction
from uapi.linux.pci_regs import (
    PCI_COMMAND,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
    PCI_DEVICE_ID,
    PCI_EXP_DEVCAP,
    PCI_EXP_DEVCAP_FLR,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL2,
    PCI_EXP_FLAGS,
    PCI_EXP_LNKCTL,
    PCI_EXP_RTCTL,
    PCI_EXP_SLTCTL,
    PCI_EXP_SLTSTA,
    PCI_EXP_SLTSTA_PDS,
    PCI_EXP_TYPE_ROOT_PORT,
    PCI_VENDOR_ID,
)


def make_dev(fn: PciFunction | None, devfn: int = 0) -> tuple[pci_dev, list[tuple[str, int, int, int]]]:
    """A pci_dev on a bus whose ops reach ``fn`` at ``devfn``; also returns the log of
    bus accesses."""
    calls: list[tuple[str, int, int, int]] = []

    def read(bus: pci_bus, d: int, where: int, size: int) -> tuple[int, int]:
        calls.append(("read", d, where, size))
        if fn is None or d != devfn:
            return PCIBIOS_DEVICE_NOT_FOUND, 0
        return PCIBIOS_SUCCESSFUL, fn.config_read(where, size)

    def write(bus: pci_bus, d: int, where: int, size: int, val: int) -> int:
        calls.append(("write", d, where, size))
        if fn is None or d != devfn:
            return PCIBIOS_DEVICE_NOT_FOUND
        fn.config_write(where, size, val)
        return PCIBIOS_SUCCESSFUL

    bus = pci_bus(ops=pci_ops(read=read, write=write))
    dev = pci_dev(bus=bus, devfn=devfn)
    return dev, calls


def pcie_dev(fn: PciFunction) -> tuple[pci_dev, list[tuple[str, int, int, int]]]:
    dev, calls = make_dev(fn)
    dev.pcie_cap = EXP_CAP_OFFSET
    dev.pcie_flags_reg = fn.config_read(EXP_CAP_OFFSET + PCI_EXP_FLAGS, 2)
    return dev, calls


def test_read_config_reaches_the_function_through_bus_ops() -> None:
    dev, _ = make_dev(PciFunction(0x1014, 0x044B))
    assert pci_read_config_word(dev, PCI_VENDOR_ID) == (PCIBIOS_SUCCESSFUL, 0x1014)
    assert pci_read_config_word(dev, PCI_DEVICE_ID) == (PCIBIOS_SUCCESSFUL, 0x044B)
    assert pci_read_config_dword(dev, PCI_VENDOR_ID) == (PCIBIOS_SUCCESSFUL, 0x044B1014)
    assert pci_read_config_byte(dev, PCI_VENDOR_ID + 1) == (PCIBIOS_SUCCESSFUL, 0x10)


def test_write_config_reaches_the_function() -> None:
    fn = PciFunction(1, 2)
    dev, _ = make_dev(fn)
    assert pci_write_config_word(dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) == 0
    assert fn.config_read(PCI_COMMAND, 2) == PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
    assert pci_write_config_byte(dev, PCI_COMMAND, 0) == 0
    assert fn.config_read(PCI_COMMAND, 2) == 0


@pytest.mark.parametrize("where", [1, 3, 5])
def test_misaligned_word_access_is_bad_register_number_without_bus_access(where: int) -> None:
    dev, calls = make_dev(PciFunction(1, 2))
    assert pci_read_config_word(dev, where)[0] == PCIBIOS_BAD_REGISTER_NUMBER
    assert pci_write_config_word(dev, where, 0) == PCIBIOS_BAD_REGISTER_NUMBER
    assert pci_bus_read_config_word(dev.bus, 0, where)[0] == PCIBIOS_BAD_REGISTER_NUMBER
    assert pci_bus_write_config_word(dev.bus, 0, where, 0) == PCIBIOS_BAD_REGISTER_NUMBER
    assert calls == []


@pytest.mark.parametrize("where", [1, 2, 6])
def test_misaligned_dword_access_is_bad_register_number(where: int) -> None:
    dev, calls = make_dev(PciFunction(1, 2))
    assert pci_read_config_dword(dev, where)[0] == PCIBIOS_BAD_REGISTER_NUMBER
    assert pci_write_config_dword(dev, where, 0) == PCIBIOS_BAD_REGISTER_NUMBER
    assert pci_bus_read_config_dword(dev.bus, 0, where)[0] == PCIBIOS_BAD_REGISTER_NUMBER
    assert pci_bus_write_config_dword(dev.bus, 0, where, 0) == PCIBIOS_BAD_REGISTER_NUMBER
    assert calls == []


def test_failed_bus_read_returns_error_response_of_access_width() -> None:
    dev, _ = make_dev(None)
    assert pci_read_config_byte(dev, 0) == (PCIBIOS_DEVICE_NOT_FOUND, 0xFF)
    assert pci_read_config_word(dev, 0) == (PCIBIOS_DEVICE_NOT_FOUND, 0xFFFF)
    assert pci_read_config_dword(dev, 0) == (PCIBIOS_DEVICE_NOT_FOUND, 0xFFFFFFFF)


def test_disconnected_device_reads_all_ones_without_touching_the_bus() -> None:
    fn = PciFunction(1, 2)
    dev, calls = make_dev(fn)
    dev.error_state = pci_channel_io_perm_failure
    assert pci_read_config_byte(dev, 0) == (PCIBIOS_DEVICE_NOT_FOUND, 0xFF)
    assert pci_read_config_word(dev, 0) == (PCIBIOS_DEVICE_NOT_FOUND, 0xFFFF)
    assert pci_read_config_dword(dev, 0) == (PCIBIOS_DEVICE_NOT_FOUND, 0xFFFFFFFF)
    assert pci_write_config_word(dev, PCI_COMMAND, PCI_COMMAND_MEMORY) == PCIBIOS_DEVICE_NOT_FOUND
    assert calls == []
    assert fn.config_read(PCI_COMMAND, 2) == 0


def test_inaccessible_function_reads_all_ones_with_success() -> None:
    fn = PciFunction(1, 2)
    dev, _ = make_dev(fn)
    fn.set_accessible(False)
    assert pci_read_config_dword(dev, 0) == (PCIBIOS_SUCCESSFUL, 0xFFFFFFFF)


def test_user_accessors_return_errno() -> None:
    dev, _ = make_dev(PciFunction(0x1014, 0x044B))
    assert pci_user_read_config_word(dev, 1) == (-22, 0)  # -EINVAL
    assert pci_user_read_config_dword(dev, 0) == (0, 0x044B1014)
    bad, _ = make_dev(None)
    assert pci_user_read_config_dword(bad, 0) == (-19, 0xFFFFFFFF)  # -ENODEV
    assert pci_user_write_config_word(bad, 4, 0) == -19


def test_cfg_access_lock_blocks_user_access_until_unlock() -> None:
    fn = PciFunction(0x1014, 0x044B)
    dev, _ = make_dev(fn)
    pci_cfg_access_lock(dev)
    assert dev.block_cfg_access
    assert pci_cfg_access_trylock(dev) is False
    result: list[tuple[int, int]] = []
    t = threading.Thread(target=lambda: result.append(pci_user_read_config_word(dev, PCI_VENDOR_ID)))
    t.start()
    time.sleep(0.05)
    assert result == []  # still sleeping on pci_cfg_wait
    # Kernel accessors are not blocked.
    assert pci_read_config_word(dev, PCI_VENDOR_ID) == (0, 0x1014)
    pci_cfg_access_unlock(dev)
    t.join(2)
    assert result == [(0, 0x1014)]
    assert pci_cfg_access_trylock(dev) is True
    pci_cfg_access_unlock(dev)


def test_cfg_access_lock_waits_for_other_holder() -> None:
    dev, _ = make_dev(PciFunction(1, 2))
    pci_cfg_access_lock(dev)
    got = threading.Event()

    def other() -> None:
        pci_cfg_access_lock(dev)
        got.set()
        pci_cfg_access_unlock(dev)

    t = threading.Thread(target=other)
    t.start()
    assert not got.wait(0.05)
    pci_cfg_access_unlock(dev)
    assert got.wait(2)
    t.join(2)
    assert not dev.block_cfg_access


def test_cfg_access_unlock_when_not_locked_warns() -> None:
    dev, _ = make_dev(PciFunction(1, 2))
    pci_cfg_access_unlock(dev)
    assert len(bug.warnings) == 1 and "access.py" in bug.warnings[0]
    bug.warnings.clear()


def test_pcie_capability_read_through_pcie_cap_offset() -> None:
    fn = PciFunction(1, 2)
    dev, _ = pcie_dev(fn)
    rc, devcap = pcie_capability_read_dword(dev, PCI_EXP_DEVCAP)
    assert rc == 0 and devcap & PCI_EXP_DEVCAP_FLR
    assert pcie_capability_read_word(dev, PCI_EXP_DEVCTL) == (0, 0x2810)
    # Version-2 register of a version-2 capability is implemented.
    assert pcie_capability_write_word(dev, PCI_EXP_DEVCTL2, 0x10) == 0
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL2, 2) == 0x10


def test_pcie_capability_misaligned_is_bad_register_number_with_zero() -> None:
    dev, _ = pcie_dev(PciFunction(1, 2))
    assert pcie_capability_read_word(dev, PCI_EXP_DEVCTL + 1) == (PCIBIOS_BAD_REGISTER_NUMBER, 0)
    assert pcie_capability_read_dword(dev, PCI_EXP_DEVCAP + 2) == (PCIBIOS_BAD_REGISTER_NUMBER, 0)
    assert pcie_capability_write_word(dev, PCI_EXP_DEVCTL + 1, 0) == PCIBIOS_BAD_REGISTER_NUMBER


def test_pcie_capability_of_conventional_device_reads_zero_and_ignores_writes() -> None:
    dev, calls = make_dev(PciFunction(1, 2, pcie=False))
    assert pcie_capability_read_word(dev, PCI_EXP_DEVCTL) == (0, 0)
    assert pcie_capability_write_word(dev, PCI_EXP_DEVCTL, 0x8000) == 0
    assert calls == []


def test_unimplemented_register_for_endpoint_reads_zero() -> None:
    fn = PciFunction(1, 2)
    dev, calls = pcie_dev(fn)
    # An endpoint has no slot or root registers.
    assert pcie_capability_read_word(dev, PCI_EXP_SLTCTL) == (0, 0)
    assert pcie_capability_read_word(dev, PCI_EXP_SLTSTA) == (0, 0)
    assert pcie_capability_read_word(dev, PCI_EXP_RTCTL) == (0, 0)
    assert pcie_capability_write_word(dev, PCI_EXP_RTCTL, 0xFFFF) == 0
    assert calls == []


def test_downstream_port_without_slot_reports_presence_detect() -> None:
    fn = PciFunction(1, 2, pcie_type=PCI_EXP_TYPE_ROOT_PORT)
    dev, calls = pcie_dev(fn)
    assert pcie_capability_read_word(dev, PCI_EXP_SLTSTA) == (0, PCI_EXP_SLTSTA_PDS)
    assert pcie_capability_read_dword(dev, PCI_EXP_SLTSTA)[0] == PCIBIOS_BAD_REGISTER_NUMBER
    assert calls == []


def test_pcie_capability_read_failure_reports_zero() -> None:
    fn = PciFunction(1, 2)
    dev, _ = pcie_dev(fn)
    dev.error_state = pci_channel_io_perm_failure
    assert pcie_capability_read_word(dev, PCI_EXP_DEVCTL) == (PCIBIOS_DEVICE_NOT_FOUND, 0)


def test_clear_and_set_word_modifies_only_given_bits() -> None:
    fn = PciFunction(1, 2)
    dev, _ = pcie_dev(fn)
    assert pcie_capability_clear_and_set_word(dev, PCI_EXP_DEVCTL, 0x0010, 0x0001) == 0
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2) == 0x2801
    assert pcie_capability_set_word(dev, PCI_EXP_DEVCTL, 0x0002) == 0
    assert pcie_capability_clear_word(dev, PCI_EXP_DEVCTL, 0x2000) == 0
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2) == 0x0803


def test_clear_and_set_lnkctl_takes_pcie_cap_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    fn = PciFunction(1, 2)
    dev, _ = pcie_dev(fn)
    seen: list[object] = []
    real = access.spin_lock_irqsave

    def spy(lock: access.spinlock_t) -> int:
        seen.append(lock)
        return real(lock)

    monkeypatch.setattr(access, "spin_lock_irqsave", spy)
    assert pcie_capability_set_word(dev, PCI_EXP_LNKCTL, 0x0040) == 0
    assert dev.pcie_cap_lock in seen
    seen.clear()
    assert pcie_capability_set_word(dev, PCI_EXP_DEVCTL, 0x0001) == 0
    assert dev.pcie_cap_lock not in seen
    assert fn.config_read(EXP_CAP_OFFSET + PCI_EXP_LNKCTL, 2) == 0x0040
