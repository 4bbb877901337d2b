"""drivers/vfio/vfio.h (Linux 7.1-rc4): the VFIO core's private types.

Only ``struct vfio_device_file`` (an open device descriptor) is needed: this model
builds VFIO with ``CONFIG_VFIO_DEVICE_CDEV`` and without ``CONFIG_VFIO_GROUP``
(see kernel/vfio/vfio_main.py), so ``group`` is always None.  Not changed by the
v17 series.
"""

from __future__ import annotations

from typing import Any

import attrs

from kernel.include.linux.vfio import vfio_device
from kernel.lib.spinlock import spinlock_t

__all__ = ["vfio_device_file"]


@attrs.define(eq=False)
class vfio_device_file:
    """``struct vfio_device_file``: the private data of an open device file."""

    device: vfio_device
    group: Any = None
    access_granted: bool = False
    devid: int = 0
    kvm_ref_lock: spinlock_t = attrs.field(factory=lambda: spinlock_t("&df->kvm_ref_lock"))
    kvm: Any = None
    iommufd: Any = None
