"""drivers/vfio/pci/vfio_pci_zdev.c (Linux 7.1-rc4 with the v17 series): vfio-pci's
zPCI support, the whole file.

Base text: legoater/linux @ 25f192f99a70, drivers/vfio/pci/vfio_pci_zdev.c, without the
old-series ``mediated_recovery`` lines: the pre-image of v17 4/7 (blob 0990fdb146b7).
v17 4/7 makes open/close start and stop "mediated recovery"
(``zpci_start_mediated_recovery()`` / ``zpci_stop_mediated_recovery()``); v17 5/7 adds
``vfio_pci_zdev_feature_err()``, which hands the stored error records to userspace
(VFIO_DEVICE_FEATURE_ZPCI_ERROR).

The capability builders ``kmalloc()`` a buffer and return ``-ENOMEM`` when that
fails; allocation does not fail in this model, so that branch is not reproduced.
The KVM hooks (``zpci_kvm_hook``) are installed by arch/s390/kvm/pci.c
(:mod:`kernel.s390.kvm.pci`); ``kvm_register`` sets ``zdev->kzdev``, which
the guest's interpretation facilities use; whether the host or userspace recovers
the function from an error follows open/close (mediated recovery), with or without
a KVM.
"""

from __future__ import annotations

import ctypes
import errno

from kernel.include.linux.vfio import vfio_check_feature, vfio_device, vfio_info_cap
from kernel.include.linux.vfio_pci_core import to_vfio_pci_core_device, vfio_pci_core_device
from kernel.lib.context_analysis import data_race
from kernel.lib.uaccess import copy_to_user
from kernel.s390.include.asm.pci import to_zpci, zpci_ccdf_err, zpci_dev
from kernel.s390.include.asm.pci_clp import CLP_PFIP_NR_SEGMENTS, CLP_UTIL_STR_LEN
from kernel.s390.include.asm.pci_io import ZPCI_MAX_WRITE_SIZE
from kernel.s390.pci.pci_event import (
    zpci_get_pending_error,
    zpci_start_mediated_recovery,
    zpci_stop_mediated_recovery,
)
from kernel.s390.pci.pci_kvm_hook import zpci_kvm_hook
from kernel.vfio.vfio_main import vfio_info_add_capability
from uapi.linux.vfio import (
    VFIO_DEVICE_FEATURE_GET,
    VFIO_DEVICE_INFO_CAP_ZPCI_BASE,
    VFIO_DEVICE_INFO_CAP_ZPCI_GROUP,
    VFIO_DEVICE_INFO_CAP_ZPCI_PFIP,
    VFIO_DEVICE_INFO_CAP_ZPCI_UTIL,
    vfio_device_feature_zpci_err,
)
from uapi.linux.vfio_zdev import (
    VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH,
    vfio_device_info_cap_zpci_base,
    vfio_device_info_cap_zpci_group,
    vfio_device_info_cap_zpci_pfip,
    vfio_device_info_cap_zpci_util,
)

__all__ = [
    "vfio_pci_info_zdev_add_caps",
    "vfio_pci_zdev_close_device",
    "vfio_pci_zdev_open_device",
]


def zpci_base_cap(zdev: zpci_dev, caps: vfio_info_cap) -> int:
    """Add the Base PCI Function information to the device info region."""
    cap = vfio_device_info_cap_zpci_base()
    cap.header.id = VFIO_DEVICE_INFO_CAP_ZPCI_BASE
    cap.header.version = 2
    cap.start_dma = zdev.start_dma
    cap.end_dma = zdev.end_dma
    cap.pchid = zdev.pchid
    cap.vfn = zdev.vfn
    cap.fmb_length = zdev.fmb_length
    cap.pft = zdev.pft
    cap.gid = zdev.pfgid
    with data_race():  # a snapshot of the handle for userspace: no zdev->state_lock
        cap.fh = zdev.fh

    return vfio_info_add_capability(caps, cap, ctypes.sizeof(cap))


def zpci_group_cap(zdev: zpci_dev, caps: vfio_info_cap) -> int:
    """Add the Base PCI Function Group information to the device info region."""
    cap = vfio_device_info_cap_zpci_group()
    cap.header.id = VFIO_DEVICE_INFO_CAP_ZPCI_GROUP
    cap.header.version = 2
    cap.dasm = zdev.dma_mask
    cap.msi_addr = zdev.msi_addr
    cap.flags = VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH
    cap.mui = zdev.fmb_update
    cap.noi = zdev.max_msi
    cap.maxstbl = ZPCI_MAX_WRITE_SIZE
    cap.version = zdev.version
    cap.reserved = 0
    cap.imaxstbl = zdev.maxstbl

    return vfio_info_add_capability(caps, cap, ctypes.sizeof(cap))


def zpci_util_cap(zdev: zpci_dev, caps: vfio_info_cap) -> int:
    """Add the device utility string to the device info region."""
    cap_size = ctypes.sizeof(vfio_device_info_cap_zpci_util) + CLP_UTIL_STR_LEN

    buf = (ctypes.c_uint8 * cap_size)()  # kmalloc(cap_size)
    cap = vfio_device_info_cap_zpci_util.from_buffer(buf)
    cap.header.id = VFIO_DEVICE_INFO_CAP_ZPCI_UTIL
    cap.header.version = 1
    cap.size = CLP_UTIL_STR_LEN
    off = vfio_device_info_cap_zpci_util.util_str.offset
    ctypes.memmove(ctypes.addressof(buf) + off, bytes(zdev.util_str[: cap.size]), cap.size)

    return vfio_info_add_capability(caps, buf, cap_size)


def zpci_pfip_cap(zdev: zpci_dev, caps: vfio_info_cap) -> int:
    """Add the function path string to the device info region."""
    cap_size = ctypes.sizeof(vfio_device_info_cap_zpci_pfip) + CLP_PFIP_NR_SEGMENTS

    buf = (ctypes.c_uint8 * cap_size)()  # kmalloc(cap_size)
    cap = vfio_device_info_cap_zpci_pfip.from_buffer(buf)
    cap.header.id = VFIO_DEVICE_INFO_CAP_ZPCI_PFIP
    cap.header.version = 1
    cap.size = CLP_PFIP_NR_SEGMENTS
    off = vfio_device_info_cap_zpci_pfip.pfip.offset
    ctypes.memmove(ctypes.addressof(buf) + off, bytes(zdev.pfip[: cap.size]), cap.size)

    return vfio_info_add_capability(caps, buf, cap_size)


def vfio_pci_info_zdev_add_caps(vdev: vfio_pci_core_device, caps: vfio_info_cap) -> int:
    """Add all supported capabilities to the VFIO_DEVICE_GET_INFO capability chain."""
    assert vdev.pdev is not None
    zdev = _to_zpci_or_none(vdev)

    if zdev is None:
        return -errno.ENODEV

    ret = zpci_base_cap(zdev, caps)
    if ret:
        return ret

    ret = zpci_group_cap(zdev, caps)
    if ret:
        return ret

    if zdev.util_str_avail:
        ret = zpci_util_cap(zdev, caps)
        if ret:
            return ret

    ret = zpci_pfip_cap(zdev, caps)

    return ret


def vfio_pci_zdev_feature_err(device: vfio_device, flags: int, arg: int, argsz: int) -> int:
    """VFIO_DEVICE_FEATURE_ZPCI_ERROR: GET the oldest pending error record.

    -ENODEV before anything else on a function that is not a zPCI one (PROBE
    included); the vfio_check_feature() answers (GET only, at least the size of the
    struct); -ENOMSG when none is pending.  The record is copied field by field, so
    the firmware's reserved bits never reach userspace.  It is dequeued before the
    copy to the user's buffer: if that copy faults, the call fails with -EFAULT and
    the record is lost (raised in review; v18 adds a rate-limited warning).
    """
    err = vfio_device_feature_zpci_err()
    ccdf = zpci_ccdf_err()

    vdev = to_vfio_pci_core_device(device)
    zdev = _to_zpci_or_none(vdev)
    if zdev is None:
        return -errno.ENODEV

    ret = vfio_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_GET, ctypes.sizeof(err))
    if ret != 1:
        return ret

    ret = zpci_get_pending_error(zdev, ccdf)
    if ret:
        return ret

    err.fh = ccdf.fh
    err.fid = ccdf.fid
    err.ett = ccdf.ett
    err.mvn = ccdf.mvn
    err.dmaas = ccdf.dmaas
    err.q = ccdf.q
    err.rw = ccdf.rw
    err.faddr = ccdf.faddr
    err.pec = ccdf.pec

    if copy_to_user(arg, err, ctypes.sizeof(err)):
        return -errno.EFAULT

    return 0


def vfio_pci_zdev_open_device(vdev: vfio_pci_core_device) -> int:
    zdev = _to_zpci_or_none(vdev)

    if zdev is None:
        return -errno.ENODEV

    zpci_start_mediated_recovery(zdev)

    if vdev.vdev.kvm is None:
        return 0

    ret = -errno.ENOENT
    if zpci_kvm_hook.kvm_register is not None:
        ret = zpci_kvm_hook.kvm_register(zdev, vdev.vdev.kvm)

    if ret:
        zpci_stop_mediated_recovery(zdev)

    return ret


def vfio_pci_zdev_close_device(vdev: vfio_pci_core_device) -> None:
    zdev = _to_zpci_or_none(vdev)

    if zdev is None:
        return

    zpci_stop_mediated_recovery(zdev)

    if vdev.vdev.kvm is None:
        return

    if zpci_kvm_hook.kvm_unregister is not None:
        zpci_kvm_hook.kvm_unregister(zdev)


def _to_zpci_or_none(vdev: vfio_pci_core_device) -> zpci_dev | None:
    """``to_zpci(vdev->pdev)``, which is NULL for a function that no zPCI bus holds.
    Exists only in Python: ``to_zpci()`` reads ``pdev->sysdata`` as a ``struct
    zpci_bus``; a PCI function that is not on a zPCI bus (possible only in tests of
    this model, never on s390) has no such sysdata, which C would not survive, so
    it counts as "no zdev" here."""
    pdev = vdev.pdev
    assert pdev is not None
    if pdev.sysdata is None or not hasattr(pdev.sysdata, "function"):
        return None
    zdev: zpci_dev | None = to_zpci(pdev)
    return zdev
