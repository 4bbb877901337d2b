"""drivers/vfio/device_cdev.c: the per-device character device
``/dev/vfio/devices/vfio<N>`` and its iommufd binding.

Read from torvalds/linux @ 1260ed777985, drivers/vfio/device_cdev.c, which predates 7.1
in one respect: 7.1 accepts ``VFIO_DEVICE_BIND_FLAG_TOKEN`` (a VF token for SR-IOV,
``token_uuid_ptr``) in ``bind.flags``; this text rejects every flag with -EINVAL.
SR-IOV VF tokens have no part in the s390 flow, so the stored check is kept; it is
the same answer 7.1 gives for every other flag bit.  No patch of the v17 series
touches this file.

``vfio_device_block_group()``/``vfio_device_unblock_group()`` keep a group user
and a cdev user apart; without CONFIG_VFIO_GROUP they do nothing and are left out.
"""

from __future__ import annotations

import ctypes
import errno

from kernel.iommu.iommufd.main import iommufd_ctx, iommufd_ctx_from_fd, iommufd_ctx_put
from kernel.lib.errno import IS_ERR
from kernel.lib.fs import file, file_operations, inode
from kernel.lib.mutex import mutex_lock, mutex_unlock
from kernel.lib.spinlock import spin_lock, spin_unlock
from kernel.lib.stddef import offsetofend
from kernel.lib.uaccess import copy_from_user, copy_to_user
from kernel.vfio import vfio_main
from kernel.vfio.vfio import vfio_device_file
from uapi.linux.vfio import (
    VFIO_DEVICE_ATTACH_PASID,
    VFIO_DEVICE_DETACH_PASID,
    vfio_device_attach_iommufd_pt,
    vfio_device_bind_iommufd,
    vfio_device_detach_iommufd_pt,
)

__all__ = [
    "vfio_device_cdev_fops",
    "vfio_device_fops_cdev_open",
    "vfio_df_ioctl_attach_pt",
    "vfio_df_ioctl_bind_iommufd",
    "vfio_df_ioctl_detach_pt",
    "vfio_df_unbind_iommufd",
]


def vfio_device_cdev_fops() -> file_operations:
    """``vfio_device_fops`` with its ``.open = vfio_device_fops_cdev_open`` (the C
    table names the open of this file; here this file fills it in)."""
    fops = vfio_main.vfio_device_fops
    fops.open = vfio_device_fops_cdev_open
    return fops


def vfio_device_fops_cdev_open(inode: inode, filep: file) -> int:
    """open(2) of the device node: a file that may do nothing but
    ``VFIO_DEVICE_BIND_IOMMUFD`` until the bind has opened the device."""
    device = inode.i_cdev

    # Paired with the put in vfio_device_fops_release()
    if not vfio_main.vfio_device_try_get_registration(device):
        return -errno.ENODEV

    df = vfio_main.vfio_allocate_device_file(device)
    filep.private_data = df
    return 0


def vfio_df_get_kvm_safe(df: vfio_device_file) -> None:
    spin_lock(df.kvm_ref_lock)
    vfio_main.vfio_device_get_kvm_safe(df.device, df.kvm)
    spin_unlock(df.kvm_ref_lock)


def vfio_df_ioctl_bind_iommufd(df: vfio_device_file, arg: int) -> int:
    """``VFIO_DEVICE_BIND_IOMMUFD``: bind the file to an iommufd and open the
    device (``open_device()`` under ``dev_set->lock``); the device id goes back in
    ``out_devid``."""
    device = df.device
    bind = vfio_device_bind_iommufd()
    minsz = offsetofend(vfio_device_bind_iommufd, "out_devid")
    assert device.dev_set is not None

    if copy_from_user(bind, arg, minsz):
        return -errno.EFAULT

    if bind.argsz < minsz or bind.flags or bind.iommufd < 0:
        return -errno.EINVAL

    # BIND_IOMMUFD only allowed for cdev fds
    if df.group is not None:
        return -errno.EINVAL

    mutex_lock(device.dev_set.lock)
    try:
        # one device cannot be bound twice
        if df.access_granted:
            return -errno.EINVAL

        res = iommufd_ctx_from_fd(bind.iommufd)
        if IS_ERR(res):
            df.iommufd = None
            return res.err
        assert isinstance(res, iommufd_ctx)
        ictx = res
        df.iommufd = ictx

        # take the VM this file was linked with, if any, until the device closes
        vfio_df_get_kvm_safe(df)

        ret = vfio_main.vfio_df_open(df)
        if ret:
            # out_put_kvm:
            vfio_main.vfio_device_put_kvm(device)
            iommufd_ctx_put(ictx)
            df.iommufd = None
            return ret

        devid = ctypes.c_uint32(df.devid)
        be = devid.value.to_bytes(4, "big")
        if copy_to_user(arg + vfio_device_bind_iommufd.out_devid.offset, be, 4):
            # out_close_device:
            vfio_main.vfio_df_close(df)
            vfio_main.vfio_device_put_kvm(device)
            iommufd_ctx_put(ictx)
            df.iommufd = None
            return -errno.EFAULT

        device.cdev_opened = True
        # from here on, ioctl/read/write of the file are allowed
        df.access_granted = True
        return 0
    finally:
        mutex_unlock(device.dev_set.lock)


def vfio_df_unbind_iommufd(df: vfio_device_file) -> None:
    """Close of a bound file: close the device and drop the iommufd."""
    device = df.device
    assert device.dev_set is not None

    # nobody changes access_granted while the file is being released
    if not df.access_granted:
        return

    mutex_lock(device.dev_set.lock)
    vfio_main.vfio_df_close(df)
    vfio_main.vfio_device_put_kvm(device)
    iommufd_ctx_put(df.iommufd)
    device.cdev_opened = False
    mutex_unlock(device.dev_set.lock)


def vfio_df_ioctl_attach_pt(df: vfio_device_file, arg: int) -> int:
    """``VFIO_DEVICE_ATTACH_IOMMUFD_PT``."""
    attach = vfio_device_attach_iommufd_pt()
    device = df.device
    minsz = offsetofend(vfio_device_attach_iommufd_pt, "pt_id")
    xend = 0
    assert device.dev_set is not None and device.ops is not None

    if copy_from_user(attach, arg, minsz):
        return -errno.EFAULT

    if attach.argsz < minsz:
        return -errno.EINVAL

    if attach.flags & ~VFIO_DEVICE_ATTACH_PASID:
        return -errno.EINVAL

    if attach.flags & VFIO_DEVICE_ATTACH_PASID:
        if device.ops.pasid_attach_ioas is None:
            return -errno.EOPNOTSUPP
        xend = offsetofend(vfio_device_attach_iommufd_pt, "pasid")

    if xend:
        if attach.argsz < xend:
            return -errno.EINVAL
        rest = (ctypes.c_char * (xend - minsz)).from_buffer(attach, minsz)
        if copy_from_user(rest, arg + minsz, xend - minsz):
            return -errno.EFAULT

    pt_id = [attach.pt_id]
    mutex_lock(device.dev_set.lock)
    try:
        if attach.flags & VFIO_DEVICE_ATTACH_PASID:
            assert device.ops.pasid_attach_ioas is not None
            ret = device.ops.pasid_attach_ioas(device, attach.pasid, pt_id)
        else:
            assert device.ops.attach_ioas is not None
            ret = device.ops.attach_ioas(device, pt_id)
        if ret:
            return ret

        if copy_to_user(arg + vfio_device_attach_iommufd_pt.pt_id.offset, pt_id[0].to_bytes(4, "big"), 4):
            # out_detach:
            assert device.ops.detach_ioas is not None
            device.ops.detach_ioas(device)
            return -errno.EFAULT
        return 0
    finally:
        mutex_unlock(device.dev_set.lock)


def vfio_df_ioctl_detach_pt(df: vfio_device_file, arg: int) -> int:
    """``VFIO_DEVICE_DETACH_IOMMUFD_PT``."""
    detach = vfio_device_detach_iommufd_pt()
    device = df.device
    minsz = offsetofend(vfio_device_detach_iommufd_pt, "flags")
    xend = 0
    assert device.dev_set is not None and device.ops is not None

    if copy_from_user(detach, arg, minsz):
        return -errno.EFAULT

    if detach.argsz < minsz:
        return -errno.EINVAL

    if detach.flags & ~VFIO_DEVICE_DETACH_PASID:
        return -errno.EINVAL

    if detach.flags & VFIO_DEVICE_DETACH_PASID:
        if device.ops.pasid_detach_ioas is None:
            return -errno.EOPNOTSUPP
        xend = offsetofend(vfio_device_detach_iommufd_pt, "pasid")

    if xend:
        if detach.argsz < xend:
            return -errno.EINVAL
        rest = (ctypes.c_char * (xend - minsz)).from_buffer(detach, minsz)
        if copy_from_user(rest, arg + minsz, xend - minsz):
            return -errno.EFAULT

    mutex_lock(device.dev_set.lock)
    if detach.flags & VFIO_DEVICE_DETACH_PASID:
        assert device.ops.pasid_detach_ioas is not None
        device.ops.pasid_detach_ioas(device, detach.pasid)
    else:
        assert device.ops.detach_ioas is not None
        device.ops.detach_ioas(device)
    mutex_unlock(device.dev_set.lock)

    return 0
