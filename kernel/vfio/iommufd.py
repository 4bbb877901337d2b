"""drivers/vfio/iommufd.c: VFIO's side of iommufd, as far as the cdev path and
vfio-pci need it.

Read from torvalds/linux @ 0a782d15e1d4, drivers/vfio/iommufd.c, an older text in
which the group-path ``vfio_iommufd_bind()`` still lived here.  7.1's cdev path
calls :func:`vfio_df_iommufd_bind`/:func:`vfio_df_iommufd_unbind` from
``vfio_df_device_first_open()``/``..._last_close()``; they are the driver-op part of
that older ``vfio_iommufd_bind()`` (``ops->bind_iommufd(vdev, ictx, &id)``,
``ops->unbind_iommufd(vdev)``) with the device id kept in the file (``df->devid``)
for ``out_devid``.  The compat-IOAS attach of the group path and the noiommu case
are not built (no CONFIG_VFIO_GROUP, no CONFIG_VFIO_NOIOMMU).  The physical-device
ops are what vfio-pci puts in its ``vfio_device_ops``.  Not changed by the v17
series.
"""

from __future__ import annotations

import errno

from kernel.include.linux.vfio import vfio_device
from kernel.iommu.iommufd.main import (
    iommufd_ctx,
    iommufd_device_attach,
    iommufd_device_bind,
    iommufd_device_detach,
    iommufd_device_unbind,
)
from kernel.lib.bug import WARN_ON
from kernel.lib.errno import IS_ERR
from kernel.lib.mutex import lockdep_assert_held
from kernel.vfio.vfio import vfio_device_file

__all__ = [
    "vfio_df_iommufd_bind",
    "vfio_df_iommufd_unbind",
    "vfio_iommufd_physical_attach_ioas",
    "vfio_iommufd_physical_bind",
    "vfio_iommufd_physical_detach_ioas",
    "vfio_iommufd_physical_unbind",
]


def vfio_df_iommufd_bind(df: vfio_device_file) -> int:
    vdev = df.device
    ictx = df.iommufd
    assert vdev.dev_set is not None and vdev.ops is not None

    lockdep_assert_held(vdev.dev_set.lock)

    if WARN_ON(vdev.ops.bind_iommufd is None):
        return -errno.ENODEV
    assert vdev.ops.bind_iommufd is not None

    devid = [0]
    ret = vdev.ops.bind_iommufd(vdev, ictx, devid)
    if ret:
        return ret
    df.devid = devid[0]
    return 0


def vfio_df_iommufd_unbind(df: vfio_device_file) -> None:
    vdev = df.device
    assert vdev.dev_set is not None and vdev.ops is not None

    lockdep_assert_held(vdev.dev_set.lock)

    if vdev.ops.unbind_iommufd is not None:
        vdev.ops.unbind_iommufd(vdev)


def vfio_iommufd_physical_bind(vdev: vfio_device, ictx: iommufd_ctx, out_device_id: list[int]) -> int:
    """Bind the physical device ``vdev->dev`` to ``ictx``."""
    idev = iommufd_device_bind(ictx, vdev.dev, out_device_id)
    if IS_ERR(idev):
        return idev.err
    vdev.iommufd_device = idev
    return 0


def vfio_iommufd_physical_unbind(vdev: vfio_device) -> None:
    assert vdev.dev_set is not None
    lockdep_assert_held(vdev.dev_set.lock)

    if vdev.iommufd_attached:
        iommufd_device_detach(vdev.iommufd_device)
        vdev.iommufd_attached = False
    iommufd_device_unbind(vdev.iommufd_device)
    vdev.iommufd_device = None


def vfio_iommufd_physical_attach_ioas(vdev: vfio_device, pt_id: list[int]) -> int:
    rc = iommufd_device_attach(vdev.iommufd_device, pt_id)
    if rc:
        return rc
    vdev.iommufd_attached = True
    return 0


def vfio_iommufd_physical_detach_ioas(vdev: vfio_device) -> None:
    """Undo :func:`vfio_iommufd_physical_attach_ioas` (a no-op when nothing is
    attached)."""
    assert vdev.dev_set is not None
    lockdep_assert_held(vdev.dev_set.lock)

    if WARN_ON(not vdev.iommufd_device) or not vdev.iommufd_attached:
        return

    iommufd_device_detach(vdev.iommufd_device)
    vdev.iommufd_attached = False
