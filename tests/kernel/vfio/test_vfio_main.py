"""kernel/vfio/vfio_main.py (with device_cdev.py and iommufd.py) through the
userspace entry, with a small fake VFIO bus driver: registration, the cdev open and
iommufd bind, VFIO_DEVICE_FEATURE's header checks, the ioctl dispatch, close.

The header checks follow the kernel selftests' feature tests
(tools/testing/selftests/vfio: probe, short argsz -> EINVAL)."""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Iterator
from typing import Any

import attrs
import pytest

from kernel.include.linux.vfio import vfio_check_feature, vfio_device, vfio_device_ops, vfio_info_cap
from kernel.lib import bug, fs
from kernel.lib.device import device
from kernel.lib.mutex import mutex_is_locked
from kernel.lib.uaccess import clear_faults, copy_to_user, make_fault
from kernel.vfio import vfio_main
from kernel.vfio.iommufd import (
    vfio_iommufd_physical_attach_ioas,
    vfio_iommufd_physical_bind,
    vfio_iommufd_physical_detach_ioas,
    vfio_iommufd_physical_unbind,
)
from sim.userspace import syscalls
from uapi.linux import vfio as V

FAKE_FEATURE = 0x100  # a driver feature: GET only, 4 bytes of data
FAKE_VALUE = 0xCAFEF00D
FAKE_IOCTL = 0x3BFF


@attrs.define(eq=False)
class fake_device:
    vdev: vfio_device = attrs.field(factory=vfio_device)
    events: list[tuple[str, bool]] = attrs.field(factory=list)
    kvm_at_open: Any = None


def container(vdev: vfio_device) -> fake_device:
    obj = vdev.container
    assert isinstance(obj, fake_device)
    return obj


def fake_open_device(vdev: vfio_device) -> int:
    assert vdev.dev_set is not None
    me = container(vdev)
    me.events.append(("open", mutex_is_locked(vdev.dev_set.lock)))
    me.kvm_at_open = vdev.kvm
    return 0


def fake_close_device(vdev: vfio_device) -> None:
    assert vdev.dev_set is not None
    container(vdev).events.append(("close", mutex_is_locked(vdev.dev_set.lock)))


def fake_device_feature(vdev: vfio_device, flags: int, arg: int, argsz: int) -> int:
    if flags & V.VFIO_DEVICE_FEATURE_MASK != FAKE_FEATURE:
        return -errno.ENOTTY
    ret = vfio_check_feature(flags, argsz, V.VFIO_DEVICE_FEATURE_GET, 4)
    if ret != 1:
        return ret
    if copy_to_user(arg, FAKE_VALUE.to_bytes(4, "big"), 4):
        return -errno.EFAULT
    return 0


def fake_ioctl(vdev: vfio_device, cmd: int, arg: int) -> int:
    return 7 if cmd == FAKE_IOCTL else -errno.ENOTTY


def make_ops(**overrides: Any) -> vfio_device_ops:
    ops = vfio_device_ops(
        name="fake-vfio",
        bind_iommufd=vfio_iommufd_physical_bind,
        unbind_iommufd=vfio_iommufd_physical_unbind,
        attach_ioas=vfio_iommufd_physical_attach_ioas,
        detach_ioas=vfio_iommufd_physical_detach_ioas,
        open_device=fake_open_device,
        close_device=fake_close_device,
        device_feature=fake_device_feature,
        ioctl=fake_ioctl,
    )
    for k, v in overrides.items():
        setattr(ops, k, v)
    return ops


def register(ops: vfio_device_ops) -> fake_device:
    obj = vfio_main.vfio_alloc_device(fake_device, "vdev", device(init_name="0000:00:00.0"), ops)
    assert isinstance(obj, fake_device)
    assert vfio_main.vfio_register_group_dev(obj.vdev) == 0
    return obj


@attrs.define
class Opened:
    dev: fake_device
    fd: int
    iommufd: int
    fds: list[int]


@pytest.fixture
def fds() -> Iterator[list[int]]:
    opened: list[int] = []
    yield opened
    for fd in reversed(opened):
        try:
            syscalls.close(fd)
        except OSError:
            pass


def bind(fd: int, iommufd: int) -> V.vfio_device_bind_iommufd:
    b = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=iommufd)
    syscalls.ioctl(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b)
    return b


@pytest.fixture
def opened(fds: list[int]) -> Opened:
    dev = register(make_ops())
    iommufd = syscalls.open("/dev/iommu")
    fds.append(iommufd)
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.append(fd)
    bind(fd, iommufd)
    return Opened(dev, fd, iommufd, fds)


def feature_ioctl(fd: int, flags: int, argsz: int = 8, extra: int = 0) -> tuple[int, bytearray]:
    buf = bytearray(max(argsz, 8) + extra)
    hdr = V.vfio_device_feature.from_buffer(buf)
    hdr.argsz = argsz
    hdr.flags = flags
    del hdr
    return syscalls.ioctl(fd, V.VFIO_DEVICE_FEATURE, buf), buf


def errno_of(fd: int, request: int, arg: Any) -> int:
    with pytest.raises(OSError) as e:
        syscalls.ioctl(fd, request, arg)
    assert e.value.errno is not None
    return e.value.errno


# ---- vfio_check_feature ----


def test_check_feature_rejects_unsupported_get_or_set_with_einval() -> None:
    f = V.VFIO_DEVICE_FEATURE_SET | V.VFIO_DEVICE_FEATURE_PROBE
    assert vfio_check_feature(f, 100, V.VFIO_DEVICE_FEATURE_GET, 4) == -errno.EINVAL


def test_check_feature_probe_returns_0_even_with_short_argsz() -> None:
    f = V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET
    assert vfio_check_feature(f, 0, V.VFIO_DEVICE_FEATURE_GET, 4) == 0


def test_check_feature_without_get_or_set_is_einval() -> None:
    assert vfio_check_feature(FAKE_FEATURE, 100, V.VFIO_DEVICE_FEATURE_GET, 4) == -errno.EINVAL


def test_check_feature_short_argsz_is_einval_and_enough_is_1() -> None:
    f = V.VFIO_DEVICE_FEATURE_GET | FAKE_FEATURE
    assert vfio_check_feature(f, 3, V.VFIO_DEVICE_FEATURE_GET, 4) == -errno.EINVAL
    assert vfio_check_feature(f, 4, V.VFIO_DEVICE_FEATURE_GET, 4) == 1


# ---- registration and the device node ----


def test_register_creates_node_named_by_index_and_unregister_removes_it(fds: list[int]) -> None:
    a = register(make_ops())
    b = register(make_ops())
    assert (a.vdev.index, b.vdev.index) == (0, 1)
    assert a.vdev.device.init_name == "vfio0"
    assert fs.devnode_lookup("/dev/vfio/devices/vfio1") is not None
    # each device is alone in a set of its own
    assert a.vdev.dev_set is not None and a.vdev.dev_set is not b.vdev.dev_set
    assert a.vdev.dev_set.lock.lockdep_class == "&dev_set->lock"
    vfio_main.vfio_unregister_group_dev(b.vdev)
    with pytest.raises(FileNotFoundError):
        syscalls.open("/dev/vfio/devices/vfio1")


def test_register_without_iommufd_ops_warns_and_fails() -> None:
    obj = vfio_main.vfio_alloc_device(fake_device, "vdev", device(), make_ops(attach_ioas=None))
    assert isinstance(obj, fake_device)
    assert vfio_main.vfio_register_group_dev(obj.vdev) == -errno.EINVAL
    assert len(bug.warnings) == 1
    bug.warnings.clear()


def test_put_device_releases_index_and_calls_ops_release() -> None:
    released: list[vfio_device] = []
    obj = register(make_ops(release=released.append))
    vfio_main.vfio_unregister_group_dev(obj.vdev)
    from kernel.include.linux.vfio import vfio_put_device

    vfio_put_device(obj.vdev)
    assert released == [obj.vdev]
    assert register(make_ops()).vdev.index == 0


# ---- open, bind, close ----


def test_unbound_file_refuses_every_ioctl_but_bind_with_einval(fds: list[int]) -> None:
    register(make_ops())
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.append(fd)
    assert errno_of(fd, V.VFIO_DEVICE_FEATURE, V.vfio_device_feature(argsz=8)) == errno.EINVAL
    assert errno_of(fd, V.VFIO_DEVICE_RESET, 0) == errno.EINVAL


def test_bind_opens_device_once_under_dev_set_lock_and_returns_devid(opened: Opened) -> None:
    assert opened.dev.events == [("open", True)]
    assert opened.dev.vdev.open_count == 1
    assert opened.dev.vdev.cdev_opened
    # a second bind of the same file is refused
    b = V.vfio_device_bind_iommufd(argsz=24, iommufd=opened.iommufd)
    assert errno_of(opened.fd, V.VFIO_DEVICE_BIND_IOMMUFD, b) == errno.EINVAL
    assert opened.dev.events == [("open", True)]


def test_bind_reports_the_iommufd_device_id(fds: list[int]) -> None:
    register(make_ops())
    iommufd = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.extend([iommufd, fd])
    assert bind(fd, iommufd).out_devid == 1


def test_second_cdev_open_cannot_bind_while_device_is_open(opened: Opened) -> None:
    fd2 = syscalls.open("/dev/vfio/devices/vfio0")
    opened.fds.append(fd2)
    b = V.vfio_device_bind_iommufd(argsz=24, iommufd=opened.iommufd)
    assert errno_of(fd2, V.VFIO_DEVICE_BIND_IOMMUFD, b) == errno.EINVAL
    assert opened.dev.events == [("open", True)]
    assert opened.dev.vdev.open_count == 1


def test_close_calls_close_device_once_under_dev_set_lock(opened: Opened) -> None:
    syscalls.close(opened.fd)
    opened.fds.remove(opened.fd)
    assert opened.dev.events == [("open", True), ("close", True)]
    assert opened.dev.vdev.open_count == 0
    assert not opened.dev.vdev.cdev_opened
    # the registration reference of the file is gone: unregister does not wait
    vfio_main.vfio_unregister_group_dev(opened.dev.vdev)


def test_failed_open_device_leaves_the_device_closed(fds: list[int]) -> None:
    dev = register(make_ops(open_device=lambda vdev: -errno.EIO))
    iommufd = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.extend([iommufd, fd])
    b = V.vfio_device_bind_iommufd(argsz=24, iommufd=iommufd)
    assert errno_of(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b) == errno.EIO
    assert dev.vdev.open_count == 0
    assert dev.vdev.iommufd_device is None
    assert errno_of(fd, V.VFIO_DEVICE_FEATURE, V.vfio_device_feature(argsz=8)) == errno.EINVAL


@pytest.mark.parametrize(
    ("argsz", "flags", "iommufd", "err"),
    [
        (12, 0, None, errno.EINVAL),  # argsz < offsetofend(out_devid)
        (24, 1, None, errno.EINVAL),  # flags
        (24, 0, -1, errno.EINVAL),  # negative fd
        (24, 0, 1000, errno.EBADF),  # not an open descriptor of the kernel
    ],
)
def test_bind_argument_checks(fds: list[int], argsz: int, flags: int, iommufd: int | None, err: int) -> None:
    register(make_ops())
    real = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.extend([real, fd])
    b = V.vfio_device_bind_iommufd(argsz=argsz, flags=flags, iommufd=real if iommufd is None else iommufd)
    assert errno_of(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b) == err


def test_bind_to_a_descriptor_that_is_no_iommufd_is_ebadfd(fds: list[int]) -> None:
    register(make_ops())
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.append(fd)
    b = V.vfio_device_bind_iommufd(argsz=24, iommufd=fd)
    assert errno_of(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b) == errno.EBADFD


def test_kvm_of_the_file_is_the_device_kvm_while_open(fds: list[int]) -> None:
    dev = register(make_ops())
    iommufd = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.extend([iommufd, fd])
    kvm = object()
    filp = fs.fget(fd)
    assert filp is not None
    vfio_main.vfio_file_set_kvm(filp, kvm)
    fs.fput(filp)
    bind(fd, iommufd)
    assert dev.kvm_at_open is kvm
    syscalls.close(fd)
    fds.remove(fd)
    assert dev.vdev.kvm is None


# ---- VFIO_DEVICE_FEATURE ----


def test_feature_argsz_below_header_is_einval(opened: Opened) -> None:
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_PROBE | FAKE_FEATURE, argsz=7)
    assert e.value.errno == errno.EINVAL


def test_feature_unknown_flag_bits_are_einval(opened: Opened) -> None:
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, (1 << 19) | V.VFIO_DEVICE_FEATURE_PROBE | FAKE_FEATURE)
    assert e.value.errno == errno.EINVAL


def test_feature_get_and_set_together_without_probe_is_einval(opened: Opened) -> None:
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_GET | V.VFIO_DEVICE_FEATURE_SET | FAKE_FEATURE, 12)
    assert e.value.errno == errno.EINVAL


def test_feature_probe_with_get_and_set_reaches_driver_which_refuses_set(opened: Opened) -> None:
    flags = V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET | V.VFIO_DEVICE_FEATURE_SET
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, flags | FAKE_FEATURE)
    assert e.value.errno == errno.EINVAL


def test_feature_unknown_to_driver_is_enotty(opened: Opened) -> None:
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_PROBE | 0x200)
    assert e.value.errno == errno.ENOTTY


def test_feature_probe_is_0_and_get_fills_data(opened: Opened) -> None:
    assert (
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET | FAKE_FEATURE)[0]
        == 0
    )
    ret, buf = feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_GET | FAKE_FEATURE, argsz=12)
    assert ret == 0
    assert buf[8:12] == FAKE_VALUE.to_bytes(4, "big")
    # argsz counts the header: 8 + 3 is too short for the driver's 4 bytes
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_GET | FAKE_FEATURE, argsz=11, extra=1)
    assert e.value.errno == errno.EINVAL


def test_feature_header_in_faulting_memory_is_efault(opened: Opened) -> None:
    feat = V.vfio_device_feature(argsz=8, flags=V.VFIO_DEVICE_FEATURE_PROBE | FAKE_FEATURE)
    make_fault(ctypes.addressof(feat) + 4, 4)
    try:
        assert errno_of(opened.fd, V.VFIO_DEVICE_FEATURE, feat) == errno.EFAULT
    finally:
        clear_faults()


def test_feature_data_in_faulting_memory_is_efault_from_driver(opened: Opened) -> None:
    buf = bytearray(12)
    hdr = V.vfio_device_feature.from_buffer(buf)
    hdr.argsz, hdr.flags = 12, V.VFIO_DEVICE_FEATURE_GET | FAKE_FEATURE
    del hdr
    addr = ctypes.addressof((ctypes.c_char * 12).from_buffer(buf))
    make_fault(addr + 8, 4)
    try:
        assert errno_of(opened.fd, V.VFIO_DEVICE_FEATURE, buf) == errno.EFAULT
    finally:
        clear_faults()


@pytest.mark.parametrize(
    "feature",
    [
        V.VFIO_DEVICE_FEATURE_MIGRATION,
        V.VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
        V.VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
        V.VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
        V.VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
        V.VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
    ],
)
def test_core_migration_and_logging_features_are_enotty_without_ops(opened: Opened, feature: int) -> None:
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET | feature)
    assert e.value.errno == errno.ENOTTY


def test_core_precopy_info_v2_is_einval_without_pre_copy_migration(opened: Opened) -> None:
    with pytest.raises(OSError) as e:
        feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_SET | V.VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2)
    assert e.value.errno == errno.EINVAL
    opened.dev.vdev.migration_flags = V.VFIO_MIGRATION_STOP_COPY | V.VFIO_MIGRATION_PRE_COPY
    ret, _ = feature_ioctl(opened.fd, V.VFIO_DEVICE_FEATURE_SET | V.VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2)
    assert ret == 0
    assert opened.dev.vdev.precopy_info_v2 == 1


def test_feature_without_driver_op_is_enotty(fds: list[int]) -> None:
    register(make_ops(device_feature=None))
    iommufd = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.extend([iommufd, fd])
    bind(fd, iommufd)
    with pytest.raises(OSError) as e:
        feature_ioctl(fd, V.VFIO_DEVICE_FEATURE_PROBE | FAKE_FEATURE)
    assert e.value.errno == errno.ENOTTY


# ---- dispatch ----


def test_other_ioctls_go_to_the_driver(opened: Opened) -> None:
    assert syscalls.ioctl(opened.fd, FAKE_IOCTL) == 7
    assert errno_of(opened.fd, V.VFIO_DEVICE_RESET, 0) == errno.ENOTTY


def test_ioctl_without_driver_ioctl_op_is_einval(fds: list[int]) -> None:
    register(make_ops(ioctl=None))
    iommufd = syscalls.open("/dev/iommu")
    fd = syscalls.open("/dev/vfio/devices/vfio0")
    fds.extend([iommufd, fd])
    bind(fd, iommufd)
    assert errno_of(fd, V.VFIO_DEVICE_RESET, 0) == errno.EINVAL
    assert errno_of(fd, 0x1234, 0) == errno.EINVAL


def test_region_info_without_driver_op_is_einval(opened: Opened) -> None:
    info = V.vfio_region_info(argsz=32, index=V.VFIO_PCI_CONFIG_REGION_INDEX)
    assert errno_of(opened.fd, V.VFIO_DEVICE_GET_REGION_INFO, info) == errno.EINVAL


def test_attach_pt_to_unknown_id_is_enoent(opened: Opened) -> None:
    att = V.vfio_device_attach_iommufd_pt(argsz=16, pt_id=99)
    assert errno_of(opened.fd, V.VFIO_DEVICE_ATTACH_IOMMUFD_PT, att) == errno.ENOENT
    det = V.vfio_device_detach_iommufd_pt(argsz=12)
    assert syscalls.ioctl(opened.fd, V.VFIO_DEVICE_DETACH_IOMMUFD_PT, det) == 0


# ---- helpers for bus drivers ----


def test_region_info_appends_caps_or_reports_needed_size(opened: Opened) -> None:
    def caps_op(vdev: vfio_device, info: V.vfio_region_info, caps: vfio_info_cap) -> int:
        info.size, info.offset = 256, 7 << 40
        cap = V.vfio_device_info_cap_pci_atomic_comp(flags=V.VFIO_PCI_ATOMIC_COMP32)
        cap.header.id, cap.header.version = 5, 1
        return vfio_main.vfio_info_add_capability(caps, cap, ctypes.sizeof(cap))

    assert opened.dev.vdev.ops is not None
    opened.dev.vdev.ops.get_region_info_caps = caps_op
    small = V.vfio_region_info(argsz=32)
    syscalls.ioctl(opened.fd, V.VFIO_DEVICE_GET_REGION_INFO, small)
    assert (small.argsz, small.cap_offset, small.size) == (48, 0, 256)
    assert small.flags & V.VFIO_REGION_INFO_FLAG_CAPS
    big = bytearray(48)
    V.vfio_region_info.from_buffer(big).argsz = 48
    syscalls.ioctl(opened.fd, V.VFIO_DEVICE_GET_REGION_INFO, big)
    info = V.vfio_region_info.from_buffer_copy(big[:32])
    cap = V.vfio_device_info_cap_pci_atomic_comp.from_buffer_copy(big[32:48])
    assert (info.cap_offset, info.offset) == (32, 7 << 40)
    assert (cap.header.id, cap.header.version, cap.header.next, cap.flags) == (5, 1, 0, 1)


def test_info_cap_chain_links_aligns_and_shifts() -> None:
    caps = vfio_info_cap()
    a = vfio_main.vfio_info_cap_add(caps, 12, 1, 2)
    b = vfio_main.vfio_info_cap_add(caps, 40, 2, 1)
    assert not isinstance(a, Exception) and not isinstance(b, Exception)
    assert caps.size == 16 + 40
    assert caps.buf is not None
    first = V.vfio_info_cap_header.from_buffer_copy(caps.buf[:8])
    assert (first.id, first.version, first.next) == (1, 2, 16)
    vfio_main.vfio_info_cap_shift(caps, 24)
    first = V.vfio_info_cap_header.from_buffer_copy(caps.buf[:8])
    second = V.vfio_info_cap_header.from_buffer_copy(caps.buf[16:24])
    assert (first.next, second.id, second.next) == (40, 2, 0)


@pytest.mark.parametrize(
    ("fields", "num_irqs", "ret", "size"),
    [
        ({"argsz": 20, "flags": V.VFIO_IRQ_SET_DATA_NONE | V.VFIO_IRQ_SET_ACTION_TRIGGER}, 1, 0, 0),
        (
            {"argsz": 24, "flags": V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER, "count": 1},
            1,
            0,
            4,
        ),
        (
            {"argsz": 22, "flags": V.VFIO_IRQ_SET_DATA_BOOL | V.VFIO_IRQ_SET_ACTION_TRIGGER, "count": 2},
            2,
            0,
            2,
        ),
        ({"argsz": 19, "flags": V.VFIO_IRQ_SET_DATA_NONE}, 1, -errno.EINVAL, None),
        ({"argsz": 20, "flags": 1 << 6}, 1, -errno.EINVAL, None),
        ({"argsz": 20, "index": 5, "flags": V.VFIO_IRQ_SET_DATA_NONE}, 1, -errno.EINVAL, None),
        ({"argsz": 20, "start": 1, "flags": V.VFIO_IRQ_SET_DATA_NONE}, 1, -errno.EINVAL, 0),
        ({"argsz": 23, "flags": V.VFIO_IRQ_SET_DATA_EVENTFD, "count": 1}, 1, -errno.EINVAL, 0),
        ({"argsz": 20, "flags": V.VFIO_IRQ_SET_DATA_NONE | V.VFIO_IRQ_SET_DATA_BOOL}, 1, -errno.EINVAL, 0),
    ],
)
def test_set_irqs_validate_and_prepare(
    fields: dict[str, int], num_irqs: int, ret: int, size: int | None
) -> None:
    hdr = V.vfio_irq_set(**fields)
    data_size = [-1]
    assert vfio_main.vfio_set_irqs_validate_and_prepare(hdr, num_irqs, V.VFIO_PCI_NUM_IRQS, data_size) == ret
    assert data_size[0] == (-1 if size is None else size)


def test_device_set_open_count_and_find(opened: Opened) -> None:
    dev_set = opened.dev.vdev.dev_set
    assert dev_set is not None
    from kernel.lib.mutex import mutex_lock, mutex_unlock

    mutex_lock(dev_set.lock)
    try:
        assert vfio_main.vfio_device_set_open_count(dev_set) == 1
        assert opened.dev.vdev.dev is not None
        assert vfio_main.vfio_find_device_in_devset(dev_set, opened.dev.vdev.dev) is opened.dev.vdev
        assert vfio_main.vfio_find_device_in_devset(dev_set, device()) is None
    finally:
        mutex_unlock(dev_set.lock)


def test_devices_sharing_a_set_id_share_the_lock() -> None:
    set_id = object()
    a = vfio_main.vfio_alloc_device(fake_device, "vdev", device(), make_ops())
    b = vfio_main.vfio_alloc_device(fake_device, "vdev", device(), make_ops())
    assert isinstance(a, fake_device) and isinstance(b, fake_device)
    assert vfio_main.vfio_assign_device_set(a.vdev, set_id) == 0
    assert vfio_main.vfio_assign_device_set(b.vdev, set_id) == 0
    assert a.vdev.dev_set is b.vdev.dev_set
    assert a.vdev.dev_set is not None and a.vdev.dev_set.device_count == 2

