"""kernel/vfio/pci/vfio_pci_config.py (and the read/write entry of vfio_pci_core.py /
vfio_pci_rdwr.py) through the userspace entry: a zPCI function bound to vfio-pci,
opened as /dev/vfio/devices/vfio<N>, its config region read and written with
pread()/pwrite() at ``VFIO_PCI_INDEX_TO_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX)``."""

from __future__ import annotations

import ctypes
import errno
import struct
from collections.abc import Callable

import pytest

import uapi.linux.vfio as V
from kernel.lib.printk import KERN_DEBUG, KERN_INFO, dmesg
from kernel.vfio.pci.vfio_pci import vfio_pci_vdev
from sim.pci.function import EXP_CAP_OFFSET, PM_CAP_OFFSET, PciFunction
from sim.userspace import syscalls
from tests.kernel.vfio.pci.conftest import FID, Machine, pdev_of
from uapi.linux.pci_regs import (
    PCI_BASE_ADDRESS_0,
    PCI_CAP_LIST_NEXT,
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
    PCI_DEVICE_ID,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL_BCR_FLR,
    PCI_PM_CTRL,
    PCI_PM_PMC,
    PCI_ROM_ADDRESS,
    PCI_VENDOR_ID,
)

MachineFactory = Callable[..., Machine]

CFG = V.VFIO_PCI_CONFIG_REGION_INDEX << 40


def readw(fd: int, off: int) -> int:
    value: int = struct.unpack("<H", syscalls.pread(fd, 2, CFG + off))[0]
    return value


def readl(fd: int, off: int) -> int:
    value: int = struct.unpack("<I", syscalls.pread(fd, 4, CFG + off))[0]
    return value


def writew(fd: int, off: int, val: int) -> int:
    return syscalls.pwrite(fd, struct.pack("<H", val), CFG + off)


def writel(fd: int, off: int, val: int) -> int:
    return syscalls.pwrite(fd, struct.pack("<I", val), CFG + off)


def opened(machine: MachineFactory, fn: PciFunction | None = None) -> tuple[Machine, PciFunction, int]:
    fn = fn or PciFunction(0x1AF4, 0x1041)
    m = machine({FID: fn})
    _, vdev = m.bound()
    return m, fn, m.open(vdev)


def oserror(call: Callable[[], object]) -> int:
    with pytest.raises(OSError) as e:
        call()
    assert e.value.errno is not None
    return e.value.errno


# ---- ports of tools/testing/selftests/vfio/vfio_pci_device_test.c ----


def test_config_vendor_device_match_the_function(machine: MachineFactory) -> None:
    """vfio_pci_device_test.c, config_space_read_write: Vendor and Device read
    through the config region are the device's (what sysfs reports)."""
    _, fn, fd = opened(machine)

    assert readw(fd, PCI_VENDOR_ID) == fn.config_read(PCI_VENDOR_ID, 2) == 0x1AF4
    assert readw(fd, PCI_DEVICE_ID) == fn.config_read(PCI_DEVICE_ID, 2) == 0x1041
    assert syscalls.pread(fd, 4, CFG) == bytes.fromhex("f41a4110")


def test_config_command_bus_master_set_and_clear(machine: MachineFactory) -> None:
    """vfio_pci_device_test.c, config_space_read_write: Bus Master is clear at open,
    can be set and cleared through the Command register, and reads back each time;
    the bit reaches the hardware (it is not virtualised)."""
    _, fn, fd = opened(machine)

    command = readw(fd, PCI_COMMAND)
    assert not command & PCI_COMMAND_MASTER

    assert writew(fd, PCI_COMMAND, command | PCI_COMMAND_MASTER) == 2
    command = readw(fd, PCI_COMMAND)
    assert command & PCI_COMMAND_MASTER
    assert fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_MASTER

    assert writew(fd, PCI_COMMAND, command & ~PCI_COMMAND_MASTER) == 2
    assert not readw(fd, PCI_COMMAND) & PCI_COMMAND_MASTER
    assert not fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_MASTER


# ---- region info and the region dispatch (vfio_pci_rw) ----


def test_region_info_config_reports_offset_size_and_rw_flags(machine: MachineFactory) -> None:
    """VFIO_DEVICE_GET_REGION_INFO for the CONFIG index: offset index << 40, the
    function's config size (4096 for PCIe), READ|WRITE."""
    _, _, fd = opened(machine)
    info = V.vfio_region_info(argsz=ctypes.sizeof(V.vfio_region_info), index=V.VFIO_PCI_CONFIG_REGION_INDEX)

    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_REGION_INFO, info)

    assert info.offset == 7 << 40
    assert info.size == 4096
    assert info.flags == V.VFIO_REGION_INFO_FLAG_READ | V.VFIO_REGION_INFO_FLAG_WRITE


def test_bar_rom_vga_and_unknown_regions_answer_einval(machine: MachineFactory) -> None:
    """vfio_pci_rw: BARs and the ROM go to vfio_pci_bar_rw, which answers -EINVAL for
    a BAR without a host resource (none has one in the model); a ROM write is
    -EINVAL; VGA is the !CONFIG_VFIO_PCI_VGA stub; an index past the regions -EINVAL."""
    _, _, fd = opened(machine)

    assert oserror(lambda: syscalls.pread(fd, 4, V.VFIO_PCI_BAR0_REGION_INDEX << 40)) == errno.EINVAL
    assert oserror(lambda: syscalls.pwrite(fd, b"\0" * 4, 5 << 40)) == errno.EINVAL
    assert oserror(lambda: syscalls.pread(fd, 4, V.VFIO_PCI_ROM_REGION_INDEX << 40)) == errno.EINVAL
    assert oserror(lambda: syscalls.pwrite(fd, b"\0" * 4, V.VFIO_PCI_ROM_REGION_INDEX << 40)) == errno.EINVAL
    assert oserror(lambda: syscalls.pread(fd, 4, V.VFIO_PCI_VGA_REGION_INDEX << 40)) == errno.EINVAL
    assert oserror(lambda: syscalls.pread(fd, 4, V.VFIO_PCI_NUM_REGIONS << 40)) == errno.EINVAL


def test_config_access_past_the_end_is_efault_and_zero_count_reads_nothing(machine: MachineFactory) -> None:
    """vfio_pci_config_rw_single: an access that starts or ends past cfg_size is
    -EFAULT; vfio_pci_core_read with count 0 returns 0."""
    _, _, fd = opened(machine)

    assert oserror(lambda: syscalls.pread(fd, 4, CFG + 4096)) == errno.EFAULT
    assert oserror(lambda: syscalls.pread(fd, 8, CFG + 4092)) == errno.EFAULT
    assert syscalls.pread(fd, 0, CFG) == b""


def test_unaligned_multi_register_read_is_split_into_chunks(machine: MachineFactory) -> None:
    """vfio_pci_config_rw chops a 7-byte read at offset 1 into byte/word/dword
    chunks and returns the same bytes the registers hold."""
    _, fn, fd = opened(machine)

    data = syscalls.pread(fd, 7, CFG + 1)

    assert data == bytes([0x1A, 0x41, 0x10]) + struct.pack("<I", readl(fd, 4))
    assert data[:3] == bytes(fn.config_read(i, 1) for i in range(1, 4))


# ---- permission bits ----


def test_write_to_read_only_vendor_id_is_dropped(machine: MachineFactory) -> None:
    """Vendor ID has no writable bit: the write reports its count but changes
    neither the virtual nor the physical register."""
    _, fn, fd = opened(machine)

    assert writew(fd, PCI_VENDOR_ID, 0xBEEF) == 2

    assert readw(fd, PCI_VENDOR_ID) == 0x1AF4
    assert fn.config_read(PCI_VENDOR_ID, 2) == 0x1AF4


def test_bar_sizing_reads_the_virtual_mask_without_touching_the_hardware(machine: MachineFactory) -> None:
    """BARs are virtualised (vfio_bar_fixup): sizing by writing all ones reads back
    the host resource's size mask.  No BAR has a host resource in the model
    ("unmapped by host = unimplemented to user"), so the mask is 0 for BAR 0 and
    the ROM, and the physical BAR keeps its value."""
    fn = PciFunction(0x1AF4, 0x1041, bars=(0x4000,))
    _, _, fd = opened(machine, fn)

    assert writel(fd, PCI_BASE_ADDRESS_0, 0xFFFFFFFF) == 4
    assert writel(fd, PCI_ROM_ADDRESS, 0xFFFFFFFF) == 4

    assert readl(fd, PCI_BASE_ADDRESS_0) == 0
    assert readl(fd, PCI_ROM_ADDRESS) == 0
    assert fn.config_read(PCI_BASE_ADDRESS_0, 4) == 0


def test_command_intx_disable_is_virtual_and_the_physical_bit_follows(machine: MachineFactory) -> None:
    """INTx disable is virtualised (init_pci_cap_basic_perm); vfio_basic_config_write
    emulates it: virq_disabled follows the virtual bit and, without INTx delivery on
    a PCI 2.3 device, vfio_pci_intx_mask()/unmask() make the physical bit follow."""
    _, fn, fd = opened(machine)
    vdev = vfio_pci_vdev(pdev_of(FID))
    assert vdev is not None and vdev.pci_2_3

    assert writew(fd, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE) == 2
    assert readw(fd, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE
    assert vdev.virq_disabled
    assert fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE

    assert writew(fd, PCI_COMMAND, 0) == 2
    assert not readw(fd, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE
    assert not vdev.virq_disabled
    assert not fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE


def test_pm_pme_support_is_hidden_and_next_pointer_virtual(machine: MachineFactory) -> None:
    """PM capability: the PME_Support bits are virtual and cleared in vconfig
    (vfio_update_pm_vconfig_bytes); the next pointer comes from vconfig."""
    _, fn, fd = opened(machine)

    assert fn.config_read(PM_CAP_OFFSET + PCI_PM_PMC, 2) == 0x0803
    assert readw(fd, PM_CAP_OFFSET + PCI_PM_PMC) == 0x0003
    assert syscalls.pread(fd, 1, CFG + PM_CAP_OFFSET + PCI_CAP_LIST_NEXT) == bytes([EXP_CAP_OFFSET])


def test_pm_ctrl_write_changes_the_power_state_through_vfio(machine: MachineFactory) -> None:
    """vfio_pm_config_write: the state field is not writable, the write is trapped
    and vfio_pci_set_power_state() moves the function (D3hot and back to D0)."""
    _, fn, fd = opened(machine)
    pdev = pdev_of(FID)

    assert writew(fd, PM_CAP_OFFSET + PCI_PM_CTRL, 3) == 2
    assert fn.power_state == 3
    assert pdev.current_state == 3

    assert writew(fd, PM_CAP_OFFSET + PCI_PM_CTRL, 0) == 2
    assert fn.power_state == 0
    assert pdev.current_state == 0


# ---- resets and the error state ----


def test_flr_through_devctl_resets_the_function_and_reads_back_clear(machine: MachineFactory) -> None:
    """vfio_exp_config_write: the FLR bit is virtual; with PCI_EXP_DEVCAP_FLR set the
    write becomes pci_try_reset_function() (an FLR of the model), and the bit reads
    back as 0."""
    _, fn, fd = opened(machine)
    resets = len(fn.resets)
    devctl = readw(fd, EXP_CAP_OFFSET + PCI_EXP_DEVCTL)
    n = len(dmesg())

    assert writew(fd, EXP_CAP_OFFSET + PCI_EXP_DEVCTL, devctl | PCI_EXP_DEVCTL_BCR_FLR) == 2

    assert fn.resets[resets:] == ["flr"]
    assert readw(fd, EXP_CAP_OFFSET + PCI_EXP_DEVCTL) == devctl
    lines = [(line.level, line.text) for line in dmesg()[n:]]
    assert (KERN_DEBUG, "vfio-pci 0000:00:00.0: reset via flr") in lines


def test_flr_bit_without_flr_capability_does_not_reset(machine: MachineFactory) -> None:
    """Without PCI_EXP_DEVCAP_FLR the virtual FLR bit is cleared and nothing resets."""
    fn = PciFunction(0x1AF4, 0x1041, flr=False)
    _, _, fd = opened(machine, fn)
    resets = len(fn.resets)
    devctl = readw(fd, EXP_CAP_OFFSET + PCI_EXP_DEVCTL)

    assert writew(fd, EXP_CAP_OFFSET + PCI_EXP_DEVCTL, devctl | PCI_EXP_DEVCTL_BCR_FLR) == 2

    assert fn.resets[resets:] == []
    assert readw(fd, EXP_CAP_OFFSET + PCI_EXP_DEVCTL) == devctl


def test_memory_enable_after_backdoor_reset_restores_bars(machine: MachineFactory) -> None:
    """vfio_basic_config_write: enabling Memory that vfio believes enabled while the
    hardware has it off (a reset vfio did not see) calls vfio_bar_restore()."""
    _, fn, fd = opened(machine)
    assert writew(fd, PCI_COMMAND, PCI_COMMAND_MEMORY) == 2
    fn.hot_reset()  # behind vfio's back
    n = len(dmesg())

    assert writew(fd, PCI_COMMAND, PCI_COMMAND_MEMORY) == 2

    lines = [(line.level, line.text) for line in dmesg()[n:]]
    assert lines == [(KERN_INFO, "vfio-pci 0000:00:00.0: vfio_bar_restore: reset recovery - restoring BARs")]
    assert fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY


def test_config_read_in_error_state_serves_virtual_fields_and_fails_physical_ones(
    machine: MachineFactory,
) -> None:
    """The firmware puts the function in the error state (PEC 0x40: permanent), so
    config loads fail.  Fully virtual fields (Vendor/Device ID) still come from
    vconfig; a field with physical bits fails as vfio_default_config_read() does,
    with the accessor's -EIO, and a read spanning both fails as a whole."""
    m, fn, fd = opened(machine)
    m.fw.inject_error(FID, 0x0040)
    assert not fn.accessible
    assert fn.config_read(PCI_VENDOR_ID, 2) == 0xFFFF

    assert readw(fd, PCI_VENDOR_ID) == 0x1AF4
    assert readw(fd, PCI_DEVICE_ID) == 0x1041
    assert oserror(lambda: syscalls.pread(fd, 2, CFG + PCI_COMMAND)) == errno.EIO
    assert oserror(lambda: syscalls.pread(fd, 8, CFG)) == errno.EIO
