"""include/linux/vfio.h (Linux 7.1-rc4): the VFIO core's driver API.

Read from legoater/linux @ 0dace9cdb9f5, include/linux/vfio.h.  No patch of the
v17 series changes this header; v17 5/7's new feature handler calls
:func:`vfio_check_feature` from here.

* :class:`vfio_device_set`, :class:`vfio_device`: attrs classes with the C member
  names.  Left out of ``vfio_device``: the group links (this model builds without
  ``CONFIG_VFIO_GROUP``, see ``kernel/vfio/vfio_main.py``), ``inode`` (mmap address
  space), ``pasids``, ``debug_root``.  ``refcount`` (``refcount_t``, the user count
  of a registered device) is a :class:`~kernel.lib.kref.kref` that starts at 0 and
  is set to 1 at registration, as ``refcount_set(&device->refcount, 1)`` does;
  ``comp`` (``struct completion``) is a ``threading.Event``.  ``container`` exists
  only in Python: the structure that embeds this ``vfio_device`` (``struct
  vfio_pci_core_device`` embeds it as ``vdev``), i.e. what ``container_of()`` finds.
* :class:`vfio_device_ops`: the callback table a bus driver fills in, one optional
  callable per C function pointer, with the C signatures (a ``__user`` pointer is an
  ``int`` address, ``loff_t *`` a one-element ``list[int]``, ``u32 *out_device_id``
  a one-element ``list[int]``).
* :func:`vfio_check_feature` with its exact return values.
* :class:`vfio_info_cap`: the capability-chain buffer (``buf`` is a ``bytearray``).

The ``vfio_alloc_device()`` macro is :func:`kernel.vfio.vfio_main.vfio_alloc_device`
(a header here imports nothing from a ``.c`` module).  The migration and DMA-logging
op tables are not modelled: vfio-pci on s390 has neither, so ``mig_ops`` and
``log_ops`` stay ``None``.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Any

import attrs

from kernel.lib.device import device, put_device
from kernel.lib.kref import kref
from kernel.lib.mutex import Mutex
from uapi.linux.vfio import (
    VFIO_DEVICE_FEATURE_GET,
    VFIO_DEVICE_FEATURE_PROBE,
    VFIO_DEVICE_FEATURE_SET,
    vfio_region_info,
)

__all__ = [
    "vfio_check_feature",
    "vfio_device",
    "vfio_device_cdev_opened",
    "vfio_device_ops",
    "vfio_device_set",
    "vfio_info_cap",
    "vfio_put_device",
]


def _zero_kref() -> kref:
    k = kref()
    k.refcount = 0
    return k


@attrs.define(eq=False)
class vfio_device_set:
    """Devices that share ``lock``, held by the VFIO core around every
    ``open_device()``/``close_device()`` of a device in the set."""

    set_id: object
    lock: Mutex = attrs.field(factory=lambda: Mutex("&dev_set->lock"))
    device_list: list[vfio_device] = attrs.field(factory=list)
    device_count: int = 0


@attrs.define(eq=False)
class vfio_device_ops:
    """``struct vfio_device_ops``: VFIO bus driver device callbacks."""

    name: str
    init: Callable[[vfio_device], int] | None = None
    release: Callable[[vfio_device], None] | None = None
    bind_iommufd: Callable[[vfio_device, Any, list[int]], int] | None = None
    unbind_iommufd: Callable[[vfio_device], None] | None = None
    attach_ioas: Callable[[vfio_device, list[int]], int] | None = None
    detach_ioas: Callable[[vfio_device], None] | None = None
    pasid_attach_ioas: Callable[[vfio_device, int, list[int]], int] | None = None
    pasid_detach_ioas: Callable[[vfio_device, int], None] | None = None
    open_device: Callable[[vfio_device], int] | None = None
    close_device: Callable[[vfio_device], None] | None = None
    read: Callable[[vfio_device, int, int, list[int]], int] | None = None
    write: Callable[[vfio_device, int, int, list[int]], int] | None = None
    ioctl: Callable[[vfio_device, int, int], int] | None = None
    get_region_info_caps: Callable[[vfio_device, vfio_region_info, vfio_info_cap], int] | None = None
    mmap: Callable[[vfio_device, Any], int] | None = None
    request: Callable[[vfio_device, int], None] | None = None
    match: Callable[[vfio_device, str], int] | None = None
    match_token_uuid: Callable[[vfio_device, bytes | None], int] | None = None
    dma_unmap: Callable[[vfio_device, int, int], None] | None = None
    device_feature: Callable[[vfio_device, int, int, int], int] | None = None
    get_mapping_order: Callable[[vfio_device, int, int], int] | None = None


@attrs.define(eq=False)
class vfio_device:
    """``struct vfio_device``, the VFIO core's view of a device a bus driver
    exposes to userspace."""

    dev: device | None = None
    ops: vfio_device_ops | None = None
    mig_ops: Any = None
    log_ops: Any = None
    dev_set: vfio_device_set | None = None
    migration_flags: int = 0
    precopy_info_v2: int = 0
    kvm: Any = None
    # Members below here are private, not for driver use
    index: int = 0
    device: device = attrs.field(factory=device)
    refcount: kref = attrs.field(factory=_zero_kref)
    open_count: int = 0
    comp: threading.Event = attrs.field(factory=threading.Event)
    iommufd_access: Any = None
    put_kvm: Callable[[Any], None] | None = None
    iommufd_device: Any = None
    iommufd_attached: bool = False
    cdev_opened: bool = False
    container: Any = None


def vfio_device_cdev_opened(device: vfio_device) -> bool:
    return device.cdev_opened


def vfio_check_feature(flags: int, argsz: int, supported_ops: int, minsz: int) -> int:
    """Validate a ``VFIO_DEVICE_FEATURE`` request for a driver's feature: -EINVAL
    for a GET/SET the feature does not support, 0 for a valid PROBE, -EINVAL when
    neither GET nor SET is asked (without PROBE) or ``argsz < minsz``, else 1 (the
    driver goes on and does the GET or SET)."""
    if (flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~supported_ops:
        return -errno.EINVAL
    if flags & VFIO_DEVICE_FEATURE_PROBE:
        return 0
    # without PROBE, exactly what to do must be said: GET or SET
    if not flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET):
        return -errno.EINVAL
    if argsz < minsz:
        return -errno.EINVAL
    return 1


def vfio_put_device(device: vfio_device) -> None:
    put_device(device.device)


@attrs.define(eq=False)
class vfio_info_cap:
    """``struct vfio_info_cap``: a capability chain being built, ``size`` bytes in
    ``buf``."""

    buf: bytearray | None = None
    size: int = 0
