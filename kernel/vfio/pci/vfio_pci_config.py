"""drivers/vfio/pci/vfio_pci_config.c (Linux 7.1-rc4), the part the device open path
needs: the virtual copy of config space (``vconfig``) and its map.

Read from legoater/linux @ 2a3eb3a9c951 (archive id 71621215591, a tree newer than
7.1 that adds CXL DVSEC virtualisation; the CXL step is not part of 7.1 and is left
out) and, for ``vfio_fill_vconfig_bytes()``, the same function in the older
torvalds/linux text (archive id 22299490).  Not changed by the v17 series.

Ported: :func:`__vfio_pci_memory_enabled`, :func:`vfio_fill_vconfig_bytes`,
:func:`vfio_config_init` (the standard header: BAR copies for restore, the VF
vendor/device and INTx pin fix-ups, Memory enable for ``no_command_memory``
devices, the INTx pin hidden when the function has no INTx), :func:`vfio_config_free`.

Not ported, and why: the permission tables (``vfio_pci_init_perm_bits()`` and the
per-capability read/write handlers), the capability and extended-capability walks
(``vfio_cap_init()``, ``vfio_ecap_init()``), and the config region's read/write path
(``vfio_pci_config_rw()``, ``vfio_pci_config_rw_single()``).  They make up most of
this 2000-line file and only serve the ``VFIO_PCI_CONFIG_REGION_INDEX`` read/write of
the device file, which the error-recovery flow does not use.  Consequently the map
marks every byte past the standard header ``PCI_CAP_ID_INVALID`` (C would mark the
capabilities it finds), and the device file's read/write are not wired up
(kernel/vfio/pci/vfio_pci.py).
"""

from __future__ import annotations

import struct
from typing import Final

from kernel.include.linux.pci import PCI_D3hot, pcibios_err_to_errno
from kernel.include.linux.vfio_pci_core import vfio_pci_core_device
from kernel.lib.kconfig import IS_ENABLED
from kernel.lib.printk import pci_warn
from kernel.pci.access import pci_read_config_byte, pci_read_config_dword, pci_read_config_word
from kernel.vfio.pci.vfio_pci_priv import PCI_CAP_ID_INVALID
from uapi.linux.pci_regs import (
    PCI_BASE_ADDRESS_0,
    PCI_COMMAND,
    PCI_COMMAND_MEMORY,
    PCI_DEVICE_ID,
    PCI_INTERRUPT_PIN,
    PCI_ROM_ADDRESS,
    PCI_STD_HEADER_SIZEOF,
    PCI_VENDOR_ID,
)

__all__ = ["__vfio_pci_memory_enabled", "vfio_config_free", "vfio_config_init"]

#: drivers/vfio/pci/vfio_pci_config.c: the standard header's map id.
PCI_CAP_ID_BASIC: Final = 0

#: include/linux/interrupt.h: an interrupt line that is wired to nothing.
IRQ_NOTCONNECTED: Final = 1 << 31

#: include/linux/pci_ids.h
PCI_VENDOR_ID_INTEL: Final = 0x8086

#: ``known_bogus_vf_intx_pin[]``: (vendor, device) of VFs known to report a pin.
known_bogus_vf_intx_pin: Final = ((PCI_VENDOR_ID_INTEL, 0x270C),)


def vfio_fill_vconfig_bytes(vdev: vfio_pci_core_device, offset: int, size: int) -> int:
    """Copy ``size`` bytes of the device's config space at ``offset`` into
    ``vconfig`` (little-endian, as config space is), in the largest aligned chunks.
    Returns 0 or the accessor's PCIBIOS_* code."""
    pdev = vdev.pdev
    vconfig = vdev.vconfig
    assert pdev is not None and vconfig is not None
    ret = 0

    # read in dwords where alignment allows, as pci_save_state() does
    while size:
        if size >= 4 and not offset % 4:
            ret, dword = pci_read_config_dword(pdev, offset)
            if ret:
                return ret
            struct.pack_into("<I", vconfig, offset, dword)
            filled = 4
        elif size >= 2 and not offset % 2:
            ret, word = pci_read_config_word(pdev, offset)
            if ret:
                return ret
            struct.pack_into("<H", vconfig, offset, word)
            filled = 2
        else:
            ret, byte = pci_read_config_byte(pdev, offset)
            if ret:
                return ret
            vconfig[offset] = byte
            filled = 1

        offset += filled
        size -= filled

    return ret


def vfio_config_init(vdev: vfio_pci_core_device) -> int:
    """Build ``vconfig`` and ``pci_config_map`` for an opening device (see the
    module docstring for what is left out)."""
    pdev = vdev.pdev
    assert pdev is not None

    # one map byte per config byte: which capability owns it
    map_ = bytearray(pdev.cfg_size)
    vconfig = bytearray(pdev.cfg_size)

    vdev.pci_config_map = map_
    vdev.vconfig = vconfig

    map_[0:PCI_STD_HEADER_SIZEOF] = bytes([PCI_CAP_ID_BASIC]) * PCI_STD_HEADER_SIZEOF
    map_[PCI_STD_HEADER_SIZEOF:] = bytes([PCI_CAP_ID_INVALID]) * (pdev.cfg_size - PCI_STD_HEADER_SIZEOF)

    ret = vfio_fill_vconfig_bytes(vdev, 0, PCI_STD_HEADER_SIZEOF)
    if ret:
        # out:
        vdev.pci_config_map = None
        vdev.vconfig = None
        return pcibios_err_to_errno(ret)

    vdev.bardirty = True

    # For restore after reset
    for i in range(6):
        vdev.rbar[i] = struct.unpack_from("<I", vconfig, PCI_BASE_ADDRESS_0 + 4 * i)[0]
    vdev.rbar[6] = struct.unpack_from("<I", vconfig, PCI_ROM_ADDRESS)[0]

    if pdev.is_virtfn:
        struct.pack_into("<H", vconfig, PCI_VENDOR_ID, pdev.vendor)
        struct.pack_into("<H", vconfig, PCI_DEVICE_ID, pdev.device)

        # SR-IOV says a VF has no INTx pin; replace what a buggy VF reports
        if vconfig[PCI_INTERRUPT_PIN] and (pdev.vendor, pdev.device) not in known_bogus_vf_intx_pin:
            pci_warn(pdev, "Hardware bug: VF reports bogus INTx pin %d\n", vconfig[PCI_INTERRUPT_PIN])

        vconfig[PCI_INTERRUPT_PIN] = 0  # Gratuitous for good VFs

    if pdev.no_command_memory:
        # such devices do not implement Memory enable; show it set, as for PFs
        cmd = struct.unpack_from("<H", vconfig, PCI_COMMAND)[0]
        struct.pack_into("<H", vconfig, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY)

    if not _vfio_pci_intx_enabled() or vdev.nointx or not pdev.irq or pdev.irq == IRQ_NOTCONNECTED:
        vconfig[PCI_INTERRUPT_PIN] = 0

    # vfio_cap_init() / vfio_ecap_init(): not ported (module docstring)
    return 0


def _vfio_pci_intx_enabled() -> bool:
    """``IS_ENABLED(CONFIG_VFIO_PCI_INTX)``: the option is ``def_bool y if !S390``, so
    it is off on s390.  Exists only in Python (the option is not in the model's
    Kconfig list: it is derived)."""
    from kernel.lib.kconfig import CONFIG_S390

    return not IS_ENABLED(CONFIG_S390)


def vfio_config_free(vdev: vfio_pci_core_device) -> None:
    vdev.vconfig = None
    vdev.pci_config_map = None


def __vfio_pci_memory_enabled(vdev: vfio_pci_core_device) -> bool:
    """The user-visible Memory enable: the virtual Command register's bit (always on
    for ``no_command_memory`` devices), and only while the function is in D0-D2."""
    pdev = vdev.pdev
    assert pdev is not None and vdev.vconfig is not None
    cmd = struct.unpack_from("<H", vdev.vconfig, PCI_COMMAND)[0]

    return pdev.current_state < PCI_D3hot and bool(pdev.no_command_memory or cmd & PCI_COMMAND_MEMORY)
