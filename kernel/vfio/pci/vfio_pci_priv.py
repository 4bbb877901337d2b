"""drivers/vfio/pci/vfio_pci_priv.h (Linux 7.1-rc4 with the v17 series): vfio-pci's
private header.

Base text: legoater/linux @ 52fde020a283, drivers/vfio/pci/vfio_pci_priv.h, without the
old-series ``vfio_pci_zdev_feature_err`` declarations and with the
``vfio_pci_config_rw_single()`` declaration added: the pre-image of v17 5/7
(blob fca9d0dfac90).  v17 5/7 adds ``vfio_pci_zdev_feature_err()`` to the
``CONFIG_VFIO_PCI_ZDEV_KVM`` block and an ``-ENOTTY`` stub to its ``#else``.

Where each prototype lives in this port (a header imports no ``.c`` module):
``vfio_pci_eventfd_replace_locked``, ``vfio_pci_set_power_state``,
``vfio_pci_zap_and_down_write_memory_lock``, ``vfio_pci_memory_lock_and_enable``,
``vfio_pci_memory_unlock_and_restore`` -> :mod:`kernel.vfio.pci.vfio_pci_core`;
``vfio_pci_intx_mask``, ``vfio_pci_intx_unmask``, ``vfio_pci_set_irqs_ioctl`` ->
:mod:`kernel.vfio.pci.vfio_pci_intrs`; ``vfio_config_init``, ``vfio_config_free`` ->
:mod:`kernel.vfio.pci.vfio_pci_config`.  ``vfio_pci_config_rw``,
``vfio_pci_config_rw_single``, ``vfio_pci_bar_rw``, ``vfio_pci_ioeventfd`` and the
permission-bit setup are not ported (see vfio_pci_core.py).

The ``#ifdef`` blocks.  C picks a branch when the kernel is compiled; this model picks
it when the function is called, with ``IS_ENABLED()``, so that a test can boot
"another kernel" with ``start_kernel(CONFIG_VFIO_PCI_ZDEV_KVM=False)``:

* ``CONFIG_VFIO_PCI_ZDEV_KVM`` (y on s390 with KVM): the four zdev functions are
  :mod:`kernel.vfio.pci.vfio_pci_zdev`'s (imported at call time, as the linker
  resolves them); otherwise the ``static inline`` stubs: add_caps ``-ENODEV``, open
  ``0``, close does nothing, the error feature ``-ENOTTY``.
* ``CONFIG_VFIO_PCI_VGA`` and ``CONFIG_VFIO_PCI_IGD`` are x86 options, off on s390:
  only their stubs exist.
* ``CONFIG_VFIO_PCI_DMABUF`` is off in this model's configuration (it needs real
  DMA and P2P memory): only the stubs exist; booting with it on is not supported.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Final

from kernel.lib.kconfig import CONFIG_VFIO_PCI_DMABUF, CONFIG_VFIO_PCI_ZDEV_KVM, IS_ENABLED

if TYPE_CHECKING:
    from kernel.include.linux.pci import pci_dev
    from kernel.include.linux.vfio import vfio_device, vfio_info_cap
    from kernel.include.linux.vfio_pci_core import vfio_pci_core_device

__all__ = [
    "PCI_CAP_ID_INVALID",
    "PCI_CAP_ID_INVALID_VIRT",
    "VFIO_PCI_IOEVENTFD_MAX",
    "vfio_pci_core_feature_dma_buf",
    "vfio_pci_dma_buf_cleanup",
    "vfio_pci_dma_buf_move",
    "vfio_pci_igd_init",
    "vfio_pci_info_zdev_add_caps",
    "vfio_pci_is_intel_display",
    "vfio_pci_is_vga",
    "vfio_pci_vga_rw",
    "vfio_pci_zdev_close_device",
    "vfio_pci_zdev_feature_err",
    "vfio_pci_zdev_open_device",
]

# Special capability IDs predefined access
PCI_CAP_ID_INVALID: Final = 0xFF  # default raw access
PCI_CAP_ID_INVALID_VIRT: Final = 0xFE  # default virt access

# Cap maximum number of ioeventfds per device (arbitrary)
VFIO_PCI_IOEVENTFD_MAX: Final = 1000

#: include/linux/pci_ids.h
PCI_CLASS_DISPLAY_VGA: Final = 0x0300


def vfio_pci_vga_rw(vdev: vfio_pci_core_device, buf: int, count: int, ppos: list[int], iswrite: bool) -> int:
    """The ``!CONFIG_VFIO_PCI_VGA`` stub."""
    return -errno.EINVAL


def vfio_pci_is_intel_display(pdev: pci_dev) -> bool:
    """The ``!CONFIG_VFIO_PCI_IGD`` stub."""
    return False


def vfio_pci_igd_init(vdev: vfio_pci_core_device) -> int:
    """The ``!CONFIG_VFIO_PCI_IGD`` stub."""
    return -errno.ENODEV


def vfio_pci_info_zdev_add_caps(vdev: vfio_pci_core_device, caps: vfio_info_cap) -> int:
    if IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM):
        from kernel.vfio.pci import vfio_pci_zdev

        return vfio_pci_zdev.vfio_pci_info_zdev_add_caps(vdev, caps)
    return -errno.ENODEV


def vfio_pci_zdev_open_device(vdev: vfio_pci_core_device) -> int:
    if IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM):
        from kernel.vfio.pci import vfio_pci_zdev

        return vfio_pci_zdev.vfio_pci_zdev_open_device(vdev)
    return 0


def vfio_pci_zdev_close_device(vdev: vfio_pci_core_device) -> None:
    if IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM):
        from kernel.vfio.pci import vfio_pci_zdev

        vfio_pci_zdev.vfio_pci_zdev_close_device(vdev)


def vfio_pci_zdev_feature_err(device: vfio_device, flags: int, arg: int, argsz: int) -> int:
    if IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM):
        from kernel.vfio.pci import vfio_pci_zdev

        return vfio_pci_zdev.vfio_pci_zdev_feature_err(device, flags, arg, argsz)
    return -errno.ENOTTY


def vfio_pci_is_vga(pdev: pci_dev) -> bool:
    return (pdev.class_ >> 8) == PCI_CLASS_DISPLAY_VGA


def vfio_pci_core_feature_dma_buf(vdev: vfio_pci_core_device, flags: int, arg: int, argsz: int) -> int:
    """The ``!CONFIG_VFIO_PCI_DMABUF`` stub."""
    assert not IS_ENABLED(CONFIG_VFIO_PCI_DMABUF), "this model builds without CONFIG_VFIO_PCI_DMABUF"
    return -errno.ENOTTY


def vfio_pci_dma_buf_cleanup(vdev: vfio_pci_core_device) -> None:
    """The ``!CONFIG_VFIO_PCI_DMABUF`` stub."""


def vfio_pci_dma_buf_move(vdev: vfio_pci_core_device, revoked: bool) -> None:
    """The ``!CONFIG_VFIO_PCI_DMABUF`` stub."""
