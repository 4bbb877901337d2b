"""drivers/vfio/pci/vfio_pci.c (Linux 7.1-rc4): the vfio-pci driver, the PCI driver
that hands a function to userspace through the vfio-pci core.

Read from legoater/linux @ 82a72b42eb45, drivers/vfio/pci/vfio_pci.c.  Not changed by the
v17 series (vfio-pci's error handler table is the core's
``vfio_pci_core_err_handlers``, which v17 6/7 extends).

How a function gets to vfio-pci instead of a host driver: the id table has one entry
that matches every device but only through ``driver_override``
(``PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_ANY_ID, PCI_ANY_ID)``), so vfio-pci never
grabs a device on its own.  Userspace names it, as on a real host::

    echo vfio-pci > /sys/bus/pci/devices/<dev>/driver_override
    echo <dev>   > /sys/bus/pci/drivers/<host driver>/unbind     (if one is bound)
    echo <dev>   > /sys/bus/pci/drivers_probe

which are :func:`kernel.pci.pci_driver.driver_override_store`,
``unbind_store`` and ``drivers_probe_store``.  :func:`vfio_pci_probe` then registers
a vfio device: ``/dev/vfio/devices/vfio<N>`` appears.

Left out: the module parameters other than their defaults (``ids=``, ``nointxmask``,
``disable_vga``, ``disable_idle_d3``, ``enable_sriov``, ``disable_denylist``: all
off/empty), ``vfio_pci_fill_ids()`` (dynamic ids are not modelled),
``sriov_configure`` (SR-IOV is not modelled), the IGD region (x86), and the ops the
model does not implement: ``mmap``, ``match``/``match_token_uuid``
(VF tokens), ``get_mapping_order``, the PASID ops and the dma-buf ``pci_ops``.
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.include.linux.pci import PCI_ANY_ID, pci_dev, pci_device_id, pci_driver
from kernel.include.linux.vfio import vfio_device, vfio_device_ops, vfio_put_device
from kernel.include.linux.vfio_pci_core import to_vfio_pci_core_device, vfio_pci_core_device
from kernel.lib.device import dev_get_drvdata, dev_set_drvdata
from kernel.lib.errno import IS_ERR
from kernel.lib.init import module_init
from kernel.lib.printk import pci_warn
from kernel.pci.pci_driver import pci_register_driver
from kernel.vfio.iommufd import (
    vfio_iommufd_physical_attach_ioas,
    vfio_iommufd_physical_bind,
    vfio_iommufd_physical_detach_ioas,
    vfio_iommufd_physical_unbind,
)
from kernel.vfio.pci.vfio_pci_core import (
    vfio_pci_core_close_device,
    vfio_pci_core_disable,
    vfio_pci_core_enable,
    vfio_pci_core_err_handlers,
    vfio_pci_core_finish_enable,
    vfio_pci_core_init_dev,
    vfio_pci_core_ioctl,
    vfio_pci_core_ioctl_feature,
    vfio_pci_core_read,
    vfio_pci_core_register_device,
    vfio_pci_core_release_dev,
    vfio_pci_core_request,
    vfio_pci_core_unregister_device,
    vfio_pci_core_write,
    vfio_pci_ioctl_get_region_info,
)
from kernel.vfio.pci.vfio_pci_priv import vfio_pci_igd_init, vfio_pci_is_intel_display
from kernel.vfio.vfio_main import vfio_alloc_device

__all__ = ["vfio_pci_driver", "vfio_pci_ops", "vfio_pci_probe", "vfio_pci_remove"]


def pr_fmt(fmt: str) -> str:
    return "vfio_pci: " + fmt


disable_denylist = False

#: include/linux/pci.h: ``PCI_ID_F_VFIO_DRIVER_OVERRIDE``
PCI_ID_F_VFIO_DRIVER_OVERRIDE: Final = 1

#: include/linux/pci_ids.h: the Intel QAT / DSA / IAX device ids of the denylist
PCI_VENDOR_ID_INTEL: Final = 0x8086
_DENYLIST_INTEL: Final = (
    0x19E2,  # PCI_DEVICE_ID_INTEL_QAT_C3XXX
    0x19E3,  # PCI_DEVICE_ID_INTEL_QAT_C3XXX_VF
    0x37C8,  # PCI_DEVICE_ID_INTEL_QAT_C62X
    0x37C9,  # PCI_DEVICE_ID_INTEL_QAT_C62X_VF
    0x0435,  # PCI_DEVICE_ID_INTEL_QAT_DH895XCC
    0x0443,  # PCI_DEVICE_ID_INTEL_QAT_DH895XCC_VF
    0x0B25,  # PCI_DEVICE_ID_INTEL_DSA_SPR0
    0x0CFE,  # PCI_DEVICE_ID_INTEL_IAX_SPR0
)


def vfio_pci_dev_in_denylist(pdev: pci_dev) -> bool:
    if pdev.vendor == PCI_VENDOR_ID_INTEL:
        return pdev.device in _DENYLIST_INTEL
    return False


def vfio_pci_is_denylisted(pdev: pci_dev) -> bool:
    if not vfio_pci_dev_in_denylist(pdev):
        return False

    if disable_denylist:
        pci_warn(pdev, "device denylist disabled - allowing device %04x:%04x.\n", pdev.vendor, pdev.device)
        return False

    pci_warn(
        pdev,
        "%04x:%04x exists in vfio-pci device denylist, driver probing disallowed.\n",
        pdev.vendor,
        pdev.device,
    )

    return True


def vfio_pci_open_device(core_vdev: vfio_device) -> int:
    vdev = to_vfio_pci_core_device(core_vdev)
    pdev = vdev.pdev
    assert pdev is not None

    ret = vfio_pci_core_enable(vdev)
    if ret:
        return ret

    if vfio_pci_is_intel_display(pdev):
        ret = vfio_pci_igd_init(vdev)
        if ret and ret != -errno.ENODEV:
            pci_warn(pdev, "Failed to setup Intel IGD regions\n")
            vfio_pci_core_disable(vdev)
            return ret

    vfio_pci_core_finish_enable(vdev)

    return 0


#: ``static const struct vfio_device_ops vfio_pci_ops`` (the ops this model
#: implements; see the module docstring for the others).
vfio_pci_ops = vfio_device_ops(
    name="vfio-pci",
    init=vfio_pci_core_init_dev,
    release=vfio_pci_core_release_dev,
    open_device=vfio_pci_open_device,
    close_device=vfio_pci_core_close_device,
    ioctl=vfio_pci_core_ioctl,
    read=vfio_pci_core_read,
    write=vfio_pci_core_write,
    get_region_info_caps=vfio_pci_ioctl_get_region_info,
    device_feature=vfio_pci_core_ioctl_feature,
    request=vfio_pci_core_request,
    bind_iommufd=vfio_iommufd_physical_bind,
    unbind_iommufd=vfio_iommufd_physical_unbind,
    attach_ioas=vfio_iommufd_physical_attach_ioas,
    detach_ioas=vfio_iommufd_physical_detach_ioas,
)


def vfio_pci_probe(pdev: pci_dev, id: pci_device_id | None) -> int:
    if vfio_pci_is_denylisted(pdev):
        return -errno.EINVAL

    vdev = vfio_alloc_device(vfio_pci_core_device, "vdev", pdev.dev, vfio_pci_ops)
    if IS_ERR(vdev):
        return vdev.err
    assert isinstance(vdev, vfio_pci_core_device)

    dev_set_drvdata(pdev.dev, vdev)
    ret = vfio_pci_core_register_device(vdev)
    if ret:
        vfio_put_device(vdev.vdev)  # out_put_vdev:
        return ret
    return 0


def vfio_pci_remove(pdev: pci_dev) -> None:
    vdev: vfio_pci_core_device = dev_get_drvdata(pdev.dev)

    vfio_pci_core_unregister_device(vdev)
    vfio_put_device(vdev.vdev)


#: ``vfio_pci_table[]``: match all by default, but only through driver_override.
vfio_pci_table = [
    pci_device_id(
        vendor=PCI_ANY_ID,
        device=PCI_ANY_ID,
        subvendor=PCI_ANY_ID,
        subdevice=PCI_ANY_ID,
        override_only=PCI_ID_F_VFIO_DRIVER_OVERRIDE,
    ),
    pci_device_id(vendor=0, device=0, subvendor=0, subdevice=0),
]

vfio_pci_driver = pci_driver(
    name="vfio-pci",
    id_table=vfio_pci_table,
    probe=vfio_pci_probe,
    remove=vfio_pci_remove,
    err_handler=vfio_pci_core_err_handlers,
    driver_managed_dma=True,
)


@module_init
def vfio_pci_init() -> int:
    # vfio_pci_core_set_params(): the defaults; vfio_pci_fill_ids(): no ids=

    # Register and scan for devices
    return pci_register_driver(vfio_pci_driver)


def vfio_pci_vdev(pdev: pci_dev) -> vfio_pci_core_device | None:
    """The vfio-pci device of ``pdev`` if vfio-pci is bound to it.  Exists only in
    Python, for tests and the model's userspace tools (what ``/sys/bus/pci/devices/
    <dev>/vfio-dev/vfio<N>`` tells a real program)."""
    if pdev.driver is not vfio_pci_driver:
        return None
    vdev = dev_get_drvdata(pdev.dev)
    return vdev if isinstance(vdev, vfio_pci_core_device) else None
