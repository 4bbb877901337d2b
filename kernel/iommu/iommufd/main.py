"""drivers/iommu/iommufd/main.c and device.c (Linux 7.1-rc4), reduced to the part
the vfio device cdev path needs: ``/dev/iommu`` opens an iommufd context,
``iommufd_ctx_from_fd()`` finds it from a descriptor userspace passes in
``VFIO_DEVICE_BIND_IOMMUFD``, and binding a device gives it an object id (the
``out_devid`` userspace sees).

Not modelled: IOAS and page tables (no ``IOMMU_IOAS_ALLOC`` and no other ioctl on
the iommufd; DMA translation is not part of the error-recovery series), so
:func:`iommufd_device_attach` answers -ENOENT for every id, as the kernel does for an
id that names no object; security checks of ``iommufd_device_bind()`` (group
ownership, MSI isolation) are left out.  No patch of the v17 series touches iommufd.
"""

from __future__ import annotations

import errno
import itertools
import threading

import attrs

from kernel.lib.device import device
from kernel.lib.errno import ERR_PTR, ErrPtr
from kernel.lib.fs import devnode_add, fget, file, file_operations, fput, get_file, inode
from kernel.lib.init import subsys_initcall

__all__ = [
    "iommufd_ctx",
    "iommufd_ctx_from_fd",
    "iommufd_ctx_put",
    "iommufd_device",
    "iommufd_device_attach",
    "iommufd_device_bind",
    "iommufd_device_detach",
    "iommufd_device_unbind",
    "iommufd_fops",
]


@attrs.define(eq=False)
class iommufd_ctx:
    """``struct iommufd_ctx``: ``objects`` is the id -> object xarray."""

    file: file | None = None
    objects: dict[int, object] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    next_id: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))


@attrs.define(eq=False)
class iommufd_device:
    """``struct iommufd_device``: a device bound to a context."""

    ictx: iommufd_ctx
    dev: device | None
    id: int


def iommufd_fops_open(inode: inode, filp: file) -> int:
    ictx = iommufd_ctx(file=filp)
    filp.private_data = ictx
    return 0


def iommufd_fops_release(inode: inode, filp: file) -> int:
    ictx: iommufd_ctx = filp.private_data
    with ictx.lock:
        ictx.objects.clear()
    return 0


iommufd_fops = file_operations(open=iommufd_fops_open, release=iommufd_fops_release)


def iommufd_ctx_from_fd(fd: int) -> iommufd_ctx | ErrPtr:
    """A reference to the context behind ``fd``: -EBADF if ``fd`` is not open,
    -EBADFD if it is not an iommufd."""
    filp = fget(fd)
    if filp is None:
        return ERR_PTR(-errno.EBADF)
    if filp.f_op is not iommufd_fops:
        fput(filp)
        return ERR_PTR(-errno.EBADFD)
    # the file reference taken by fget() is the context reference
    ctx: iommufd_ctx = filp.private_data
    return ctx


def iommufd_ctx_put(ictx: iommufd_ctx) -> None:
    assert ictx.file is not None
    fput(ictx.file)


def iommufd_device_bind(ictx: iommufd_ctx, dev: device | None, id: list[int]) -> iommufd_device | ErrPtr:
    """Bind ``dev`` to ``ictx``: a new device object, its id in ``id[0]``.  The
    object holds a reference on the context, as the kernel's does."""
    assert ictx.file is not None
    get_file(ictx.file)
    with ictx.lock:
        idev = iommufd_device(ictx=ictx, dev=dev, id=next(ictx.next_id))
        ictx.objects[idev.id] = idev
    id[0] = idev.id
    return idev


def iommufd_device_unbind(idev: iommufd_device) -> None:
    with idev.ictx.lock:
        idev.ictx.objects.pop(idev.id, None)
    iommufd_ctx_put(idev.ictx)


def iommufd_device_attach(idev: iommufd_device, pt_id: list[int]) -> int:
    """No IOAS or HWPT object can exist in this model: -ENOENT, the kernel's answer
    for an id that names no attachable object."""
    return -errno.ENOENT


def iommufd_device_detach(idev: iommufd_device) -> None:
    """Nothing is ever attached (see :func:`iommufd_device_attach`)."""


@subsys_initcall
def iommufd_init() -> int:
    """``misc_register()`` of the ``iommu`` misc device: ``/dev/iommu``."""
    return devnode_add("/dev/iommu", iommufd_fops, None)
