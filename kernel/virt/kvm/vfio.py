"""virt/kvm/vfio.c (Linux 7.1-rc4), reduced to the step that links a VM with a VFIO
device file: ``KVM_DEV_VFIO_FILE_ADD`` on KVM's "kvm-vfio" pseudo device.

A VMM (QEMU) creates the kvm-vfio device on its VM and, for each VFIO device file it
will hand to the guest, calls ``ioctl(kvm_vfio_fd, KVM_SET_DEVICE_ATTR,
{KVM_DEV_VFIO_FILE, KVM_DEV_VFIO_FILE_ADD, &fd})`` **before** the device file is bound
to an iommufd (which opens the device).  The kernel then calls
``vfio_file_set_kvm(file, kvm)``; vfio hands the VM to ``vfio_device::kvm`` at the
first open, and vfio-pci's zPCI open (``vfio_pci_zdev_open_device()``) registers the
function with that VM (``zdev->kzdev``).

Only :func:`kvm_vfio_file_add` and :func:`kvm_vfio_file_del` are modelled, called
directly with the VM and the descriptor (the ``/dev/kvm`` file, VM file and the
device-attribute ioctl plumbing are not modelled).  Left out: the group file path
(``CONFIG_VFIO_GROUP`` is not built), the file list and its lock, the
no-snoop/coherency update and ``kvm_vfio_update_coherency()``, the SPAPR TCE attribute.
"""

from __future__ import annotations

import errno
from typing import Any

from kernel.lib.fs import fget, fput
from kernel.vfio.vfio_main import vfio_file_is_valid, vfio_file_set_kvm

__all__ = ["kvm_vfio_file_add", "kvm_vfio_file_del"]


def kvm_vfio_file_add(kvm: Any, fd: int) -> int:
    """Link ``kvm`` with the VFIO file open as ``fd``: -EBADF for a descriptor that
    is not open in the model, -EINVAL for a file that is not a VFIO file."""
    filp = fget(fd)
    if filp is None:
        return -errno.EBADF

    try:
        # Ensure the FD is a vfio FD.
        if not vfio_file_is_valid(filp):
            return -errno.EINVAL

        vfio_file_set_kvm(filp, kvm)
        return 0
    finally:
        fput(filp)


def kvm_vfio_file_del(kvm: Any, fd: int) -> int:
    """Undo :func:`kvm_vfio_file_add` (``KVM_DEV_VFIO_FILE_DEL``)."""
    filp = fget(fd)
    if filp is None:
        return -errno.EBADF

    try:
        if not vfio_file_is_valid(filp):
            return -errno.EINVAL
        vfio_file_set_kvm(filp, None)
        return 0
    finally:
        fput(filp)
