"""kernel/vfio/pci/vfio_pci_core.py, vfio_pci_intrs.py, vfio_pci_zdev.py and
vfio_pci.py through the userspace entry: a zPCI function bound to vfio-pci, opened as
/dev/vfio/devices/vfio<N>, driven with ioctl() and real eventfds.  Pre-series (7.1-rc4)
behaviour, including what the v17 series changes."""

from __future__ import annotations

import ctypes
import errno
import os
import select
import struct
from collections.abc import Callable

import pytest

import uapi.linux.vfio as V
import uapi.linux.vfio_zdev as Z
from kernel.include.linux.pci import PCI_ERS_RESULT_CAN_RECOVER, pci_channel_io_frozen
from kernel.lib.printk import KERN_INFO, dmesg
from kernel.pci.access import pci_read_config_dword, pci_write_config_dword
from kernel.pci.pci import pci_save_state
from kernel.s390.include.asm.kvm_host import kvm
from kernel.s390.pci.pci import get_zdev_by_fid
from kernel.s390.pci.pci_bus import zpci_zdev_put
from kernel.s390.pci.pci_kvm_hook import zpci_kvm_hook
from kernel.vfio.pci import vfio_pci_core
from kernel.vfio.pci.vfio_pci import vfio_pci_driver
from kernel.virt.kvm.vfio import kvm_vfio_file_add
from sim.host import zdev_of
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from tests.kernel.vfio.pci.conftest import FID, Machine
from uapi.linux.pci_regs import PCI_BASE_ADDRESS_0

MachineFactory = Callable[..., Machine]


def errno_of(fd: int, request: int, arg: object) -> int:
    with pytest.raises(OSError) as e:
        syscalls.ioctl(fd, request, arg)  # type: ignore[arg-type]
    assert e.value.errno is not None
    return e.value.errno


def irq_info(fd: int, index: int) -> V.vfio_irq_info:
    info = V.vfio_irq_info(argsz=ctypes.sizeof(V.vfio_irq_info), index=index)
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_IRQ_INFO, info)
    return info


def irq_set(index: int, flags: int, count: int, data: bytes = b"") -> bytearray:
    buf = bytearray(20 + len(data))
    hdr = V.vfio_irq_set.from_buffer(buf)
    hdr.argsz, hdr.flags, hdr.index, hdr.start, hdr.count = len(buf), flags, index, 0, count
    del hdr
    buf[20:] = data
    return buf


def s32(v: int) -> bytes:
    return struct.pack(">i", v)


def ready(efd: int) -> bool:
    return bool(select.select([efd], [], [], 0)[0])


@pytest.fixture
def efd() -> int:
    fd = os.eventfd(0, os.EFD_NONBLOCK)
    yield fd  # type: ignore[misc]
    os.close(fd)


# ---- ports of tools/testing/selftests/vfio/vfio_pci_device_test.c ----


def test_get_irq_info_err_index_has_one_eventfd_interrupt(machine: MachineFactory) -> None:
    """vfio_pci_device_test.c, vfio_pci_irq_test (GET_IRQ_INFO part) on the ERR index."""
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)

    info = irq_info(fd, V.VFIO_PCI_ERR_IRQ_INDEX)

    assert info.count == 1
    assert info.flags == V.VFIO_IRQ_INFO_EVENTFD | V.VFIO_IRQ_INFO_NORESIZE


def test_err_eventfd_enable_trigger_disable(machine: MachineFactory, efd: int) -> None:
    """vfio_pci_device_test.c, vfio_pci_irq_test: enable an eventfd, trigger it with
    DATA_NONE (loopback), read it, disable it; a trigger after disable is -EINVAL."""
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)
    trig = V.VFIO_IRQ_SET_ACTION_TRIGGER

    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, V.VFIO_IRQ_SET_DATA_EVENTFD | trig, 1, s32(efd)))
    assert not ready(efd)

    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, V.VFIO_IRQ_SET_DATA_NONE | trig, 1))
    assert ready(efd)
    assert os.eventfd_read(efd) == 1

    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, V.VFIO_IRQ_SET_DATA_BOOL | trig, 1, b"\x01"))
    assert os.eventfd_read(efd) == 1

    # disable: DATA_EVENTFD with fd -1
    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, V.VFIO_IRQ_SET_DATA_EVENTFD | trig, 1, s32(-1)))
    assert vdev.err_trigger is None
    assert (
        errno_of(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, V.VFIO_IRQ_SET_DATA_NONE | trig, 1)) == errno.EINVAL
    )
    assert not ready(efd)


def test_reset_when_flags_reset_is_set(machine: MachineFactory) -> None:
    """vfio_pci_device_test.c, vfio_pci_device_reset: GET_INFO says RESET, then
    VFIO_DEVICE_RESET succeeds (an FLR of the PCIe function)."""
    fn = PciFunction(0x1AF4, 0x1041)
    m = machine({FID: fn})
    _, vdev = m.bound()
    fd = m.open(vdev)

    info = V.vfio_device_info(argsz=ctypes.sizeof(V.vfio_device_info))
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, info)
    assert info.flags & V.VFIO_DEVICE_FLAGS_RESET
    resets = len(fn.resets)

    assert syscalls.ioctl(fd, V.VFIO_DEVICE_RESET) == 0
    assert fn.resets[resets:] == ["flr"]


def test_reset_without_reset_works_is_einval(machine: MachineFactory) -> None:
    """A function no reset method works for: GET_INFO has no RESET flag and
    VFIO_DEVICE_RESET is -EINVAL (vfio_pci_ioctl_reset)."""
    m = machine({FID: PciFunction(0x1AF4, 0x1041, flr=False, pm=False)})
    pdev, vdev = m.bound()
    pdev.reset_methods[:] = [0] * len(pdev.reset_methods)
    fd = m.open(vdev)

    info = V.vfio_device_info(argsz=ctypes.sizeof(V.vfio_device_info))
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, info)
    assert not info.flags & V.VFIO_DEVICE_FLAGS_RESET
    assert errno_of(fd, V.VFIO_DEVICE_RESET, 0) == errno.EINVAL


# ---- GET_INFO and the zPCI capability chain ----


def test_get_info_returns_zpci_capability_chain(machine: MachineFactory) -> None:
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)
    zdev = get_zdev_by_fid(FID)
    assert zdev is not None
    zpci_zdev_put(zdev)

    # first with the bare struct: the kernel says how much room it needs
    info = V.vfio_device_info(argsz=ctypes.sizeof(V.vfio_device_info))
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, info)
    assert info.flags == V.VFIO_DEVICE_FLAGS_PCI | V.VFIO_DEVICE_FLAGS_RESET | V.VFIO_DEVICE_FLAGS_CAPS
    assert (info.num_regions, info.num_irqs, info.cap_offset) == (9, 5, 0)
    need = info.argsz
    assert need == 24 + 40 + 48 + 16  # base, group, pfip (12 + 4, rounded up to 8)

    buf = bytearray(need)
    struct.pack_into(">I", buf, 0, need)
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, buf)
    info = V.vfio_device_info.from_buffer_copy(buf[:24])
    assert info.cap_offset == 24

    chain = []
    off = info.cap_offset
    while off:
        hdr = V.vfio_info_cap_header.from_buffer_copy(buf, off)
        chain.append((hdr.id, hdr.version, off))
        off = hdr.next
    assert [(i, v) for i, v, _ in chain] == [(1, 2), (2, 2), (4, 1)]

    base = Z.vfio_device_info_cap_zpci_base.from_buffer_copy(buf, chain[0][2])
    assert (base.start_dma, base.end_dma, base.pchid, base.gid, base.fh) == (
        zdev.start_dma,
        zdev.end_dma,
        zdev.pchid,
        zdev.pfgid,
        zdev.fh,
    )
    group = Z.vfio_device_info_cap_zpci_group.from_buffer_copy(buf, chain[1][2])
    assert (group.flags, group.maxstbl, group.noi, group.imaxstbl) == (
        Z.VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH,
        128,
        zdev.max_msi,
        zdev.maxstbl,
    )
    pfip = Z.vfio_device_info_cap_zpci_pfip.from_buffer_copy(buf, chain[2][2])
    assert pfip.size == 4


def test_get_info_has_util_cap_when_util_string_available(machine: MachineFactory) -> None:
    m = machine()
    _, vdev = m.bound()
    zdev = get_zdev_by_fid(FID)
    assert zdev is not None
    zpci_zdev_put(zdev)
    zdev.util_str_avail = 1
    zdev.util_str = b"\xc9\xe2\xd4" + bytes(61)
    fd = m.open(vdev)

    buf = bytearray(512)
    struct.pack_into(">I", buf, 0, 512)
    syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, buf)
    ids = []
    off = V.vfio_device_info.from_buffer_copy(buf[:24]).cap_offset
    while off:
        hdr = V.vfio_info_cap_header.from_buffer_copy(buf, off)
        ids.append((hdr.id, hdr.version))
        if hdr.id == 3:
            util = Z.vfio_device_info_cap_zpci_util.from_buffer_copy(buf, off)
            assert util.size == 64
            assert bytes(buf[off + 12 : off + 15]) == b"\xc9\xe2\xd4"
        off = hdr.next
    assert ids == [(1, 2), (2, 2), (3, 1), (4, 1)]


def test_get_info_short_argsz_is_einval(machine: MachineFactory) -> None:
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)
    info = V.vfio_device_info(argsz=15)
    assert errno_of(fd, V.VFIO_DEVICE_GET_INFO, info) == errno.EINVAL


# ---- pre-series behaviour the series changes ----


def test_non_pcie_function_has_an_err_irq_that_fires_on_error(machine: MachineFactory, efd: int) -> None:
    """v17 7/7: an ISM-like conventional PCI function (no PCIe capability) reports
    one ERR interrupt, accepts an error eventfd, and a firmware error signals it."""
    m = machine({FID: PciFunction(0x1014, 0x04ED, pcie=False)})
    _, vdev = m.bound()
    fd = m.open(vdev)

    info = irq_info(fd, V.VFIO_PCI_ERR_IRQ_INDEX)
    assert (info.count, info.flags) == (1, V.VFIO_IRQ_INFO_EVENTFD | V.VFIO_IRQ_INFO_NORESIZE)
    assert vfio_pci_core.vfio_pci_get_irq_count(vdev, V.VFIO_PCI_ERR_IRQ_INDEX) == 1

    flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER
    assert syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, flags, 1, s32(efd))) == 0
    assert vdev.err_trigger is not None

    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()
    assert os.eventfd_read(efd) == 1


def test_err_handlers_have_reset_done() -> None:
    """v17 6/7."""
    assert vfio_pci_driver.err_handler is vfio_pci_core.vfio_pci_core_err_handlers
    assert vfio_pci_driver.err_handler.error_detected is vfio_pci_core.vfio_pci_core_aer_err_detected
    assert vfio_pci_driver.err_handler.reset_done is vfio_pci_core.vfio_pci_core_aer_reset_done


def test_reset_done_restores_the_state_saved_at_open(machine: MachineFactory) -> None:
    """v17 6/7: after VFIO_DEVICE_RESET the PCI core calls reset_done, which loads
    the state vfio-pci saved when the device was opened and restores it -- not the
    state of just before the reset (what the PCI core's own restore brings back)."""
    fn = PciFunction(0x1AF4, 0x1041)
    m = machine({FID: fn})
    pdev, vdev = m.bound()
    pci_write_config_dword(pdev, PCI_BASE_ADDRESS_0, 0xA0000000)
    fd = m.open(vdev)
    assert vdev.pci_saved_state is not None
    pci_write_config_dword(pdev, PCI_BASE_ADDRESS_0, 0xB0000000)  # changed after open
    resets = len(fn.resets)

    assert syscalls.ioctl(fd, V.VFIO_DEVICE_RESET) == 0

    assert fn.resets[resets:] == ["flr"]
    assert pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0)[1] == 0xA0000000
    assert not any(line.text.endswith(": reset done") for line in dmesg())  # the callback ran


def test_reset_done_without_saved_state_does_nothing(machine: MachineFactory) -> None:
    """v17 6/7: a function bound to vfio-pci but never opened has no saved state."""
    fn = PciFunction(0x1AF4, 0x1041)
    m = machine({FID: fn})
    pdev, vdev = m.bound()
    assert vdev.pci_saved_state is None
    pci_write_config_dword(pdev, PCI_BASE_ADDRESS_0, 0xB0000000)
    before = len(dmesg())

    vfio_pci_core.vfio_pci_core_aer_reset_done(pdev)

    assert pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0)[1] == 0xB0000000
    assert len(dmesg()) == before

def test_two_resets_in_a_row_then_a_close(machine: MachineFactory) -> None:
    """Repetition: a second VFIO_DEVICE_RESET right after the first restores the
    state saved at open again (reset_done loads it each time, the copy stays), and
    the close after them frees it."""
    fn = PciFunction(0x1AF4, 0x1041)
    m = machine({FID: fn})
    pdev, vdev = m.bound()
    pci_write_config_dword(pdev, PCI_BASE_ADDRESS_0, 0xA0000000)
    fd = m.open(vdev)
    resets = len(fn.resets)

    for changed in (0xB0000000, 0xC0000000):
        pci_write_config_dword(pdev, PCI_BASE_ADDRESS_0, changed)
        assert syscalls.ioctl(fd, V.VFIO_DEVICE_RESET) == 0
        assert pci_read_config_dword(pdev, PCI_BASE_ADDRESS_0)[1] == 0xA0000000
        assert vdev.pci_saved_state is not None

    assert fn.resets[resets:] == ["flr", "flr"]
    syscalls.close(fd)
    assert vdev.pci_saved_state is None

def test_reset_done_without_saved_state_leaves_the_pci_core_state_alone(machine: MachineFactory) -> None:
    """v17 6/7: the check for a saved state comes first; without one, reset_done
    loads nothing, so the state the PCI core saved for its own restore stays."""
    fn = PciFunction(0x1AF4, 0x1041)
    m = machine({FID: fn})
    pdev, vdev = m.bound()
    pci_save_state(pdev)  # what pci_dev_save_and_disable() leaves for the restore
    assert vdev.pci_saved_state is None and pdev.state_saved

    vfio_pci_core.vfio_pci_core_aer_reset_done(pdev)

    assert pdev.state_saved


def test_device_feature_13_is_dispatched_to_zdev_and_enotty_without_zdev_kvm(
    machine: MachineFactory,
) -> None:
    """v17 5/7: feature 13 reaches vfio_pci_zdev_feature_err() (PROBE succeeds);
    with CONFIG_VFIO_PCI_ZDEV_KVM off, vfio_pci_priv.h's stub answers -ENOTTY."""
    from kernel.lib.kconfig import kconfig_override

    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)
    probe = bytearray(80)
    struct.pack_into(">II", probe, 0, 80, V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET | 13)
    assert syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, probe) == 0
    with kconfig_override(CONFIG_VFIO_PCI_ZDEV_KVM=False):
        for flags in (V.VFIO_DEVICE_FEATURE_GET, V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET):
            buf = bytearray(80)
            struct.pack_into(">II", buf, 0, 80, flags | 13)
            assert errno_of(fd, V.VFIO_DEVICE_FEATURE, buf) == errno.ENOTTY


def test_device_feature_vf_token_and_dma_buf_are_enotty(machine: MachineFactory) -> None:
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)
    for nr in (V.VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, V.VFIO_DEVICE_FEATURE_DMA_BUF):
        buf = bytearray(24)
        struct.pack_into(">II", buf, 0, 24, V.VFIO_DEVICE_FEATURE_SET | nr)
        assert errno_of(fd, V.VFIO_DEVICE_FEATURE, buf) == errno.ENOTTY


def test_low_power_entry_twice_is_einval_until_exit(machine: MachineFactory) -> None:
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)

    def feature(nr: int) -> bytearray:
        buf = bytearray(8)
        struct.pack_into(">II", buf, 0, 8, V.VFIO_DEVICE_FEATURE_SET | nr)
        return buf

    syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, feature(V.VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY))
    assert vdev.pm_runtime_engaged
    assert errno_of(fd, V.VFIO_DEVICE_FEATURE, feature(V.VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY)) == errno.EINVAL
    syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, feature(V.VFIO_DEVICE_FEATURE_LOW_POWER_EXIT))
    assert not vdev.pm_runtime_engaged


def test_msi_and_intx_answer_with_the_c_errno(machine: MachineFactory, efd: int) -> None:
    """INTx: the pin is hidden on s390 (count 0), so SET_IRQS is -EINVAL; MSI-X
    enable fails in pci_alloc_irq_vectors() with -ENOSPC (no MSI domain modelled)."""
    m = machine({FID: PciFunction(0x1AF4, 0x1041, msix=True)})
    _, vdev = m.bound()
    fd = m.open(vdev)
    flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER

    assert irq_info(fd, V.VFIO_PCI_INTX_IRQ_INDEX).count == 0
    assert errno_of(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(0, flags, 1, s32(efd))) == errno.EINVAL
    assert irq_info(fd, V.VFIO_PCI_MSIX_IRQ_INDEX).count == 8
    assert errno_of(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(2, flags, 1, s32(efd))) == errno.ENOSPC
    assert vdev.irq_type == V.VFIO_PCI_NUM_IRQS


# ---- zdev open/close and KVM ----


def test_kvm_attached_open_registers_kzdev_and_close_unregisters(machine: MachineFactory) -> None:
    m = machine()
    _, vdev = m.bound()
    zdev = get_zdev_by_fid(FID)
    assert zdev is not None
    zpci_zdev_put(zdev)
    guest = kvm()

    fd, iommufd = m.open_unbound(vdev)
    assert kvm_vfio_file_add(guest, fd) == 0
    assert zdev.kzdev is None
    m.bind(fd, iommufd)

    assert vdev.vdev.kvm is guest
    assert zdev.kzdev is not None and zdev.kzdev.kvm is guest
    assert guest.arch.kzdev_list == [zdev.kzdev]

    m.close(fd)
    assert zdev.kzdev is None
    assert guest.arch.kzdev_list == []


def test_kvm_file_add_rejects_a_file_that_is_not_vfio(machine: MachineFactory) -> None:
    m = machine()
    iommufd = syscalls.open("/dev/iommu")
    m.fds.append(iommufd)
    assert kvm_vfio_file_add(kvm(), iommufd) == -errno.EINVAL
    assert kvm_vfio_file_add(kvm(), 10**6) == -errno.EBADF


def test_open_without_zdev_is_enodev() -> None:
    """A function on a plain PCI host bridge (no zPCI bus): vfio_pci_zdev_open_device()
    fails the open with -ENODEV, and the enable is unwound."""
    from sim.pci.hostbridge import PciHostBridge

    hb = PciHostBridge(domain=0x42)
    hb.add_function(0, PciFunction(0x1AF4, 0x1041))
    bus = hb.scan()
    pdev = bus.devices[0]
    from tests.kernel.vfio.pci.conftest import bind_vfio_pci

    vdev = bind_vfio_pci(pdev)
    iommufd = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/" + vdev.vdev.device.init_name)
    try:
        b = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=iommufd)
        assert errno_of(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b) == errno.ENODEV
        assert pdev.enable_cnt == 0
        assert vdev.pci_saved_state is None
    finally:
        syscalls.close(fd)
        syscalls.close(iommufd)
        hb.remove()


def test_open_without_zdev_is_zero_when_zdev_kvm_is_configured_out(machine: MachineFactory) -> None:
    """The vfio_pci_priv.h stubs: with CONFIG_VFIO_PCI_ZDEV_KVM off, open succeeds
    and GET_INFO carries no capability chain."""
    from kernel.lib.kconfig import kconfig_override

    m = machine()
    _, vdev = m.bound()
    with kconfig_override(CONFIG_VFIO_PCI_ZDEV_KVM=False):
        fd = m.open(vdev)
        info = V.vfio_device_info(argsz=ctypes.sizeof(V.vfio_device_info))
        syscalls.ioctl(fd, V.VFIO_DEVICE_GET_INFO, info)
        assert not info.flags & V.VFIO_DEVICE_FLAGS_CAPS
        m.close(fd)


# ---- error handler ----


def test_aer_err_detected_signals_err_eventfd_and_can_recover(machine: MachineFactory, efd: int) -> None:
    m = machine()
    pdev, vdev = m.bound()
    fd = m.open(vdev)
    flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER
    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, flags, 1, s32(efd)))

    assert (
        vfio_pci_core.vfio_pci_core_aer_err_detected(pdev, pci_channel_io_frozen)
        == PCI_ERS_RESULT_CAN_RECOVER
    )
    assert os.eventfd_read(efd) == 1


def test_close_drops_err_trigger(machine: MachineFactory, efd: int) -> None:
    m = machine()
    _, vdev = m.bound()
    fd = m.open(vdev)
    flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER
    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, flags, 1, s32(efd)))
    assert vdev.err_trigger is not None
    m.close(fd)
    assert vdev.err_trigger is None


def test_recoverable_error_on_an_open_device_is_left_to_userspace(machine: MachineFactory, efd: int) -> None:
    """v17 4/7: with vfio-pci's device open (no KVM needed), the record is stored for
    userspace, the ERR eventfd fires once, and the host leaves the function in the
    error state ("Leaving recovery of pass-through device to user-space")."""
    m = machine()
    pdev, vdev = m.bound()
    fd = m.open(vdev)
    flags = V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER
    syscalls.ioctl(fd, V.VFIO_DEVICE_SET_IRQS, irq_set(3, flags, 1, s32(efd)))

    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()

    assert os.eventfd_read(efd) == 1
    assert not ready(efd)
    lines = [(line.level, line.text) for line in dmesg()]
    assert (KERN_INFO, "zpci: 0000:00:00.0: Leaving recovery of pass-through device to user-space") in lines
    assert not any(text.endswith("ready to resume operations") for _, text in lines)
    zdev = zdev_of(FID)
    assert zdev.pending_errs.count == 1 and zdev.pending_errs.err[0].pec == 0x3A
    assert pdev.error_state == pci_channel_io_frozen
    assert m.fw.function(FID).error


def test_open_starts_and_close_stops_mediated_recovery(machine: MachineFactory) -> None:
    """v17 4/7: close counts the records userspace never fetched and empties the
    queue; the next opener starts with none."""
    m = machine()
    _, vdev = m.bound()
    zdev = zdev_of(FID)
    assert not zdev.pending_errs.mediated_recovery
    fd = m.open(vdev)
    assert zdev.pending_errs.mediated_recovery
    m.fw.inject_error(FID, pec=0x3A)
    assert m.fw.wait_events_handled()
    assert zdev.pending_errs.count == 1

    m.close(fd)

    unhandled = (KERN_INFO, "zpci: Unhandled PCI error events count=1 for PCI function 0x10")
    assert unhandled in [(t.level, t.text) for t in dmesg()]
    assert not zdev.pending_errs.mediated_recovery and zdev.pending_errs.count == 0
    m.open(vdev)
    assert zdev.pending_errs.mediated_recovery and zdev.pending_errs.count == 0


def test_failing_kvm_registration_stops_mediated_recovery_again(
    machine: MachineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """v17 4/7: without the KVM hook the open fails with ENOENT, and the mediated
    recovery it started is stopped again."""
    m = machine()
    _, vdev = m.bound()
    zdev = zdev_of(FID)
    monkeypatch.setattr(zpci_kvm_hook, "kvm_register", None)
    fd, iommufd = m.open_unbound(vdev)
    assert kvm_vfio_file_add(kvm(), fd) == 0

    with pytest.raises(OSError) as e:
        m.bind(fd, iommufd)

    assert e.value.errno == errno.ENOENT
    assert not zdev.pending_errs.mediated_recovery
