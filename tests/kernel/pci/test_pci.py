"""Tests of kernel/pci/pci.py (drivers/pci/pci.c, 7.1-rc4 base): capability search,
save/restore, the reset methods and entry points, enable/disable.

The functions below the kernel are sim.pci.function.PciFunction models, reached
through a root bus whose pci_ops read and write their config space.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable

import pytest

from kernel.include.linux.pci import (
    PCI_D0,
    PCI_DEV_FLAGS_NO_BUS_RESET,
    PCI_DEV_FLAGS_NO_FLR_RESET,
    PCI_DEV_FLAGS_NO_PM_RESET,
    PCI_NUM_RESET_METHODS,
    PCIBIOS_DEVICE_NOT_FOUND,
    PCI_D3hot,
    pci_bus,
    pci_dev,
    pci_driver,
    pci_error_handlers,
    pci_ops,
    pci_slot,
)
from kernel.include.linux.pci_hotplug import hotplug_slot, hotplug_slot_ops
from kernel.lib import delay
from kernel.lib.device import device, device_lock, device_unlock
from kernel.lib.printk import KERN_DEBUG, KERN_ERR, KERN_INFO, KERN_WARNING, dmesg
from kernel.pci import pci, quirks
from kernel.pci.access import pci_read_config_dword, pci_read_config_word, pci_write_config_dword
from kernel.pci.pci_h import pci_dev_reset_methods
from sim.host import Host
from sim.pci.function import PciFunction
from sim.zpci.firmware import ZpciFirmware
from uapi.linux.pci_regs import (
    PCI_BASE_ADDRESS_0,
    PCI_CAP_ID_AF,
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_MSIX,
    PCI_CAP_ID_PCIX,
    PCI_CAP_ID_PM,
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
    PCI_EXP_DEVCAP,
    PCI_EXP_DEVCTL,
    PCI_EXP_FLAGS,
    PCI_EXT_CAP_ID_ERR,
    PCI_HEADER_TYPE,
    PCI_INTERRUPT_LINE,
    PCI_PM_CTRL,
)

NAME = "0000:00:00.0"
M_DEVICE_SPECIFIC, M_ACPI, M_FLR, M_AF_FLR, M_PM, M_BUS, M_CXL_BUS = range(1, 8)


class RootBus:
    """A root bus whose config accesses reach PciFunction models by devfn."""

    def __init__(self) -> None:
        self.fns: dict[int, PciFunction] = {}
        self.bus = pci_bus(ops=pci_ops(read=self.read, write=self.write))

    def read(self, bus: pci_bus, devfn: int, where: int, size: int) -> tuple[int, int]:
        fn = self.fns.get(devfn)
        if fn is None:
            return PCIBIOS_DEVICE_NOT_FOUND, 0xFFFFFFFF
        return 0, fn.config_read(where, size)

    def write(self, bus: pci_bus, devfn: int, where: int, size: int, val: int) -> int:
        fn = self.fns.get(devfn)
        if fn is None:
            return PCIBIOS_DEVICE_NOT_FOUND
        fn.config_write(where, size, val)
        return 0

    def add(self, fn: PciFunction, devfn: int = 0, *, init_reset: bool = True) -> pci_dev:
        """Set up a pci_dev the way the scan does, for what these tests need."""
        self.fns[devfn] = fn
        dev = pci_dev(
            bus=self.bus,
            devfn=devfn,
            dev=device(init_name=f"0000:00:{devfn >> 3:02x}.{devfn & 7}"),
            cfg_size=fn.cfg_size,
        )
        _, hdr = self.bus.ops.read(self.bus, devfn, PCI_HEADER_TYPE, 1)  # type: ignore[union-attr]
        dev.vendor = fn.config_read(0, 2)
        dev.device = fn.config_read(2, 2)
        dev.hdr_type = hdr & 0x7F
        dev.multifunction = bool(hdr & 0x80)
        dev.pcie_cap = pci.pci_find_capability(dev, PCI_CAP_ID_EXP)
        if dev.pcie_cap:
            _, dev.pcie_flags_reg = pci_read_config_word(dev, dev.pcie_cap + PCI_EXP_FLAGS)
            _, dev.devcap = pci_read_config_dword(dev, dev.pcie_cap + PCI_EXP_DEVCAP)
        dev.pm_cap = pci.pci_find_capability(dev, PCI_CAP_ID_PM)
        dev.current_state = PCI_D0
        self.bus.devices.append(dev)
        pci.pci_allocate_cap_save_buffers(dev)
        if init_reset:
            pci.pci_init_reset_methods(dev)
        return dev


def bind(dev: pci_dev, drv: pci_driver) -> None:
    """What driver binding leaves behind: pdev->driver and dev->driver."""
    dev.driver = drv
    dev.dev.driver = drv.driver


def texts(level: int) -> list[str]:
    """The log lines printed at exactly ``level``: a line printed at another level is
    not among them, so an assertion that a line is here also checks its level."""
    return [line.text for line in dmesg() if line.level == level]


def logged(level: int = KERN_DEBUG) -> list[str]:
    """Every log line at ``level`` or more important: for checks that something was
    not logged, or that nothing was."""
    return [line.text for line in dmesg(level)]


def dbg(msg: str, name: str = NAME) -> str:
    return f" {name}: {msg}"  # no driver bound: dev_driver_string() is ""


# --- capability search -------------------------------------------------------------


def test_pci_find_capability_walks_the_standard_list() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED, af=True, msix=True))
    assert pci.pci_find_capability(dev, PCI_CAP_ID_PM) == 0x40
    assert pci.pci_find_capability(dev, PCI_CAP_ID_AF) == 0x48
    assert pci.pci_find_capability(dev, PCI_CAP_ID_MSIX) == 0x50
    assert pci.pci_find_capability(dev, PCI_CAP_ID_EXP) == 0x60
    assert pci.pci_find_capability(dev, PCI_CAP_ID_PCIX) == 0


def test_pci_find_next_capability_starts_after_the_given_one() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED, af=True))
    assert pci.pci_find_next_capability(dev, 0x40, PCI_CAP_ID_EXP) == 0x60
    assert pci.pci_find_next_capability(dev, 0x40, PCI_CAP_ID_PM) == 0


def test_pci_find_capability_is_zero_without_capability_list() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED, pm=False, pcie=False), init_reset=False)
    assert pci.pci_find_capability(dev, PCI_CAP_ID_PM) == 0


def test_pci_find_capability_gives_up_on_a_looping_list() -> None:
    """PCI_FIND_CAP_TTL stops a capability list that points back at itself."""
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED, pcie=False), init_reset=False)
    reads = 0
    real_read = rb.read

    def looping_read(bus: pci_bus, devfn: int, where: int, size: int) -> tuple[int, int]:
        nonlocal reads
        if where == 0x40 and size == 2:
            reads += 1
            return 0, 0x4005  # id 5 (MSI), next 0x40: itself
        return real_read(bus, devfn, where, size)

    rb.bus.ops = pci_ops(read=looping_read, write=rb.write)
    assert pci.pci_find_capability(dev, PCI_CAP_ID_EXP) == 0
    assert reads == 48


def test_pci_find_ext_capability_zero_for_conventional_and_empty_list() -> None:
    rb = RootBus()
    conv = rb.add(PciFunction(0x1014, 0x04ED, pcie=False), 0, init_reset=False)
    pcie = rb.add(PciFunction(0x1014, 0x04ED), 8, init_reset=False)
    assert pci.pci_find_ext_capability(conv, PCI_EXT_CAP_ID_ERR) == 0
    assert pci.pci_find_ext_capability(pcie, PCI_EXT_CAP_ID_ERR) == 0


def test_pci_find_ext_capability_follows_the_extended_list() -> None:
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED), init_reset=False)
    ext = {0x100: (0x140 << 20) | (1 << 16) | 0x0003, 0x140: (1 << 16) | PCI_EXT_CAP_ID_ERR}
    real_read = rb.read

    def read(bus: pci_bus, devfn: int, where: int, size: int) -> tuple[int, int]:
        if where in ext and size == 4:
            return 0, ext[where]
        return real_read(bus, devfn, where, size)

    rb.bus.ops = pci_ops(read=read, write=rb.write)
    assert pci.pci_find_ext_capability(dev, PCI_EXT_CAP_ID_ERR) == 0x140
    assert pci.pci_find_ext_capability(dev, 0x0003) == 0x100
    assert pci.pci_find_next_ext_capability(dev, 0x100, 0x0003) == 0


# --- reset method probing -------------------------------------------------------------


def test_pci_init_reset_methods_keeps_probed_methods_in_table_order() -> None:
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED, af=True))
    assert dev.reset_methods[:4] == [M_FLR, M_AF_FLR, M_PM, 0]
    assert pci.pci_reset_supported(dev)


def test_pci_init_reset_methods_none_for_a_function_without_reset() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED, flr=False, pm=False))
    assert dev.reset_methods == [0] * PCI_NUM_RESET_METHODS
    assert not pci.pci_reset_supported(dev)


def test_reset_fn_methods_table_has_the_kernel_names() -> None:
    assert [m.name for m in pci.pci_reset_fn_methods] == [
        None,
        "device_specific",
        "acpi",
        "flr",
        "af_flr",
        "pm",
        "bus",
        "cxl_bus",
    ]


def test_acpi_cxl_and_parent_bus_methods_are_enotty_on_s390() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    for m in (M_ACPI, M_CXL_BUS, M_BUS):
        fn = pci.pci_reset_fn_methods[m].reset_fn
        assert fn is not None
        assert fn(dev, True) == -errno.ENOTTY
    assert pci.pci_parent_bus_reset(dev, True) == -errno.ENOTTY


# --- pcie_reset_flr / pcie_flr / pci_af_flr / pci_pm_reset ----------------------------


def test_pcie_reset_flr_enotty_without_devcap_flr() -> None:
    fn = PciFunction(0x1014, 0x04ED, flr=False)
    dev = RootBus().add(fn)
    assert pci.pcie_reset_flr(dev, True) == -errno.ENOTTY
    assert pci.pcie_reset_flr(dev, False) == -errno.ENOTTY
    assert fn.resets == []


def test_pcie_reset_flr_enotty_with_no_flr_reset_flag() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    dev.dev_flags |= PCI_DEV_FLAGS_NO_FLR_RESET
    assert pci.pcie_reset_flr(dev, True) == -errno.ENOTTY
    assert fn.resets == []


def test_pcie_reset_flr_refuses_an_inaccessible_function_probe_included() -> None:
    """v17 3/7: -ENOTTY, probing or not, and no FLR reaches the function."""
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    fn.set_accessible(False)

    assert pci.pcie_reset_flr(dev, True) == -errno.ENOTTY
    assert pci.pcie_reset_flr(dev, False) == -errno.ENOTTY

    assert fn.resets == []
    assert texts(KERN_WARNING) == [" 0000:00:00.0: Device config space inaccessible; unable to FLR"] * 2

def test_pcie_reset_flr_checks_quirk_and_capability_before_config_space() -> None:
    """v17 3/7 adds the accessibility check after the quirk and the capability
    checks: a function that cannot FLR anyway is refused without the warning, and
    the refusal is the same -ENOTTY."""
    no_flr = PciFunction(0x1014, 0x04ED, flr=False)
    quirked = PciFunction(0x1014, 0x04ED)
    rb = RootBus()
    dev_no_flr, dev_quirked = rb.add(no_flr), rb.add(quirked, devfn=1)
    dev_quirked.dev_flags |= PCI_DEV_FLAGS_NO_FLR_RESET
    no_flr.set_accessible(False)
    quirked.set_accessible(False)
    n = len(dmesg())

    assert [pci.pcie_reset_flr(d, p) for d in (dev_no_flr, dev_quirked) for p in (True, False)] == [
        -errno.ENOTTY
    ] * 4

    assert dmesg()[n:] == []
    assert no_flr.resets == quirked.resets == []


def test_reset_of_an_inaccessible_function_falls_through_flr_to_the_slot_reset() -> None:
    """v17 2/7 and 3/7 together: a function whose config space reads all ones (an
    error state) is reset with its state neither saved nor FLRed: FLR gives
    -ENOTTY, the reset core goes on to the bus method, whose hotplug slot (as the
    s390 one does) hot-resets the function; the restore brings back the state saved
    before the error."""
    rb = RootBus()
    fn = PciFunction(0x1014, 0x04ED, pm=False)
    dev = rb.add(fn, init_reset=False)

    def reset_slot(slot: hotplug_slot, probe: bool) -> int:
        if not probe:
            fn.hot_reset()
            fn.set_accessible(True)
        return 0

    dev.slot = pci_slot(
        bus=rb.bus, hotplug=hotplug_slot(ops=hotplug_slot_ops(reset_slot=reset_slot)), number=0
    )
    pci.pci_init_reset_methods(dev)
    assert [pci.pci_reset_fn_methods[m].name for m in dev.reset_methods if m] == ["flr", "bus"]
    pci_write_config_dword(dev, PCI_BASE_ADDRESS_0, 0xC0000000)
    pci.pci_save_state(dev)
    fn.set_accessible(False)

    assert pci.pci_reset_function(dev) == 0

    assert fn.resets == ["hot"]
    assert pci_read_config_dword(dev, PCI_BASE_ADDRESS_0)[1] == 0xC0000000
    assert [t for t in texts(KERN_WARNING) if "inaccessible" in t] == [
        " 0000:00:00.0: Device config space inaccessible; unable to save state",
        " 0000:00:00.0: Device config space inaccessible; unable to FLR",
    ]


def test_pcie_reset_flr_probe_returns_0_without_resetting() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    assert pci.pcie_reset_flr(dev, True) == 0
    assert fn.resets == []


def test_pcie_reset_flr_resets_and_waits_100ms() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    t0 = delay.ktime_get_ms()
    assert pci.pcie_reset_flr(dev, False) == 0
    assert fn.resets == ["flr"]
    assert delay.ktime_get_ms() - t0 == 100
    assert dbg("ready 0ms after FLR") in texts(KERN_DEBUG)


def test_pcie_flr_logs_pending_transactions_and_resets_anyway() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    fn.transactions_pending = True
    dev = RootBus().add(fn)
    t0 = delay.ktime_get_ms()
    assert pci.pcie_flr(dev) == 0
    assert fn.resets == ["flr"]
    assert (
        dbg("timed out waiting for pending transaction; performing function level reset anyway")
        in texts(KERN_ERR)
    )
    assert delay.ktime_get_ms() - t0 == 100 + 200 + 400 + 100  # three waits, then the FLR wait


def test_pcie_flr_of_inaccessible_function_gives_up_after_60s() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    fn.set_accessible(False)
    assert pci.pcie_flr(dev) == -errno.ENOTTY
    assert fn.resets == []  # the write was dropped
    warnings = texts(KERN_WARNING)
    assert dbg("not ready 1023ms after FLR; waiting") in texts(KERN_INFO)
    assert dbg("not ready 32767ms after FLR; waiting") in texts(KERN_INFO)
    assert warnings[-1] == dbg("not ready 65535ms after FLR; giving up")


def test_pci_af_flr_resets_through_advanced_features() -> None:
    fn = PciFunction(0x1014, 0x04ED, pcie=False, af=True)
    dev = RootBus().add(fn)
    assert pci.pci_af_flr(dev, True) == 0
    assert pci.pci_af_flr(dev, False) == 0
    assert fn.resets == ["af_flr"]
    assert dbg("ready 0ms after AF_FLR") in texts(KERN_DEBUG)


def test_pci_af_flr_enotty_without_af_flr_capability() -> None:
    assert pci.pci_af_flr(RootBus().add(PciFunction(0x1014, 0x04ED, af=True, af_flr=False)), True) == (
        -errno.ENOTTY
    )
    assert pci.pci_af_flr(RootBus().add(PciFunction(0x1014, 0x04ED)), True) == -errno.ENOTTY


def test_pci_pm_reset_goes_through_d3hot() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    t0 = delay.ktime_get_ms()
    assert pci.pci_pm_reset(dev, False) == 0
    assert fn.resets == ["pm"]
    assert fn.power_state == PCI_D0
    assert delay.ktime_get_ms() - t0 == 2 * dev.d3hot_delay
    assert dbg("ready 0ms after PM D3hot->D0") in texts(KERN_DEBUG)


def test_pci_pm_reset_refusals() -> None:
    nsr = RootBus().add(PciFunction(0x1014, 0x04ED, no_soft_reset=True))
    assert pci.pci_pm_reset(nsr, True) == -errno.ENOTTY
    flagged = RootBus().add(PciFunction(0x1014, 0x04ED))
    flagged.dev_flags |= PCI_DEV_FLAGS_NO_PM_RESET
    assert pci.pci_pm_reset(flagged, True) == -errno.ENOTTY
    asleep = RootBus().add(PciFunction(0x1014, 0x04ED))
    asleep.current_state = PCI_D3hot
    assert pci.pci_pm_reset(asleep, True) == 0
    assert pci.pci_pm_reset(asleep, False) == -errno.EINVAL


# --- __pci_reset_function_locked --------------------------------------------------------


def _device_specific(result: int, calls: list[bool]) -> Callable[[pci_dev, bool], int]:
    def reset(dev: pci_dev, probe: bool) -> int:
        calls.append(probe)
        return result

    return reset


def test_reset_function_locked_tries_next_method_after_enotty() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    calls: list[bool] = []
    quirks.pci_dev_reset_methods.append(
        pci_dev_reset_methods(0x1014, 0x04ED, _device_specific(-errno.ENOTTY, calls))
    )
    dev.reset_methods[:3] = [M_DEVICE_SPECIFIC, M_FLR, 0]
    device_lock(dev.dev)
    try:
        assert pci.__pci_reset_function_locked(dev) == 0
    finally:
        device_unlock(dev.dev)
    assert calls == [False]
    assert fn.resets == ["flr"]
    lines = texts(KERN_DEBUG)
    i = lines.index(dbg("reset via device_specific"))
    assert lines[i + 1 : i + 3] == [dbg("device_specific failed with -25"), dbg("reset via flr")]


def test_reset_function_locked_stops_at_first_other_error() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    calls: list[bool] = []
    quirks.pci_dev_reset_methods.append(
        pci_dev_reset_methods(0xFFFF, 0xFFFF, _device_specific(-errno.EIO, calls))
    )
    dev.reset_methods[:4] = [M_DEVICE_SPECIFIC, M_FLR, M_PM, 0]
    device_lock(dev.dev)
    try:
        assert pci.__pci_reset_function_locked(dev) == -errno.EIO
    finally:
        device_unlock(dev.dev)
    assert fn.resets == []
    assert dbg("device_specific failed with -5") in texts(KERN_DEBUG)
    assert dbg("reset via flr") not in logged()


def test_reset_function_locked_enotty_when_every_method_declines() -> None:
    fn = PciFunction(0x1014, 0x04ED, flr=False)
    dev = RootBus().add(fn)
    dev.reset_methods[:3] = [M_FLR, M_ACPI, 0]  # flr is not advertised
    device_lock(dev.dev)
    try:
        assert pci.__pci_reset_function_locked(dev) == -errno.ENOTTY
    finally:
        device_unlock(dev.dev)
    assert dbg("flr failed with -25") in texts(KERN_DEBUG)
    assert dbg("acpi failed with -25") in texts(KERN_DEBUG)


def test_reset_function_locked_stops_at_first_success() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    assert dev.reset_methods[:3] == [M_FLR, M_PM, 0]
    device_lock(dev.dev)
    try:
        assert pci.__pci_reset_function_locked(dev) == 0
    finally:
        device_unlock(dev.dev)
    assert fn.resets == ["flr"]


def test_device_specific_method_is_enotty_for_unlisted_devices() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    assert quirks.pci_dev_specific_reset(dev, True) == -errno.ENOTTY


# --- save / restore -------------------------------------------------------------------


def _program(dev: pci_dev) -> None:
    pci_write_config_dword(dev, PCI_BASE_ADDRESS_0, 0xC0000000)
    pci_write_config_dword(dev, PCI_INTERRUPT_LINE, 0x0000010A)
    pci.pci_set_master(dev)
    _, cmd = pci_read_config_word(dev, PCI_COMMAND)
    pci_write_config_dword(dev, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY)
    _, devctl = pci_read_config_word(dev, dev.pcie_cap + PCI_EXP_DEVCTL)
    from kernel.pci.access import pci_write_config_word

    pci_write_config_word(dev, dev.pcie_cap + PCI_EXP_DEVCTL, devctl ^ 0x0010)  # toggle RELAX_EN
    pci_write_config_dword(dev, 0xC0, 0xDEADBEEF)  # device state outside the header


def _snapshot(dev: pci_dev) -> tuple[list[int], int]:
    header = [pci_read_config_dword(dev, i * 4)[1] for i in range(16)]
    return header, pci_read_config_word(dev, dev.pcie_cap + PCI_EXP_DEVCTL)[1]


def test_pci_save_state_logs_each_dword_and_marks_saved() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    assert pci.pci_save_state(dev) == 0
    assert dev.state_saved
    saved = [line for line in texts(KERN_DEBUG) if "save config" in line]
    assert len(saved) == 16
    assert dev.saved_config_space[0] == 0x04ED1014
    assert saved[0] == dbg("save config 0x00: 0x04ed1014")
    assert saved[15].startswith(dbg("save config 0x3c: "))


def test_save_restore_round_trips_the_header_through_an_flr() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    _program(dev)
    before = _snapshot(dev)
    assert pci.pci_save_state(dev) == 0
    assert pcie_flr_locked(dev) == 0
    assert fn.resets == ["flr"]
    assert _snapshot(dev) != before  # the FLR did clear the registers
    pci.pci_restore_state(dev)
    assert _snapshot(dev) == before
    assert not dev.state_saved
    assert pci_read_config_dword(dev, 0xC0)[1] == 0  # not config state: lost
    assert dbg("restore config 0x10: 0x00000000 -> 0xc0000000") in texts(KERN_DEBUG)


def pcie_flr_locked(dev: pci_dev) -> int:
    return pci.pcie_flr(dev)


def test_pci_reset_function_restores_state_around_the_reset() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    _program(dev)
    before = _snapshot(dev)
    assert pci.pci_reset_function(dev) == 0
    assert fn.resets == ["flr"]
    assert _snapshot(dev) == before
    assert not dev.block_cfg_access


def test_pci_restore_state_without_pcie_buffer_skips_pcie_registers() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    dev.saved_cap_space.clear()
    assert pci.pci_save_state(dev) == -errno.ENOMEM
    assert dbg("buffer not found in pci_save_pcie_state") in texts(KERN_ERR)


def test_store_and_load_saved_state_round_trip() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    _program(dev)
    before = _snapshot(dev)
    assert pci.pci_save_state(dev) == 0
    state = pci.pci_store_saved_state(dev)
    assert state is not None
    assert state.config_space == dev.saved_config_space
    assert [c.size for c in state.cap] == [14, 0]  # PCIe buffer, then the terminator

    # The stored copy is independent of the device's buffers.
    pci.pci_save_state(dev)
    dev.saved_config_space[4] = 0
    dev.saved_cap_space[0].cap.data[:] = bytes(14)

    assert pci.pcie_flr(dev) == 0
    assert pci.pci_load_saved_state(dev, state) == 0
    assert dev.state_saved
    pci.pci_restore_state(dev)
    assert _snapshot(dev) == before


def test_store_saved_state_none_when_nothing_saved() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    assert pci.pci_store_saved_state(dev) is None


def test_load_saved_state_none_clears_state_saved() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci.pci_save_state(dev)
    assert pci.pci_load_saved_state(dev, None) == 0
    assert not dev.state_saved


def test_load_saved_state_einval_on_missing_buffer() -> None:
    pcie = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci.pci_save_state(pcie)
    state = pci.pci_store_saved_state(pcie)
    conv = RootBus().add(PciFunction(0x1014, 0x04ED, pcie=False))
    assert pci.pci_load_saved_state(conv, state) == -errno.EINVAL
    assert not conv.state_saved


def test_load_and_free_saved_state_returns_none_for_the_pointer() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci.pci_save_state(dev)
    state = pci.pci_store_saved_state(dev)
    assert pci.pci_load_and_free_saved_state(dev, state) == (0, None)
    assert dev.state_saved


# --- pci_dev_save_and_disable / pci_dev_restore ----------------------------------------


def test_save_and_disable_warns_resetting_without_reset_prepare() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    bind(dev, pci_driver(name="vfio-pci", err_handler=pci_error_handlers()))
    _program(dev)
    device_lock(dev.dev)
    try:
        pci.pci_dev_save_and_disable(dev)
    finally:
        device_unlock(dev.dev)
    assert "vfio-pci 0000:00:00.0: resetting" in texts(KERN_WARNING)
    assert dev.state_saved
    assert pci_read_config_word(dev, PCI_COMMAND)[1] == PCI_COMMAND_INTX_DISABLE


def test_save_and_disable_calls_reset_prepare_and_restore_calls_reset_done() -> None:
    calls: list[str] = []
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    bind(
        dev,
        pci_driver(
            name="vfio-pci",
            err_handler=pci_error_handlers(
                reset_prepare=lambda d: calls.append("prepare"), reset_done=lambda d: calls.append("done")
            ),
        ),
    )
    device_lock(dev.dev)
    try:
        pci.pci_dev_save_and_disable(dev)
        pci.pci_dev_restore(dev)
    finally:
        device_unlock(dev.dev)
    assert calls == ["prepare", "done"]
    assert not any("resetting" in t or "reset done" in t for t in logged())


def test_restore_warns_reset_done_without_callback() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    bind(dev, pci_driver(name="vfio-pci"))
    device_lock(dev.dev)
    try:
        pci.pci_dev_save_and_disable(dev)
        pci.pci_dev_restore(dev)
    finally:
        device_unlock(dev.dev)
    assert texts(KERN_WARNING)[-2:] == [
        "vfio-pci 0000:00:00.0: resetting",
        "vfio-pci 0000:00:00.0: reset done",
    ]


def test_save_and_disable_without_driver_logs_nothing() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    device_lock(dev.dev)
    try:
        pci.pci_dev_save_and_disable(dev)
    finally:
        device_unlock(dev.dev)
    assert logged(KERN_WARNING) == []


def test_save_and_disable_of_an_inaccessible_function_neither_saves_nor_disables() -> None:
    """v17 2/7: with config space reading all ones (an error state), the state saved
    earlier is kept instead of being overwritten with ~0, and the Command register
    is not written; the later restore puts the earlier state back."""
    rb = RootBus()
    fn = PciFunction(0x1014, 0x04ED)
    dev = rb.add(fn)
    bind(dev, pci_driver(name="vfio-pci"))
    _program(dev)
    pci.pci_save_state(dev)
    saved = list(dev.saved_config_space)
    writes: list[tuple[int, int]] = []
    write = rb.write

    def spy(bus: pci_bus, devfn: int, where: int, size: int, val: int) -> int:
        writes.append((where, val))
        return write(bus, devfn, where, size, val)

    rb.bus.ops.write = spy  # type: ignore[union-attr]
    fn.set_accessible(False)
    device_lock(dev.dev)
    try:
        pci.pci_dev_save_and_disable(dev)
    finally:
        device_unlock(dev.dev)

    assert texts(KERN_WARNING)[-1] == (
        "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to save state"
    )
    assert dev.saved_config_space == saved
    assert (PCI_COMMAND, PCI_COMMAND_INTX_DISABLE) not in writes

    fn.set_accessible(True)
    fn.hot_reset()  # what the platform's reset does to the registers
    assert pci_read_config_dword(dev, PCI_BASE_ADDRESS_0)[1] == 0
    pci.pci_restore_state(dev)
    assert pci_read_config_dword(dev, PCI_BASE_ADDRESS_0)[1] == 0xC0000000


def test_config_accessible_reads_command_and_status() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    assert pci.pci_dev_config_accessible(dev, "save state")
    assert logged(KERN_WARNING) == []
    fn.set_accessible(False)
    assert not pci.pci_dev_config_accessible(dev, "save state")
    assert texts(KERN_WARNING) == [" 0000:00:00.0: Device config space inaccessible; unable to save state"]

def klog(since: int = 0) -> list[tuple[int, str]]:
    """The log with each line's level, so a line printed at the wrong level fails."""
    return [(line.level, line.text) for line in dmesg()[since:]]


def test_save_and_disable_powers_up_first_then_finds_the_function_inaccessible() -> None:
    """v17 2/7 checks config space after the power-up to D0, where the save was
    before the patch: a function in D3hot that became inaccessible is still asked
    to go to D0 (which fails and marks it D3cold), then saving and disabling are
    skipped, in this order."""
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    assert pci.pci_set_power_state(dev, PCI_D3hot) == 0
    n = len(dmesg())
    fn.set_accessible(False)
    device_lock(dev.dev)
    try:
        pci.pci_dev_save_and_disable(dev)
    finally:
        device_unlock(dev.dev)
    assert klog(n) == [
        (KERN_ERR, " 0000:00:00.0: Unable to change power state from D3hot to D0, device inaccessible"),
        (KERN_WARNING, " 0000:00:00.0: Device config space inaccessible; unable to save state"),
    ]
    assert dev.current_state == 4  # PCI_D3cold
    assert not dev.state_saved


# --- pci_try_reset_function / pci_reset_function ------------------------------------


def test_try_reset_function_eagain_when_device_locked_elsewhere() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    locked, release = threading.Event(), threading.Event()

    def holder() -> None:
        device_lock(dev.dev)
        locked.set()
        release.wait(5)
        device_unlock(dev.dev)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert locked.wait(5)
        assert pci.pci_try_reset_function(dev) == -errno.EAGAIN
    finally:
        release.set()
        t.join()
    assert fn.resets == []
    assert pci.pci_try_reset_function(dev) == 0
    assert fn.resets == ["flr"]


def test_try_reset_function_eagain_when_cfg_access_blocked() -> None:
    from kernel.pci.access import pci_cfg_access_lock, pci_cfg_access_unlock

    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci_cfg_access_lock(dev)
    try:
        assert pci.pci_try_reset_function(dev) == -errno.EAGAIN
    finally:
        pci_cfg_access_unlock(dev)
    assert pci.pci_dev_trylock(dev) == 1
    pci.pci_dev_unlock(dev)


def test_try_reset_function_enotty_without_methods() -> None:
    fn = PciFunction(0x1014, 0x04ED, flr=False, pm=False)
    dev = RootBus().add(fn)
    assert pci.pci_try_reset_function(dev) == -errno.ENOTTY
    assert pci.pci_reset_function(dev) == -errno.ENOTTY
    assert fn.resets == []


def test_reset_function_locked_requires_the_device_lock() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    pci.pci_dev_lock(dev)
    try:
        assert pci.pci_reset_function_locked(dev) == 0
    finally:
        pci.pci_dev_unlock(dev)
    assert fn.resets == ["flr"]


# --- slot reset ----------------------------------------------------------------------


def _hotplug(calls: list[bool], rc: int = 0) -> hotplug_slot:
    def reset_slot(slot: hotplug_slot, probe: bool) -> int:
        calls.append(probe)
        return rc

    return hotplug_slot(ops=hotplug_slot_ops(reset_slot=reset_slot), owner="s390_pci_hpc")


def test_dev_reset_slot_function_calls_the_hotplug_reset_slot() -> None:
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED), init_reset=False)
    calls: list[bool] = []
    dev.slot = pci_slot(bus=rb.bus, hotplug=_hotplug(calls, 0), number=0)
    assert pci.pci_dev_reset_slot_function(dev, True) == 0
    assert pci.pci_dev_reset_slot_function(dev, False) == 0
    assert calls == [True, False]


def test_dev_reset_slot_function_refuses_multifunction_with_a_shared_slot() -> None:
    """v17 1/7: a shared (not per-function) slot would reset every function."""
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED, multifunction=True), init_reset=False)
    calls: list[bool] = []
    dev.slot = pci_slot(bus=rb.bus, hotplug=_hotplug(calls), number=0)
    assert dev.multifunction
    assert pci.pci_dev_reset_slot_function(dev, True) == -errno.ENOTTY
    assert calls == []


def test_dev_reset_slot_function_accepts_multifunction_with_a_per_function_slot() -> None:
    """v17 1/7: a function of a multifunction device with a slot of its own."""
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED, multifunction=True), init_reset=False)
    calls: list[bool] = []
    dev.slot = pci_slot(bus=rb.bus, hotplug=_hotplug(calls, 0), number=0, per_func_slot=True)
    assert pci.pci_dev_reset_slot_function(dev, True) == 0
    assert pci.pci_dev_reset_slot_function(dev, False) == 0
    assert calls == [True, False]

def test_dev_reset_slot_function_still_refuses_a_bridge_and_a_no_bus_reset_function() -> None:
    """The other refusals of the condition v17 1/7 rewrites stay: a function with a
    subordinate bus, or one quirked against bus resets, is -ENOTTY even with a
    per-function slot, and the slot is not reset."""
    rb = RootBus()
    calls: list[bool] = []
    bridge = rb.add(PciFunction(0x1014, 0x04ED), init_reset=False)
    bridge.subordinate = pci_bus(parent=rb.bus, number=1)
    quirked = rb.add(PciFunction(0x1014, 0x04ED), devfn=1, init_reset=False)
    quirked.dev_flags |= PCI_DEV_FLAGS_NO_BUS_RESET
    for dev in (bridge, quirked):
        dev.slot = pci_slot(bus=rb.bus, hotplug=_hotplug(calls), number=dev.devfn, per_func_slot=True)
        assert pci.pci_dev_reset_slot_function(dev, True) == -errno.ENOTTY
        assert pci.pci_dev_reset_slot_function(dev, False) == -errno.ENOTTY
    assert calls == []


def test_reset_of_one_function_of_an_s390_multifunction_device_resets_that_function_only() -> None:
    """v17 1/7 end to end: two functions of one device (same PCHID, devfn 0 and 1),
    neither with FLR or PM reset, so the per-function hotplug slot's reset is the
    only method; resetting function 1 hot-resets function 1 in the firmware and
    leaves function 0 alone (before the series: -ENOTTY, no method)."""
    fns = {devfn: PciFunction(0x1014, 0x04ED, multifunction=True, flr=False, pm=False) for devfn in range(2)}
    fw = ZpciFirmware()
    for devfn, fn in fns.items():
        fw.add_function(0x20 + devfn, fn, pchid=0x100, devfn=devfn)
    fw.boot()
    try:
        host = Host(fw)
        pdev1 = host.pdev(0x21)
        assert pdev1.multifunction and pdev1.slot is not None and pdev1.slot.per_func_slot
        assert pdev1.slot is not host.pdev(0x20).slot

        assert pci.pci_reset_function(pdev1) == 0

        assert fns[1].resets == ["hot"]
        assert fns[0].resets == []
    finally:
        fw.shutdown()


def test_dev_reset_slot_function_enotty_without_slot_or_hotplug_or_owner() -> None:
    rb = RootBus()
    dev = rb.add(PciFunction(0x1014, 0x04ED), init_reset=False)
    assert pci.pci_dev_reset_slot_function(dev, True) == -errno.ENOTTY
    dev.slot = pci_slot(bus=rb.bus, number=0)
    assert pci.pci_dev_reset_slot_function(dev, True) == -errno.ENOTTY
    calls: list[bool] = []
    dev.slot.hotplug = _hotplug(calls)
    dev.slot.hotplug.owner_gone = True
    assert pci.pci_dev_reset_slot_function(dev, True) == -errno.ENOTTY
    dev.slot.hotplug = hotplug_slot(ops=hotplug_slot_ops())
    assert pci.pci_dev_reset_slot_function(dev, True) == -errno.ENOTTY
    assert calls == []


def test_bus_method_probed_and_used_through_the_slot() -> None:
    rb = RootBus()
    fn = PciFunction(0x1014, 0x04ED, flr=False, pm=False)
    calls: list[bool] = []
    slot = pci_slot(bus=rb.bus, hotplug=_hotplug(calls), number=0)
    dev = rb.add(fn, init_reset=False)
    dev.slot = slot
    pci.pci_init_reset_methods(dev)
    assert dev.reset_methods[:2] == [M_BUS, 0]
    assert pci.pci_try_reset_function(dev) == 0
    assert calls == [True, False]
    assert dbg("reset via bus") in texts(KERN_DEBUG)


def test_slot_reset_locks_the_slot_devices_around_reset_slot() -> None:
    rb = RootBus()
    seen: list[bool] = []
    dev = rb.add(PciFunction(0x1014, 0x04ED), init_reset=False)

    def reset_slot(slot: hotplug_slot, probe: bool) -> int:
        seen.append(dev.block_cfg_access)
        return 0

    dev.slot = pci_slot(bus=rb.bus, hotplug=hotplug_slot(ops=hotplug_slot_ops(reset_slot=reset_slot)))
    assert pci.pci_slot_reset(dev.slot, True) == 0
    assert pci.pci_slot_reset(dev.slot, False) == 0
    assert seen == [False, True]
    assert not dev.block_cfg_access
    assert pci.pci_slot_reset(None, True) == -errno.ENOTTY


def test_pci_reset_bus_resets_the_slot_with_state_saved() -> None:
    rb = RootBus()
    fn = PciFunction(0x1014, 0x04ED)
    dev = rb.add(fn, init_reset=False)

    def reset_slot(slot: hotplug_slot, probe: bool) -> int:
        if not probe:
            fn.hot_reset()
        return 0

    dev.slot = pci_slot(bus=rb.bus, hotplug=hotplug_slot(ops=hotplug_slot_ops(reset_slot=reset_slot)))
    _program(dev)
    before = _snapshot(dev)
    assert pci.pci_reset_bus(dev) == 0
    assert fn.resets == ["hot"]
    assert _snapshot(dev) == before


def test_pci_reset_bus_enotty_on_root_bus_without_slot() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    assert pci.pci_reset_bus(dev) == -errno.ENOTTY
    assert pci.pci_probe_reset_bus(dev.bus) == -errno.ENOTTY


# --- enable / disable, bus mastering, INTx ------------------------------------------


def test_enable_disable_device_counts_users_and_clears_bus_master() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    assert pci.pci_enable_device(dev) == 0
    assert pci.pci_enable_device(dev) == 0
    assert dev.enable_cnt == 2 and pci.pci_is_enabled(dev)
    pci.pci_set_master(dev)
    assert dev.is_busmaster
    assert dbg("enabling bus mastering") in texts(KERN_DEBUG)
    pci.pci_disable_device(dev)
    assert pci_read_config_word(dev, PCI_COMMAND)[1] & PCI_COMMAND_MASTER
    pci.pci_disable_device(dev)
    assert not pci_read_config_word(dev, PCI_COMMAND)[1] & PCI_COMMAND_MASTER
    assert not dev.is_busmaster and not pci.pci_is_enabled(dev)


def test_enable_device_clears_intx_disable_for_a_function_with_a_pin() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci.pci_intx(dev, 0)
    assert pci_read_config_word(dev, PCI_COMMAND)[1] & PCI_COMMAND_INTX_DISABLE
    assert pci.pci_enable_device(dev) == 0
    assert not pci_read_config_word(dev, PCI_COMMAND)[1] & PCI_COMMAND_INTX_DISABLE


def test_disable_of_disabled_device_warns() -> None:
    from kernel.lib import bug

    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci.pci_disable_device(dev)
    assert len(bug.warnings) == 1
    assert dbg("disabling already-disabled device") in texts(KERN_WARNING)
    bug.warnings.clear()


def test_clear_master_and_intx_write_only_on_change() -> None:
    dev = RootBus().add(PciFunction(0x1014, 0x04ED))
    pci.pci_clear_master(dev)
    assert dbg("disabling bus mastering") not in logged()
    pci.pci_set_master(dev)
    pci.pci_clear_master(dev)
    assert dbg("disabling bus mastering") in texts(KERN_DEBUG)
    pci.pci_intx(dev, 1)
    assert not pci_read_config_word(dev, PCI_COMMAND)[1] & PCI_COMMAND_INTX_DISABLE


# --- power state ----------------------------------------------------------------------


def test_set_power_state_d3hot_and_back_to_d0_resets_the_function() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    assert pci.pci_set_power_state(dev, PCI_D3hot) == 0
    assert dev.current_state == PCI_D3hot and fn.power_state == PCI_D3hot
    assert pci.pci_set_power_state(dev, PCI_D0) == 0
    assert dev.current_state == PCI_D0 and fn.power_state == PCI_D0
    assert fn.resets == ["pm"]


def test_power_up_of_inaccessible_function_is_eio_and_d3cold() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    fn.set_accessible(False)
    assert pci.pci_power_up(dev) == -errno.EIO
    assert dev.current_state == 4  # PCI_D3cold
    assert dbg("Unable to change power state from D0 to D0, device inaccessible") in texts(KERN_ERR)


def test_update_current_state_reads_pmcsr() -> None:
    fn = PciFunction(0x1014, 0x04ED)
    dev = RootBus().add(fn)
    from kernel.pci.access import pci_write_config_word

    pci_write_config_word(dev, dev.pm_cap + PCI_PM_CTRL, PCI_D3hot)
    pci.pci_update_current_state(dev, PCI_D0)
    assert dev.current_state == PCI_D3hot
    nopm = RootBus().add(PciFunction(0x1014, 0x04ED, pm=False))
    pci.pci_update_current_state(nopm, 2)
    assert nopm.current_state == 2


@pytest.mark.parametrize("pending,expected", [(False, 1), (True, 0)])
def test_wait_for_pending_transaction(pending: bool, expected: int) -> None:
    fn = PciFunction(0x1014, 0x04ED)
    fn.transactions_pending = pending
    dev = RootBus().add(fn)
    assert pci.pci_wait_for_pending_transaction(dev) == expected
    conv = RootBus().add(PciFunction(0x1014, 0x04ED, pcie=False))
    assert pci.pci_wait_for_pending_transaction(conv) == 1
