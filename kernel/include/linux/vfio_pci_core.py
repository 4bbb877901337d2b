"""include/linux/vfio_pci_core.h (Linux 7.1-rc4): the vfio-pci core's device structure
and the symbols the core exports to vfio-pci variant drivers.

No patch of the v17 series changes this header (v17 6/7 adds ``.reset_done`` to the
``vfio_pci_core_err_handlers`` table, which is defined in vfio_pci_core.c and only
declared here).

:class:`vfio_pci_core_device` keeps the members the ported code reads or writes.
Left out, with their users: the BAR map and mmap bookkeeping (``barmap``,
``bar_mmap_supported``, ``dummy_resources_list``: BAR space is not modelled), the
device-specific regions' ops (``region`` is a list; no region is ever registered on
this model), the ioeventfd list (``VFIO_DEVICE_IOEVENTFD`` is not ported), the MSI
permission bits, the SR-IOV members (``sriov_pf_core_dev``, ``sriov_pfs_item``,
``nb``: SR-IOV is not modelled), the dma-buf list (``CONFIG_VFIO_PCI_DMABUF`` is off),
``pm_save`` is kept although only a D3 transition fills it, ``pci_ops`` and
``cxl`` members.

``err_trigger`` and ``req_trigger`` are ``struct vfio_pci_eventfd __rcu *`` in C:
readers dereference them under ``rcu_read_lock()``, writers replace them under
``igate`` and free the old one after a grace period.  Here they are plain
attributes: a Python attribute read is atomic, and the old
:class:`vfio_pci_eventfd` is released (its eventfd reference put) at the replacement,
since no reader can keep a dereferenced wrapper past its own short read section in
this model.  ``ctx`` (an xarray of ``struct vfio_pci_irq_ctx``) is a ``dict``.

``vdev`` is the embedded ``struct vfio_device``; ``vdev.container`` points back here
(``container_of(core_vdev, struct vfio_pci_core_device, vdev)`` is
:func:`to_vfio_pci_core_device`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import attrs

from kernel.include.linux.vfio import vfio_device
from kernel.lib.eventfd import eventfd_ctx
from kernel.lib.mutex import Mutex
from kernel.lib.rwsem import rw_semaphore
from kernel.lib.spinlock import spinlock_t
from uapi.linux.vfio import VFIO_PCI_NUM_IRQS

if TYPE_CHECKING:
    from kernel.include.linux.pci import pci_dev

__all__ = [
    "VFIO_PCI_INDEX_TO_OFFSET",
    "VFIO_PCI_OFFSET_MASK",
    "VFIO_PCI_OFFSET_SHIFT",
    "VFIO_PCI_OFFSET_TO_INDEX",
    "to_vfio_pci_core_device",
    "vfio_pci_core_device",
    "vfio_pci_eventfd",
    "vfio_pci_region",
]

VFIO_PCI_OFFSET_SHIFT: Final = 40
VFIO_PCI_OFFSET_MASK: Final = (1 << VFIO_PCI_OFFSET_SHIFT) - 1


def VFIO_PCI_OFFSET_TO_INDEX(off: int) -> int:
    return off >> VFIO_PCI_OFFSET_SHIFT


def VFIO_PCI_INDEX_TO_OFFSET(index: int) -> int:
    return index << VFIO_PCI_OFFSET_SHIFT


@attrs.define(eq=False)
class vfio_pci_eventfd:
    """``struct vfio_pci_eventfd``: the RCU-managed wrapper around an eventfd context
    (``rcu`` head left out, see the module docstring)."""

    ctx: eventfd_ctx


@attrs.define(eq=False)
class vfio_pci_region:
    """``struct vfio_pci_region``: a device-specific region (none is registered on
    this model; the type exists for ``num_regions``/``region``)."""

    type: int = 0
    subtype: int = 0
    ops: Any = None
    data: Any = None
    size: int = 0
    flags: int = 0


@attrs.define(eq=False)
class vfio_pci_core_device:
    """``struct vfio_pci_core_device``."""

    vdev: vfio_device = attrs.field(factory=vfio_device)
    pdev: pci_dev | None = None
    vconfig: bytearray | None = None
    pci_config_map: bytearray | None = None
    irqlock: spinlock_t = attrs.field(factory=lambda: spinlock_t("&vdev->irqlock"))
    igate: Mutex = attrs.field(factory=lambda: Mutex("&vdev->igate"))
    ctx: dict[int, Any] = attrs.field(factory=dict)
    num_ctx: int = 0
    irq_type: int = VFIO_PCI_NUM_IRQS
    num_regions: int = 0
    region: list[vfio_pci_region] | None = None
    msi_qmax: int = 0
    msix_bar: int = 0
    msix_size: int = 0
    msix_offset: int = 0
    rbar: list[int] = attrs.field(factory=lambda: [0] * 7)
    has_dyn_msix: bool = False
    pci_2_3: bool = False
    virq_disabled: bool = False
    reset_works: bool = False
    extended_caps: bool = False
    bardirty: bool = False
    has_vga: bool = False
    needs_reset: bool = False
    nointx: bool = False
    needs_pm_restore: bool = False
    pm_intx_masked: bool = False
    pm_runtime_engaged: bool = False
    pm_wake_eventfd_ctx: eventfd_ctx | None = None
    pm_save: Any = None
    pci_saved_state: Any = None
    ioeventfds_nr: int = 0
    err_trigger: vfio_pci_eventfd | None = None
    req_trigger: vfio_pci_eventfd | None = None
    vf_token: Any = None  # struct vfio_pci_vf_token *: only a SR-IOV PF has one
    memory_lock: rw_semaphore = attrs.field(factory=lambda: rw_semaphore("&vdev->memory_lock"))

    def __attrs_post_init__(self) -> None:
        self.vdev.container = self


def to_vfio_pci_core_device(core_vdev: vfio_device) -> vfio_pci_core_device:
    """``container_of(core_vdev, struct vfio_pci_core_device, vdev)``.  Exists only
    in Python (C spells the macro at each use)."""
    vdev = core_vdev.container
    if not isinstance(vdev, vfio_pci_core_device):
        raise TypeError("vfio_device is not embedded in a vfio_pci_core_device")
    return vdev
