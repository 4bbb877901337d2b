"""drivers/vfio/pci/vfio_pci_config.c (Linux 7.1-rc4): vfio-pci's config space
virtualisation.  The user reads and writes the function's config space through the
``VFIO_PCI_CONFIG_REGION_INDEX`` region of the device file; per-capability tables of
permission bits decide, bit by bit, what is passed to the hardware, what is served
from a virtual copy (``vconfig``) and what is dropped.  Not changed by the v17
series.

Read from legoater/linux @ 2a3eb3a9c951, drivers/vfio/pci/vfio_pci_config.c, a tree newer than
7.1 that adds CXL DVSEC virtualisation; the CXL parts (``vfio_cxl_dvsec_write()``,
``init_cxl_dvsec_perm()``, ``vfio_cxl_dvsec_init()``, the ``cxl_perm`` branches of
``vfio_pci_config_rw_single()`` and ``vfio_config_free()``) are not in 7.1 and are
left out.  In 7.1 the per-chunk access is ``vfio_pci_config_rw_single()`` (exported,
declared in vfio_pci_priv.h, whose 7.1-rc4 text is the pre-image of v17 5/7);
older kernels called it ``vfio_config_do_rw()``.

Values: ``__le32`` values of the C are Python ints holding the register value (the
little-endian bytes of config space read as a number), so masks apply as written.
The permission callbacks' ``__le32 *val`` out-parameter becomes a second return
value: ``readfn(vdev, pos, count, perm, offset) -> (ret, val)``.

Ported, in C order: the capability length tables, ``struct perm_bits`` and the
shared tables, the user config accessors, the default / direct / raw / virt
read and write functions, ``alloc_perm_bits``/``free_perm_bits``/``p_set*``,
``__vfio_pci_memory_enabled``, BAR restore and sizing (``vfio_bar_restore``,
``vfio_generate_bar_flags``, ``vfio_bar_fixup``, ``vfio_need_bar_restore``), the
standard header (``vfio_basic_config_read/write``, ``init_pci_cap_basic_perm``), PM
(``vfio_lock_and_set_power_state``, ``vfio_pm_config_write``,
``init_pci_cap_pm_perm``), PCI-X (``init_pci_cap_pcix_perm``), PCI Express
(``vfio_exp_config_write``, ``init_pci_cap_exp_perm``), AF (``vfio_af_config_write``,
``init_pci_cap_af_perm``), the AER and Power Budgeting extended capabilities
(``init_pci_ext_cap_err_perm``, ``init_pci_ext_cap_pwr_perm``),
``vfio_pci_uninit_perm_bits``/``vfio_pci_init_perm_bits`` (called from vfio-pci
core's module init, kernel/vfio/pci/vfio_pci_core.py), ``vfio_find_cap_start``,
``vfio_cap_len``, ``vfio_ext_cap_len`` (the fixed-layout cases),
``vfio_update_pm_vconfig_bytes``, ``vfio_fill_vconfig_bytes``, ``vfio_cap_init``,
``vfio_ecap_init``, ``vfio_config_init``, ``vfio_config_free``,
``vfio_pci_cap_remaining_dword``, ``vfio_pci_config_rw_single``,
``vfio_pci_config_rw``, ``vfio_pci_core_range_intersect_range``.

Left out, and why:

* VPD (``vfio_vpd_config_write``, ``init_pci_cap_vpd_perm``): needs
  ``pci_read_vpd()``/``pci_write_vpd()``, which the PCI core port does not have; a
  VPD capability stays in ``cap_perms`` with its default (direct, read-only) access.
* MSI (``vfio_msi_config_read/write``, ``init_pci_cap_msi_perm``,
  ``vfio_msi_cap_len``, ``vdev->msi_perm``): the function model has no MSI
  capability (zPCI functions use MSI-X) and vfio-pci cannot enable MSI on this model
  (vfio_pci_intrs.py); ``vfio_cap_len()`` therefore has no MSI case and would
  report an unknown length for one.
* ``vfio_vc_cap_len`` and the VC/MFVC, ACS, ReBAR, DPA and TPH cases of
  ``vfio_ext_cap_len``: the model's functions have no extended capabilities (the
  header at 0x100 reads 0, so ``vfio_ecap_init()`` returns before asking any length).
* BARs: the model has no ``struct resource`` (kernel/include/linux/pci.py), so every
  BAR is "unmapped by host": ``vfio_bar_fixup()`` virtualises each BAR and the ROM
  as 0, which is what a user sizing a BAR reads back.
* ``pcie_get_mps()`` and ``pcie_set_readrq()`` (drivers/pci/pci.c) are here because
  no other module needs them; the model's host bridges never set ``no_inc_mrrs``
  (a Loongson quirk) and ``pcie_bus_config`` is the default, so those two branches
  of ``pcie_set_readrq()`` are not taken and not written.
"""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable
from typing import Final

import attrs

import kernel.vfio.pci.vfio_pci_core as vfio_pci_core
from kernel.include.linux.pci import (
    PCI_D0,
    PCI_D1,
    PCI_D2,
    PCI_D3hot,
    pci_dev,
    pci_pcie_type,
    pci_resource_flags,
    pci_resource_len,
    pci_resource_start,
    pcibios_err_to_errno,
    pcie_caps_reg,
)
from kernel.include.linux.vfio_pci_core import VFIO_PCI_OFFSET_MASK, vfio_pci_core_device
from kernel.lib.bug import WARN_ON
from kernel.lib.init import static_init
from kernel.lib.kconfig import IS_ENABLED
from kernel.lib.printk import pci_dbg, pci_info, pci_warn
from kernel.lib.rwsem import down_write, up_write
from kernel.lib.uaccess import copy_from_user, copy_to_user
from kernel.pci.access import (
    pci_read_config_byte,
    pci_read_config_dword,
    pci_read_config_word,
    pci_user_read_config_byte,
    pci_user_read_config_dword,
    pci_user_read_config_word,
    pci_user_write_config_byte,
    pci_user_write_config_dword,
    pci_user_write_config_word,
    pcie_capability_clear_and_set_word,
    pcie_capability_read_word,
)
from kernel.pci.pci import pci_try_reset_function
from kernel.vfio.pci import vfio_pci_intrs
from kernel.vfio.pci.vfio_pci_priv import PCI_CAP_ID_INVALID, PCI_CAP_ID_INVALID_VIRT, vfio_pci_dma_buf_move
from uapi.linux.pci_regs import (
    HT_3BIT_CAP_MASK,
    HT_CAP_SIZEOF_LONG,
    HT_CAP_SIZEOF_SHORT,
    PCI_AF_CAP,
    PCI_AF_CAP_FLR,
    PCI_AF_CAP_TP,
    PCI_AF_CTRL,
    PCI_AF_CTRL_FLR,
    PCI_AGP_SIZEOF,
    PCI_BASE_ADDRESS_0,
    PCI_BASE_ADDRESS_1,
    PCI_BASE_ADDRESS_2,
    PCI_BASE_ADDRESS_3,
    PCI_BASE_ADDRESS_4,
    PCI_BASE_ADDRESS_5,
    PCI_BASE_ADDRESS_MEM_PREFETCH,
    PCI_BASE_ADDRESS_MEM_TYPE_64,
    PCI_BASE_ADDRESS_SPACE_IO,
    PCI_BASE_ADDRESS_SPACE_MEMORY,
    PCI_BIST,
    PCI_CACHE_LINE_SIZE,
    PCI_CAP_AF_SIZEOF,
    PCI_CAP_EXP_ENDPOINT_SIZEOF_V1,
    PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
    PCI_CAP_FLAGS,
    PCI_CAP_ID_AF,
    PCI_CAP_ID_AGP,
    PCI_CAP_ID_AGP3,
    PCI_CAP_ID_CCRC,
    PCI_CAP_ID_CHSWP,
    PCI_CAP_ID_DBG,
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_HT,
    PCI_CAP_ID_MAX,
    PCI_CAP_ID_MSI,
    PCI_CAP_ID_MSIX,
    PCI_CAP_ID_PCIX,
    PCI_CAP_ID_PM,
    PCI_CAP_ID_SATA,
    PCI_CAP_ID_SECDEV,
    PCI_CAP_ID_SHPC,
    PCI_CAP_ID_SLOTID,
    PCI_CAP_ID_SSVID,
    PCI_CAP_ID_VNDR,
    PCI_CAP_ID_VPD,
    PCI_CAP_LIST_ID,
    PCI_CAP_LIST_NEXT,
    PCI_CAP_MSIX_SIZEOF,
    PCI_CAP_PCIX_SIZEOF_V0,
    PCI_CAP_PCIX_SIZEOF_V2,
    PCI_CAP_SIZEOF,
    PCI_CAP_VPD_SIZEOF,
    PCI_CAPABILITY_LIST,
    PCI_CFG_SPACE_SIZE,
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_IO,
    PCI_COMMAND_MEMORY,
    PCI_DEVICE_ID,
    PCI_DVSEC_HEADER1,
    PCI_DVSEC_HEADER1_LEN,
    PCI_ERR_ROOT_COMMAND,
    PCI_EXP_DEVCAP,
    PCI_EXP_DEVCAP_FLR,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL2,
    PCI_EXP_DEVCTL2_ARI,
    PCI_EXP_DEVCTL_BCR_FLR,
    PCI_EXP_DEVCTL_PAYLOAD,
    PCI_EXP_DEVCTL_PHANTOM,
    PCI_EXP_DEVCTL_READRQ,
    PCI_EXP_FLAGS_VERS,
    PCI_EXP_TYPE_RC_END,
    PCI_EXT_CAP_ARI_SIZEOF,
    PCI_EXT_CAP_ATS_SIZEOF,
    PCI_EXT_CAP_DSN_SIZEOF,
    PCI_EXT_CAP_ID,
    PCI_EXT_CAP_ID_ACS,
    PCI_EXT_CAP_ID_AMD_XXX,
    PCI_EXT_CAP_ID_ARI,
    PCI_EXT_CAP_ID_ATS,
    PCI_EXT_CAP_ID_CAC,
    PCI_EXT_CAP_ID_DPA,
    PCI_EXT_CAP_ID_DSN,
    PCI_EXT_CAP_ID_DVSEC,
    PCI_EXT_CAP_ID_ERR,
    PCI_EXT_CAP_ID_LTR,
    PCI_EXT_CAP_ID_MAX,
    PCI_EXT_CAP_ID_MCAST,
    PCI_EXT_CAP_ID_MFVC,
    PCI_EXT_CAP_ID_MRIOV,
    PCI_EXT_CAP_ID_PASID,
    PCI_EXT_CAP_ID_PMUX,
    PCI_EXT_CAP_ID_PRI,
    PCI_EXT_CAP_ID_PWR,
    PCI_EXT_CAP_ID_RCEC,
    PCI_EXT_CAP_ID_RCILC,
    PCI_EXT_CAP_ID_RCLD,
    PCI_EXT_CAP_ID_RCRB,
    PCI_EXT_CAP_ID_REBAR,
    PCI_EXT_CAP_ID_SECPCI,
    PCI_EXT_CAP_ID_SRIOV,
    PCI_EXT_CAP_ID_TPH,
    PCI_EXT_CAP_ID_VC,
    PCI_EXT_CAP_ID_VC9,
    PCI_EXT_CAP_ID_VNDR,
    PCI_EXT_CAP_LTR_SIZEOF,
    PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF,
    PCI_EXT_CAP_NEXT,
    PCI_EXT_CAP_PRI_SIZEOF,
    PCI_EXT_CAP_PWR_SIZEOF,
    PCI_EXT_CAP_SRIOV_SIZEOF,
    PCI_INTERRUPT_LINE,
    PCI_INTERRUPT_PIN,
    PCI_LATENCY_TIMER,
    PCI_PM_CAP_PME_MASK,
    PCI_PM_CTRL,
    PCI_PM_CTRL_PME_ENABLE,
    PCI_PM_CTRL_PME_STATUS,
    PCI_PM_CTRL_STATE_MASK,
    PCI_PM_PMC,
    PCI_PM_SIZEOF,
    PCI_PWR_DATA,
    PCI_ROM_ADDRESS,
    PCI_ROM_ADDRESS_ENABLE,
    PCI_SATA_REGS,
    PCI_SATA_REGS_INLINE,
    PCI_SATA_REGS_MASK,
    PCI_SATA_SIZEOF_LONG,
    PCI_SATA_SIZEOF_SHORT,
    PCI_STATUS,
    PCI_STATUS_CAP_LIST,
    PCI_STD_HEADER_SIZEOF,
    PCI_STD_NUM_BARS,
    PCI_VENDOR_ID,
    PCI_VNDR_HEADER,
    PCI_VNDR_HEADER_LEN,
    PCI_X_CMD,
    PCI_X_CMD_VERSION,
    PCI_X_ECC_CSR,
)

__all__ = [
    "__vfio_pci_memory_enabled",
    "perm_bits",
    "vfio_config_free",
    "vfio_config_init",
    "vfio_pci_config_rw",
    "vfio_pci_config_rw_single",
    "vfio_pci_core_range_intersect_range",
    "vfio_pci_init_perm_bits",
    "vfio_pci_uninit_perm_bits",
]

#: Fake capability ID for standard config space
PCI_CAP_ID_BASIC: Final = 0

#: include/linux/interrupt.h: an interrupt line that is wired to nothing.
IRQ_NOTCONNECTED: Final = 1 << 31

#: include/linux/pci_ids.h
PCI_VENDOR_ID_INTEL: Final = 0x8086

#: include/linux/ioport.h: the resource flags vfio_generate_bar_flags() tests.
IORESOURCE_IO: Final = 0x00000100
IORESOURCE_PREFETCH: Final = 0x00002000
IORESOURCE_MEM_64: Final = 0x00100000

#: drivers/pci/pci.h PCI_ROM_RESOURCE, include/linux/pci.h PCI_STD_RESOURCES
PCI_STD_RESOURCES: Final = 0
PCI_ROM_RESOURCE: Final = 6


def is_bar(offset: int) -> bool:
    return (PCI_BASE_ADDRESS_0 <= offset < PCI_BASE_ADDRESS_5 + 4) or (
        PCI_ROM_ADDRESS <= offset < PCI_ROM_ADDRESS + 4
    )


def _cap_table(size: int, entries: dict[int, int]) -> tuple[int, ...]:
    """A C array with designated initialisers (others 0).  Exists only in Python."""
    return tuple(entries.get(i, 0) for i in range(size))


#: Lengths of PCI Config Capabilities: 0 removes the capability from the user
#: visible list, 0xFF means variable length (vfio_cap_len() works it out).
pci_cap_length: Final = _cap_table(
    PCI_CAP_ID_MAX + 1,
    {
        PCI_CAP_ID_BASIC: PCI_STD_HEADER_SIZEOF,  # pci config header
        PCI_CAP_ID_PM: PCI_PM_SIZEOF,
        PCI_CAP_ID_AGP: PCI_AGP_SIZEOF,
        PCI_CAP_ID_VPD: PCI_CAP_VPD_SIZEOF,
        PCI_CAP_ID_SLOTID: 0,  # bridge - don't care
        PCI_CAP_ID_MSI: 0xFF,  # 10, 14, 20, or 24
        PCI_CAP_ID_CHSWP: 0,  # cpci - not yet
        PCI_CAP_ID_PCIX: 0xFF,  # 8 or 24
        PCI_CAP_ID_HT: 0xFF,  # hypertransport
        PCI_CAP_ID_VNDR: 0xFF,  # variable
        PCI_CAP_ID_DBG: 0,  # debug - don't care
        PCI_CAP_ID_CCRC: 0,  # cpci - not yet
        PCI_CAP_ID_SHPC: 0,  # hotswap - not yet
        PCI_CAP_ID_SSVID: 0,  # bridge - don't care
        PCI_CAP_ID_AGP3: 0,  # AGP8x - not yet
        PCI_CAP_ID_SECDEV: 0,  # secure device not yet
        PCI_CAP_ID_EXP: 0xFF,  # 20 or 44
        PCI_CAP_ID_MSIX: PCI_CAP_MSIX_SIZEOF,
        PCI_CAP_ID_SATA: 0xFF,
        PCI_CAP_ID_AF: PCI_CAP_AF_SIZEOF,
    },
)

#: Lengths of PCIe/PCI-X Extended Config Capabilities (same conventions).
pci_ext_cap_length: Final = _cap_table(
    PCI_EXT_CAP_ID_MAX + 1,
    {
        PCI_EXT_CAP_ID_ERR: PCI_ERR_ROOT_COMMAND,
        PCI_EXT_CAP_ID_VC: 0xFF,
        PCI_EXT_CAP_ID_DSN: PCI_EXT_CAP_DSN_SIZEOF,
        PCI_EXT_CAP_ID_PWR: PCI_EXT_CAP_PWR_SIZEOF,
        PCI_EXT_CAP_ID_RCLD: 0,  # root only - don't care
        PCI_EXT_CAP_ID_RCILC: 0,  # root only - don't care
        PCI_EXT_CAP_ID_RCEC: 0,  # root only - don't care
        PCI_EXT_CAP_ID_MFVC: 0xFF,
        PCI_EXT_CAP_ID_VC9: 0xFF,  # same as CAP_ID_VC
        PCI_EXT_CAP_ID_RCRB: 0,  # root only - don't care
        PCI_EXT_CAP_ID_VNDR: 0xFF,
        PCI_EXT_CAP_ID_CAC: 0,  # obsolete
        PCI_EXT_CAP_ID_ACS: 0xFF,
        PCI_EXT_CAP_ID_ARI: PCI_EXT_CAP_ARI_SIZEOF,
        PCI_EXT_CAP_ID_ATS: PCI_EXT_CAP_ATS_SIZEOF,
        PCI_EXT_CAP_ID_SRIOV: PCI_EXT_CAP_SRIOV_SIZEOF,
        PCI_EXT_CAP_ID_MRIOV: 0,  # not yet
        PCI_EXT_CAP_ID_MCAST: PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF,
        PCI_EXT_CAP_ID_PRI: PCI_EXT_CAP_PRI_SIZEOF,
        PCI_EXT_CAP_ID_AMD_XXX: 0,  # not yet
        PCI_EXT_CAP_ID_REBAR: 0xFF,
        PCI_EXT_CAP_ID_DPA: 0xFF,
        PCI_EXT_CAP_ID_TPH: 0xFF,
        PCI_EXT_CAP_ID_LTR: PCI_EXT_CAP_LTR_SIZEOF,
        PCI_EXT_CAP_ID_SECPCI: 0,  # not yet
        PCI_EXT_CAP_ID_PMUX: 0,  # not yet
        PCI_EXT_CAP_ID_PASID: 0,  # not yet
        PCI_EXT_CAP_ID_DVSEC: 0xFF,
    },
)

#: ``readfn(vdev, pos, count, perm, offset) -> (ret, val)``
ReadFn = Callable[[vfio_pci_core_device, int, int, "perm_bits", int], tuple[int, int]]
#: ``writefn(vdev, pos, count, perm, offset, val) -> ret``
WriteFn = Callable[[vfio_pci_core_device, int, int, "perm_bits", int, int], int]


@attrs.define(eq=False)
class perm_bits:
    """``struct perm_bits``: one bit per bit of a capability.  ``virt``: the bit is
    read from and written to ``vconfig``, not the hardware; ``write``: the bit may
    be written.  Every bit can be read."""

    virt: bytearray | None = None  # read/write virtual data, not hw
    write: bytearray | None = None  # writeable bits
    readfn: ReadFn | None = None
    writefn: WriteFn | None = None


NO_VIRT: Final = 0
ALL_VIRT: Final = 0xFFFFFFFF
NO_WRITE: Final = 0
ALL_WRITE: Final = 0xFFFFFFFF


def _le(buf: bytearray, off: int, count: int) -> int:
    """``memcpy(&le32, buf + off, count)``: the little-endian value of ``count``
    bytes.  Exists only in Python."""
    return int.from_bytes(buf[off : off + count], "little")


def _set_le(buf: bytearray, off: int, count: int, val: int) -> None:
    """``memcpy(buf + off, &le32, count)``.  Exists only in Python."""
    buf[off : off + count] = (val & ((1 << (8 * count)) - 1)).to_bytes(count, "little")


def vfio_user_config_read(pdev: pci_dev, offset: int, count: int) -> tuple[int, int]:
    ret = -errno.EINVAL
    tmp_val = 0

    if count == 1:
        ret, tmp_val = pci_user_read_config_byte(pdev, offset)
    elif count == 2:
        ret, tmp_val = pci_user_read_config_word(pdev, offset)
    elif count == 4:
        ret, tmp_val = pci_user_read_config_dword(pdev, offset)

    return ret, tmp_val


def vfio_user_config_write(pdev: pci_dev, offset: int, val: int, count: int) -> int:
    ret = -errno.EINVAL

    if count == 1:
        ret = pci_user_write_config_byte(pdev, offset, val)
    elif count == 2:
        ret = pci_user_write_config_word(pdev, offset, val)
    elif count == 4:
        ret = pci_user_write_config_dword(pdev, offset, val)

    return ret


def vfio_default_config_read(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int
) -> tuple[int, int]:
    assert vdev.vconfig is not None and perm.virt is not None and vdev.pdev is not None
    val = _le(vdev.vconfig, pos, count)

    virt = _le(perm.virt, offset, count)

    # Any non-virtualized bits?
    if (0xFFFFFFFF >> (32 - (count * 8))) != virt:
        ret, phys_val = vfio_user_config_read(vdev.pdev, pos, count)
        if ret:
            return ret, val

        val = (phys_val & ~virt) | (val & virt)

    return count, val


def vfio_default_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    assert vdev.vconfig is not None and perm.virt is not None and perm.write is not None
    assert vdev.pdev is not None

    write = _le(perm.write, offset, count)

    if not write:
        return count  # drop, no writable bits

    virt = _le(perm.virt, offset, count)

    # Virtualized and writable bits go to vconfig
    if write & virt:
        virt_val = _le(vdev.vconfig, pos, count)

        virt_val &= ~(write & virt)
        virt_val |= val & (write & virt)

        _set_le(vdev.vconfig, pos, count, virt_val)

    # Non-virtualized and writable bits go to hardware
    if write & ~virt:
        ret, phys_val = vfio_user_config_read(vdev.pdev, pos, count)
        if ret:
            return ret

        phys_val &= ~(write & ~virt)
        phys_val |= val & (write & ~virt)

        ret = vfio_user_config_write(vdev.pdev, pos, phys_val, count)
        if ret:
            return ret

    return count


def vfio_direct_config_read(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int
) -> tuple[int, int]:
    """Read from the hardware, except the capability ID/next pointer (the chain is
    virtual, so hidden capabilities stay hidden)."""
    assert vdev.pdev is not None and vdev.vconfig is not None
    ret, val = vfio_user_config_read(vdev.pdev, pos, count)
    if ret:
        return ret, val

    if pos >= PCI_CFG_SPACE_SIZE:  # Extended cap header mangling
        if offset < 4:
            val = _le(vdev.vconfig, pos, count)
    elif pos >= PCI_STD_HEADER_SIZEOF:  # Std cap mangling
        if offset == PCI_CAP_LIST_ID and count > 1:
            n = min(PCI_CAP_FLAGS, count)
            val = (val & ~((1 << (8 * n)) - 1)) | _le(vdev.vconfig, pos, n)
        elif offset == PCI_CAP_LIST_NEXT:
            val = (val & ~0xFF) | vdev.vconfig[pos]

    return count, val


def vfio_raw_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    """Raw access skips any kind of virtualization."""
    assert vdev.pdev is not None
    ret = vfio_user_config_write(vdev.pdev, pos, val, count)
    if ret:
        return ret

    return count


def vfio_raw_config_read(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int
) -> tuple[int, int]:
    assert vdev.pdev is not None
    ret, val = vfio_user_config_read(vdev.pdev, pos, count)
    if ret:
        return ret, val

    return count, val


def vfio_virt_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    """Virt access uses only virtualization."""
    assert vdev.vconfig is not None
    _set_le(vdev.vconfig, pos, count, val)
    return count


def vfio_virt_config_read(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int
) -> tuple[int, int]:
    assert vdev.vconfig is not None
    return count, _le(vdev.vconfig, pos, count)


direct_ro_perms: Final = perm_bits(readfn=vfio_direct_config_read)

#: Default capability regions to read-only, no-virtualization
cap_perms: Final = [perm_bits(readfn=vfio_direct_config_read) for _ in range(PCI_CAP_ID_MAX + 1)]
ecap_perms: Final = [perm_bits(readfn=vfio_direct_config_read) for _ in range(PCI_EXT_CAP_ID_MAX + 1)]

#: Gaps between capabilities: raw read-write access (some devices hide registers
#: there, be2net); as for MMIO, the hardware isolation is trusted.
unassigned_perms: Final = perm_bits(readfn=vfio_raw_config_read, writefn=vfio_raw_config_write)

virt_perms: Final = perm_bits(readfn=vfio_virt_config_read, writefn=vfio_virt_config_write)


@static_init
def vfio_pci_config_static_init() -> None:
    """The static initialisers of the tables above, re-applied in place at each
    boot.  Exists only in Python."""
    for table in (cap_perms, ecap_perms):
        for perm in table:
            perm.virt = perm.write = None
            perm.readfn, perm.writefn = vfio_direct_config_read, None


def free_perm_bits(perm: perm_bits) -> None:
    perm.virt = None
    perm.write = None


def alloc_perm_bits(perm: perm_bits, size: int) -> int:
    # Rounded up to whole dwords, so an access past the end of a capability
    # structure still finds bits: config space, capabilities and Express
    # capabilities are all dword aligned.
    size = (size + 3) & ~3

    # Zero state is: All Readable, None Writeable, None Virtualized
    perm.virt = bytearray(size)
    perm.write = bytearray(size)

    perm.readfn = vfio_default_config_read
    perm.writefn = vfio_default_config_write

    return 0


# Helper functions for filling in permission tables


def p_setb(p: perm_bits, off: int, virt: int, write: int) -> None:
    assert p.virt is not None and p.write is not None
    p.virt[off] = virt & 0xFF
    p.write[off] = write & 0xFF


def p_setw(p: perm_bits, off: int, virt: int, write: int) -> None:
    """Tables are little-endian, as PCI is."""
    assert p.virt is not None and p.write is not None
    struct.pack_into("<H", p.virt, off, virt & 0xFFFF)
    struct.pack_into("<H", p.write, off, write & 0xFFFF)


def p_setd(p: perm_bits, off: int, virt: int, write: int) -> None:
    """Tables are little-endian, as PCI is."""
    assert p.virt is not None and p.write is not None
    struct.pack_into("<I", p.virt, off, virt & 0xFFFFFFFF)
    struct.pack_into("<I", p.write, off, write & 0xFFFFFFFF)


def __vfio_pci_memory_enabled(vdev: vfio_pci_core_device) -> bool:
    """The user-visible Memory enable: the virtual Command register's bit (always on
    for ``no_command_memory`` devices: a VF's memory enable lives in its PF), and only
    while the function is in D0-D2.  Caller holds ``memory_lock``."""
    pdev = vdev.pdev
    assert pdev is not None and vdev.vconfig is not None
    cmd = struct.unpack_from("<H", vdev.vconfig, PCI_COMMAND)[0]

    return pdev.current_state < PCI_D3hot and bool(pdev.no_command_memory or cmd & PCI_COMMAND_MEMORY)


def vfio_bar_restore(vdev: vfio_pci_core_device) -> None:
    """Write the open-time BAR values back after an FLR or a reset behind vfio's
    back."""
    pdev = vdev.pdev
    assert pdev is not None
    rbar = vdev.rbar

    if pdev.is_virtfn:
        return

    pci_info(pdev, "%s: reset recovery - restoring BARs\n", "vfio_bar_restore")

    for n, i in enumerate(range(PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 1, 4)):
        pci_user_write_config_dword(pdev, i, rbar[n])

    pci_user_write_config_dword(pdev, PCI_ROM_ADDRESS, rbar[6])

    if vdev.nointx:
        _, cmd = pci_user_read_config_word(pdev, PCI_COMMAND)
        cmd |= PCI_COMMAND_INTX_DISABLE
        pci_user_write_config_word(pdev, PCI_COMMAND, cmd)


def vfio_generate_bar_flags(pdev: pci_dev, bar: int) -> int:
    flags = pci_resource_flags(pdev, bar)

    if flags & IORESOURCE_IO:
        return PCI_BASE_ADDRESS_SPACE_IO

    val = PCI_BASE_ADDRESS_SPACE_MEMORY

    if flags & IORESOURCE_PREFETCH:
        val |= PCI_BASE_ADDRESS_MEM_PREFETCH

    if flags & IORESOURCE_MEM_64:
        val |= PCI_BASE_ADDRESS_MEM_TYPE_64

    return val


def vfio_bar_fixup(vdev: vfio_pci_core_device) -> None:
    """BAR sizing: make the virtual BARs read as hardware would after the user
    wrote them, from the size and type of the host's resource."""
    pdev = vdev.pdev
    vconfig = vdev.vconfig
    assert pdev is not None and vconfig is not None

    if not vdev.bardirty:
        return

    vbar = PCI_BASE_ADDRESS_0
    i = 0
    while i < PCI_STD_NUM_BARS:
        bar = i + PCI_STD_RESOURCES

        if not pci_resource_start(pdev, bar):
            struct.pack_into("<I", vconfig, vbar, 0)  # Unmapped by host = unimplemented to user
            i += 1
            vbar += 4
            continue

        mask = ~(pci_resource_len(pdev, bar) - 1) & 0xFFFFFFFFFFFFFFFF

        val = struct.unpack_from("<I", vconfig, vbar)[0] & (mask & 0xFFFFFFFF)
        val |= vfio_generate_bar_flags(pdev, bar)
        struct.pack_into("<I", vconfig, vbar, val)

        if val & PCI_BASE_ADDRESS_MEM_TYPE_64:
            vbar += 4
            hi = struct.unpack_from("<I", vconfig, vbar)[0] & ((mask >> 32) & 0xFFFFFFFF)
            struct.pack_into("<I", vconfig, vbar, hi)
            i += 1
        i += 1
        vbar += 4

    # REGION_INFO reports 0 if the ROM could not be read, but the BAR size (or the
    # shadow ROM's) is still what sizing returns
    if pci_resource_start(pdev, PCI_ROM_RESOURCE):
        mask = ~(pci_resource_len(pdev, PCI_ROM_RESOURCE) - 1) & 0xFFFFFFFF
        mask |= PCI_ROM_ADDRESS_ENABLE
        val = struct.unpack_from("<I", vconfig, PCI_ROM_ADDRESS)[0] & mask
        struct.pack_into("<I", vconfig, PCI_ROM_ADDRESS, val)
    else:
        # pdev->rom / pdev->romlen: no shadow ROM is modelled
        struct.pack_into("<I", vconfig, PCI_ROM_ADDRESS, 0)

    vdev.bardirty = False


def vfio_basic_config_read(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int
) -> tuple[int, int]:
    assert vdev.pdev is not None and vdev.vconfig is not None
    if is_bar(offset):  # pos == offset for basic config
        vfio_bar_fixup(vdev)

    count, val = vfio_default_config_read(vdev, pos, count, perm, offset)

    # Mask in virtual memory enable
    if offset == PCI_COMMAND and vdev.pdev.no_command_memory:
        cmd = struct.unpack_from("<H", vdev.vconfig, PCI_COMMAND)[0]
        val |= cmd & PCI_COMMAND_MEMORY

    return count, val


def vfio_need_bar_restore(vdev: vfio_pci_core_device) -> bool:
    """Whether the BARs no longer hold what vfio thinks they contain."""
    assert vdev.pdev is not None
    i = 0
    pos = PCI_BASE_ADDRESS_0

    while pos <= PCI_BASE_ADDRESS_5:
        if vdev.rbar[i]:
            ret, bar = pci_user_read_config_dword(vdev.pdev, pos)
            if ret or vdev.rbar[i] != bar:
                return True
        i += 1
        pos += 4

    return False


def vfio_basic_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    pdev = vdev.pdev
    vconfig = vdev.vconfig
    assert pdev is not None and vconfig is not None
    new_cmd = 0

    def virt_cmd() -> int:
        value: int = struct.unpack_from("<H", vconfig, PCI_COMMAND)[0]
        return value

    if offset == PCI_COMMAND:
        ret, phys_cmd = pci_user_read_config_word(pdev, PCI_COMMAND)
        if ret:
            return ret

        new_cmd = val & 0xFFFF

        phys_io = bool(phys_cmd & PCI_COMMAND_IO)
        virt_io = bool(virt_cmd() & PCI_COMMAND_IO)
        new_io = bool(new_cmd & PCI_COMMAND_IO)

        phys_mem = bool(phys_cmd & PCI_COMMAND_MEMORY)
        virt_mem = bool(virt_cmd() & PCI_COMMAND_MEMORY)
        new_mem = bool(new_cmd & PCI_COMMAND_MEMORY)

        if not new_mem:
            vfio_pci_core.vfio_pci_zap_and_down_write_memory_lock(vdev)
            vfio_pci_dma_buf_move(vdev, True)
        else:
            down_write(vdev.memory_lock)

        # Enabling what vfio believes enabled while the hardware has it disabled:
        # the function went through a reset vfio did not see (SR-IOV VFs do this),
        # so its BARs must be restored before decoding is turned on.
        if (
            (new_mem and virt_mem and not phys_mem and not pdev.no_command_memory)
            or (new_io and virt_io and not phys_io)
            or vfio_need_bar_restore(vdev)
        ):
            vfio_bar_restore(vdev)

    count = vfio_default_config_write(vdev, pos, count, perm, offset, val)
    if count < 0:
        if offset == PCI_COMMAND:
            up_write(vdev.memory_lock)
        return count

    # Keep the user's memory/io enable bits in vconfig for the test above next time
    if offset == PCI_COMMAND:
        mask = PCI_COMMAND_MEMORY | PCI_COMMAND_IO

        struct.pack_into("<H", vconfig, PCI_COMMAND, (virt_cmd() & ~mask) | (new_cmd & mask))

        if __vfio_pci_memory_enabled(vdev):
            vfio_pci_dma_buf_move(vdev, False)
        up_write(vdev.memory_lock)

    # Emulate INTx disable
    if PCI_COMMAND <= offset <= PCI_COMMAND + 1:
        virt_intx_disable = bool(virt_cmd() & PCI_COMMAND_INTX_DISABLE)

        if virt_intx_disable and not vdev.virq_disabled:
            vdev.virq_disabled = True
            vfio_pci_intrs.vfio_pci_intx_mask(vdev)
        elif not virt_intx_disable and vdev.virq_disabled:
            vdev.virq_disabled = False
            vfio_pci_intrs.vfio_pci_intx_unmask(vdev)

    if is_bar(offset):
        vdev.bardirty = True

    return count


def init_pci_cap_basic_perm(perm: perm_bits) -> int:
    """Permissions for the Basic PCI Header."""
    if alloc_perm_bits(perm, PCI_STD_HEADER_SIZEOF):
        return -errno.ENOMEM

    perm.readfn = vfio_basic_config_read
    perm.writefn = vfio_basic_config_write

    # Virtualized for SR-IOV functions, which just have FFFF
    p_setw(perm, PCI_VENDOR_ID, ALL_VIRT, NO_WRITE)
    p_setw(perm, PCI_DEVICE_ID, ALL_VIRT, NO_WRITE)

    # INTx disable is virtualised: vfio uses it for interrupt control and can
    # emulate it for devices without PCI 2.3 masking
    p_setw(perm, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, ALL_WRITE)

    # Virtualize capability list, we might want to skip/disable
    p_setw(perm, PCI_STATUS, PCI_STATUS_CAP_LIST, NO_WRITE)

    # No harm to write
    p_setb(perm, PCI_CACHE_LINE_SIZE, NO_VIRT, ALL_WRITE)
    p_setb(perm, PCI_LATENCY_TIMER, NO_VIRT, ALL_WRITE)
    p_setb(perm, PCI_BIST, NO_VIRT, ALL_WRITE)

    # Virtualize all bars, can't touch the real ones
    p_setd(perm, PCI_BASE_ADDRESS_0, ALL_VIRT, ALL_WRITE)
    p_setd(perm, PCI_BASE_ADDRESS_1, ALL_VIRT, ALL_WRITE)
    p_setd(perm, PCI_BASE_ADDRESS_2, ALL_VIRT, ALL_WRITE)
    p_setd(perm, PCI_BASE_ADDRESS_3, ALL_VIRT, ALL_WRITE)
    p_setd(perm, PCI_BASE_ADDRESS_4, ALL_VIRT, ALL_WRITE)
    p_setd(perm, PCI_BASE_ADDRESS_5, ALL_VIRT, ALL_WRITE)
    p_setd(perm, PCI_ROM_ADDRESS, ALL_VIRT, ALL_WRITE)

    # Allow us to adjust capability chain
    p_setb(perm, PCI_CAPABILITY_LIST, ALL_VIRT, NO_WRITE)

    # Sometimes used by sw, just virtualize
    p_setb(perm, PCI_INTERRUPT_LINE, ALL_VIRT, ALL_WRITE)

    # Virtualize interrupt pin to allow hiding INTx
    p_setb(perm, PCI_INTERRUPT_PIN, ALL_VIRT, NO_WRITE)

    return 0


def vfio_lock_and_set_power_state(vdev: vfio_pci_core_device, state: int) -> None:
    """Take the locks that protect the power-related state, then
    vfio_pci_set_power_state()."""
    if state >= PCI_D3hot:
        vfio_pci_core.vfio_pci_zap_and_down_write_memory_lock(vdev)
        vfio_pci_dma_buf_move(vdev, True)
    else:
        down_write(vdev.memory_lock)

    vfio_pci_core.vfio_pci_set_power_state(vdev, state)
    if __vfio_pci_memory_enabled(vdev):
        vfio_pci_dma_buf_move(vdev, False)
    up_write(vdev.memory_lock)


def vfio_pm_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    count = vfio_default_config_write(vdev, pos, count, perm, offset, val)
    if count < 0:
        return count

    if offset == PCI_PM_CTRL:
        state = (PCI_D0, PCI_D1, PCI_D2, PCI_D3hot)[val & PCI_PM_CTRL_STATE_MASK]

        vfio_lock_and_set_power_state(vdev, state)

    return count


def init_pci_cap_pm_perm(perm: perm_bits) -> int:
    """Permissions for the Power Management capability."""
    if alloc_perm_bits(perm, pci_cap_length[PCI_CAP_ID_PM]):
        return -errno.ENOMEM

    perm.writefn = vfio_pm_config_write

    # The next field is always virtual, so capabilities can be removed from the chain
    p_setb(perm, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE)

    # The user cannot take PME events (the host handles and clears them), so the
    # PME_Support bits are virtual; vfio_cap_init() clears them in vconfig.
    p_setw(perm, PCI_PM_PMC, PCI_PM_CAP_PME_MASK, NO_WRITE)

    # The state field is read-only: vfio traps the write and changes the power
    # state itself.  PME_Status and PME_En are virtual (no PME from D3cold for the
    # user); vfio_cap_init() clears them in vconfig.
    p_setd(
        perm,
        PCI_PM_CTRL,
        PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
        ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_STATE_MASK),
    )

    return 0


def init_pci_cap_pcix_perm(perm: perm_bits) -> int:
    """Permissions for PCI-X capability."""
    # Alloc 24, but only 8 are used in v0
    if alloc_perm_bits(perm, PCI_CAP_PCIX_SIZEOF_V2):
        return -errno.ENOMEM

    p_setb(perm, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE)

    p_setw(perm, PCI_X_CMD, NO_VIRT, ALL_WRITE)
    p_setd(perm, PCI_X_ECC_CSR, NO_VIRT, ALL_WRITE)
    return 0


def pcie_get_mps(dev: pci_dev) -> int:
    """drivers/pci/pci.c: the Max_Payload_Size in bytes.  Here because no other
    module needs it."""
    _, ctl = pcie_capability_read_word(dev, PCI_EXP_DEVCTL)

    return 128 << ((ctl & PCI_EXP_DEVCTL_PAYLOAD) >> 5)


def pcie_set_readrq(dev: pci_dev, rq: int) -> int:
    """drivers/pci/pci.c: set the Max_Read_Request_Size.  Here because no other
    module needs it; the PCIE_BUS_PERFORMANCE clamp and the ``no_inc_mrrs`` host
    bridge check are not taken on this model (module docstring)."""
    if rq < 128 or rq > 4096 or rq & (rq - 1):
        return -errno.EINVAL

    firstbit = (rq & -rq).bit_length()  # ffs(rq)
    if firstbit < 8:
        return -errno.EINVAL
    v = (firstbit - 8) << 12  # FIELD_PREP(PCI_EXP_DEVCTL_READRQ, firstbit - 8)

    ret = pcie_capability_clear_and_set_word(dev, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_READRQ, v)

    return pcibios_err_to_errno(ret)


def vfio_exp_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    vconfig = vdev.vconfig
    assert vconfig is not None and vdev.pdev is not None
    ctrl = pos - offset + PCI_EXP_DEVCTL

    def ctrl_val() -> int:
        value: int = struct.unpack_from("<H", vconfig, ctrl)[0]
        return value

    readrq = ctrl_val() & PCI_EXP_DEVCTL_READRQ

    count = vfio_default_config_write(vdev, pos, count, perm, offset, val)
    if count < 0:
        return count

    # FLR is virtual: if the user set it and the function can do a PCIe FLR, do a
    # function reset (which may not be an FLR: pci_try_reset_function() picks the
    # method).  Either way the bit reads back as 0, as the spec requires.
    if ctrl_val() & PCI_EXP_DEVCTL_BCR_FLR:
        struct.pack_into("<H", vconfig, ctrl, ctrl_val() & ~PCI_EXP_DEVCTL_BCR_FLR)

        ret, cap = pci_user_read_config_dword(vdev.pdev, pos - offset + PCI_EXP_DEVCAP)

        if not ret and cap & PCI_EXP_DEVCAP_FLR:
            vfio_pci_core.vfio_pci_zap_and_down_write_memory_lock(vdev)
            vfio_pci_dma_buf_move(vdev, True)
            pci_try_reset_function(vdev.pdev)
            if __vfio_pci_memory_enabled(vdev):
                vfio_pci_dma_buf_move(vdev, False)
            up_write(vdev.memory_lock)

    # MPS is virtual (a proper value needs the whole fabric's view).  MRRS goes to
    # the hardware, but never below the physical MPS, so full TLPs stay usable.
    if readrq != (ctrl_val() & PCI_EXP_DEVCTL_READRQ):
        readrq = 128 << ((ctrl_val() & PCI_EXP_DEVCTL_READRQ) >> 12)
        readrq = max(readrq, pcie_get_mps(vdev.pdev))

        pcie_set_readrq(vdev.pdev, readrq)

    return count


def init_pci_cap_exp_perm(perm: perm_bits) -> int:
    """Permissions for PCI Express capability."""
    # Alloc largest of possible sizes
    if alloc_perm_bits(perm, PCI_CAP_EXP_ENDPOINT_SIZEOF_V2):
        return -errno.ENOMEM

    perm.writefn = vfio_exp_config_write

    p_setb(perm, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE)

    # Device control is writable except Phantom Functions (would confuse the
    # IOMMU), MPS (needs the fabric's view) and devctl2's ARI bit (set at probe).
    # FLR and MRRS are virtual and handled by the writefn.
    p_setw(
        perm,
        PCI_EXP_DEVCTL,
        PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ,
        ~PCI_EXP_DEVCTL_PHANTOM,
    )
    p_setw(perm, PCI_EXP_DEVCTL2, NO_VIRT, ~PCI_EXP_DEVCTL2_ARI)
    return 0


def vfio_af_config_write(
    vdev: vfio_pci_core_device, pos: int, count: int, perm: perm_bits, offset: int, val: int
) -> int:
    vconfig = vdev.vconfig
    assert vconfig is not None and vdev.pdev is not None
    ctrl = pos - offset + PCI_AF_CTRL

    count = vfio_default_config_write(vdev, pos, count, perm, offset, val)
    if count < 0:
        return count

    # As for the PCIe FLR bit: virtual, turned into a function reset when the AF
    # capability supports FLR, and always read back as 0.
    if vconfig[ctrl] & PCI_AF_CTRL_FLR:
        vconfig[ctrl] &= ~PCI_AF_CTRL_FLR & 0xFF

        ret, cap = pci_user_read_config_byte(vdev.pdev, pos - offset + PCI_AF_CAP)

        if not ret and cap & PCI_AF_CAP_FLR and cap & PCI_AF_CAP_TP:
            vfio_pci_core.vfio_pci_zap_and_down_write_memory_lock(vdev)
            vfio_pci_dma_buf_move(vdev, True)
            pci_try_reset_function(vdev.pdev)
            if __vfio_pci_memory_enabled(vdev):
                vfio_pci_dma_buf_move(vdev, False)
            up_write(vdev.memory_lock)

    return count


def init_pci_cap_af_perm(perm: perm_bits) -> int:
    """Permissions for Advanced Function capability."""
    if alloc_perm_bits(perm, pci_cap_length[PCI_CAP_ID_AF]):
        return -errno.ENOMEM

    perm.writefn = vfio_af_config_write

    p_setb(perm, PCI_CAP_LIST_NEXT, ALL_VIRT, NO_WRITE)
    p_setb(perm, PCI_AF_CTRL, PCI_AF_CTRL_FLR, PCI_AF_CTRL_FLR)
    return 0


#: include/uapi/linux/pci_regs.h: the AER registers and bits the table below sets
#: (kept here: pci_regs.py carries no AER layout).
PCI_ERR_UNCOR_STATUS: Final = 0x04
PCI_ERR_UNCOR_MASK: Final = 0x08
PCI_ERR_UNCOR_SEVER: Final = 0x0C
PCI_ERR_COR_STATUS: Final = 0x10
PCI_ERR_COR_MASK: Final = 0x14
PCI_ERR_CAP: Final = 0x18
PCI_ERR_UNC_UND: Final = 0x00000001
PCI_ERR_UNC_DLP: Final = 0x00000010
PCI_ERR_UNC_SURPDN: Final = 0x00000020
PCI_ERR_UNC_POISON_TLP: Final = 0x00001000
PCI_ERR_UNC_FCP: Final = 0x00002000
PCI_ERR_UNC_COMP_TIME: Final = 0x00004000
PCI_ERR_UNC_COMP_ABORT: Final = 0x00008000
PCI_ERR_UNC_UNX_COMP: Final = 0x00010000
PCI_ERR_UNC_RX_OVER: Final = 0x00020000
PCI_ERR_UNC_MALF_TLP: Final = 0x00040000
PCI_ERR_UNC_ECRC: Final = 0x00080000
PCI_ERR_UNC_UNSUP: Final = 0x00100000
PCI_ERR_UNC_ACSV: Final = 0x00200000
PCI_ERR_UNC_INTN: Final = 0x00400000
PCI_ERR_UNC_MCBTLP: Final = 0x00800000
PCI_ERR_UNC_ATOMEG: Final = 0x01000000
PCI_ERR_UNC_TLPPRE: Final = 0x02000000
PCI_ERR_COR_RCVR: Final = 0x00000001
PCI_ERR_COR_BAD_TLP: Final = 0x00000040
PCI_ERR_COR_BAD_DLLP: Final = 0x00000080
PCI_ERR_COR_REP_ROLL: Final = 0x00000100
PCI_ERR_COR_REP_TIMER: Final = 0x00001000
PCI_ERR_COR_ADV_NFAT: Final = 0x00002000
PCI_ERR_COR_INTERNAL: Final = 0x00004000
PCI_ERR_COR_LOG_OVER: Final = 0x00008000
PCI_ERR_CAP_ECRC_GENE: Final = 0x00000040
PCI_ERR_CAP_ECRC_CHKE: Final = 0x00000100


def init_pci_ext_cap_err_perm(perm: perm_bits) -> int:
    """Permissions for Advanced Error Reporting extended capability."""
    if alloc_perm_bits(perm, pci_ext_cap_length[PCI_EXT_CAP_ID_ERR]):
        return -errno.ENOMEM

    # The first dword of every extended capability holds the next pointer: virtual,
    # so capabilities can be removed from the chain later
    p_setd(perm, 0, ALL_VIRT, NO_WRITE)

    # Writable bits mask
    mask = (
        PCI_ERR_UNC_UND  # Undefined
        | PCI_ERR_UNC_DLP  # Data Link Protocol
        | PCI_ERR_UNC_SURPDN  # Surprise Down
        | PCI_ERR_UNC_POISON_TLP  # Poisoned TLP
        | PCI_ERR_UNC_FCP  # Flow Control Protocol
        | PCI_ERR_UNC_COMP_TIME  # Completion Timeout
        | PCI_ERR_UNC_COMP_ABORT  # Completer Abort
        | PCI_ERR_UNC_UNX_COMP  # Unexpected Completion
        | PCI_ERR_UNC_RX_OVER  # Receiver Overflow
        | PCI_ERR_UNC_MALF_TLP  # Malformed TLP
        | PCI_ERR_UNC_ECRC  # ECRC Error Status
        | PCI_ERR_UNC_UNSUP  # Unsupported Request
        | PCI_ERR_UNC_ACSV  # ACS Violation
        | PCI_ERR_UNC_INTN  # internal error
        | PCI_ERR_UNC_MCBTLP  # MC blocked TLP
        | PCI_ERR_UNC_ATOMEG  # Atomic egress blocked
        | PCI_ERR_UNC_TLPPRE  # TLP prefix blocked
    )
    p_setd(perm, PCI_ERR_UNCOR_STATUS, NO_VIRT, mask)
    p_setd(perm, PCI_ERR_UNCOR_MASK, NO_VIRT, mask)
    p_setd(perm, PCI_ERR_UNCOR_SEVER, NO_VIRT, mask)

    mask = (
        PCI_ERR_COR_RCVR  # Receiver Error Status
        | PCI_ERR_COR_BAD_TLP  # Bad TLP Status
        | PCI_ERR_COR_BAD_DLLP  # Bad DLLP Status
        | PCI_ERR_COR_REP_ROLL  # REPLAY_NUM Rollover
        | PCI_ERR_COR_REP_TIMER  # Replay Timer Timeout
        | PCI_ERR_COR_ADV_NFAT  # Advisory Non-Fatal
        | PCI_ERR_COR_INTERNAL  # Corrected Internal
        | PCI_ERR_COR_LOG_OVER  # Header Log Overflow
    )
    p_setd(perm, PCI_ERR_COR_STATUS, NO_VIRT, mask)
    p_setd(perm, PCI_ERR_COR_MASK, NO_VIRT, mask)

    mask = PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE  # ECRC Generation / Check Enable
    p_setd(perm, PCI_ERR_CAP, NO_VIRT, mask)
    return 0


def init_pci_ext_cap_pwr_perm(perm: perm_bits) -> int:
    """Permissions for Power Budgeting extended capability."""
    if alloc_perm_bits(perm, pci_ext_cap_length[PCI_EXT_CAP_ID_PWR]):
        return -errno.ENOMEM

    p_setd(perm, 0, ALL_VIRT, NO_WRITE)

    # Writing the data selector is OK, the info is still read-only
    p_setb(perm, PCI_PWR_DATA, NO_VIRT, ALL_WRITE)
    return 0


def vfio_pci_uninit_perm_bits() -> None:
    """Free the shared permission tables (vfio-pci core's module exit)."""
    free_perm_bits(cap_perms[PCI_CAP_ID_BASIC])

    free_perm_bits(cap_perms[PCI_CAP_ID_PM])
    free_perm_bits(cap_perms[PCI_CAP_ID_VPD])
    free_perm_bits(cap_perms[PCI_CAP_ID_PCIX])
    free_perm_bits(cap_perms[PCI_CAP_ID_EXP])
    free_perm_bits(cap_perms[PCI_CAP_ID_AF])

    free_perm_bits(ecap_perms[PCI_EXT_CAP_ID_ERR])
    free_perm_bits(ecap_perms[PCI_EXT_CAP_ID_PWR])


def vfio_pci_init_perm_bits() -> int:
    """Fill the shared permission tables (vfio-pci core's module init)."""
    # Basic config space
    ret = init_pci_cap_basic_perm(cap_perms[PCI_CAP_ID_BASIC])

    # Capabilities
    ret |= init_pci_cap_pm_perm(cap_perms[PCI_CAP_ID_PM])
    # init_pci_cap_vpd_perm(&cap_perms[PCI_CAP_ID_VPD]): not ported (module docstring)
    ret |= init_pci_cap_pcix_perm(cap_perms[PCI_CAP_ID_PCIX])
    cap_perms[PCI_CAP_ID_VNDR].writefn = vfio_raw_config_write
    ret |= init_pci_cap_exp_perm(cap_perms[PCI_CAP_ID_EXP])
    ret |= init_pci_cap_af_perm(cap_perms[PCI_CAP_ID_AF])

    # Extended capabilities
    ret |= init_pci_ext_cap_err_perm(ecap_perms[PCI_EXT_CAP_ID_ERR])
    ret |= init_pci_ext_cap_pwr_perm(ecap_perms[PCI_EXT_CAP_ID_PWR])
    ecap_perms[PCI_EXT_CAP_ID_VNDR].writefn = vfio_raw_config_write
    ecap_perms[PCI_EXT_CAP_ID_DVSEC].writefn = vfio_raw_config_write

    if ret:
        vfio_pci_uninit_perm_bits()

    return ret


def vfio_find_cap_start(vdev: vfio_pci_core_device, pos: int) -> int:
    map_ = vdev.pci_config_map
    assert map_ is not None
    base = PCI_CFG_SPACE_SIZE if pos >= PCI_CFG_SPACE_SIZE else PCI_STD_HEADER_SIZEOF
    cap = map_[pos]

    if cap == PCI_CAP_ID_BASIC:
        return 0

    # XXX Can we have to abutting capabilities of the same type?
    while pos - 1 >= base and map_[pos - 1] == cap:
        pos -= 1

    return pos


def vfio_cap_len(vdev: vfio_pci_core_device, cap: int, pos: int) -> int:
    """Length of a variable-length capability (no MSI case: module docstring)."""
    pdev = vdev.pdev
    assert pdev is not None

    if cap == PCI_CAP_ID_PCIX:
        ret, word = pci_read_config_word(pdev, pos + PCI_X_CMD)
        if ret:
            return pcibios_err_to_errno(ret)

        if PCI_X_CMD_VERSION(word):
            if pdev.cfg_size > PCI_CFG_SPACE_SIZE:
                # Test for extended capabilities
                _, dword = pci_read_config_dword(pdev, PCI_CFG_SPACE_SIZE)
                vdev.extended_caps = dword != 0
            return PCI_CAP_PCIX_SIZEOF_V2
        else:
            return PCI_CAP_PCIX_SIZEOF_V0
    elif cap == PCI_CAP_ID_VNDR:
        # length follows next field
        ret, byte = pci_read_config_byte(pdev, pos + PCI_CAP_FLAGS)
        if ret:
            return pcibios_err_to_errno(ret)

        return byte
    elif cap == PCI_CAP_ID_EXP:
        if pdev.cfg_size > PCI_CFG_SPACE_SIZE:
            # Test for extended capabilities
            _, dword = pci_read_config_dword(pdev, PCI_CFG_SPACE_SIZE)
            vdev.extended_caps = dword != 0

        # length based on version and type
        if (pcie_caps_reg(pdev) & PCI_EXP_FLAGS_VERS) == 1:
            if pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END:
                return 0xC  # "All Devices" only, no link
            return PCI_CAP_EXP_ENDPOINT_SIZEOF_V1
        else:
            if pci_pcie_type(pdev) == PCI_EXP_TYPE_RC_END:
                return 0x2C  # No link
            return PCI_CAP_EXP_ENDPOINT_SIZEOF_V2
    elif cap == PCI_CAP_ID_HT:
        ret, byte = pci_read_config_byte(pdev, pos + 3)
        if ret:
            return pcibios_err_to_errno(ret)

        return HT_CAP_SIZEOF_SHORT if byte & HT_3BIT_CAP_MASK else HT_CAP_SIZEOF_LONG
    elif cap == PCI_CAP_ID_SATA:
        ret, byte = pci_read_config_byte(pdev, pos + PCI_SATA_REGS)
        if ret:
            return pcibios_err_to_errno(ret)

        byte &= PCI_SATA_REGS_MASK
        if byte == PCI_SATA_REGS_INLINE:
            return PCI_SATA_SIZEOF_LONG
        else:
            return PCI_SATA_SIZEOF_SHORT
    else:
        pci_warn(pdev, "%s: unknown length for PCI cap %#x@%#x\n", "vfio_cap_len", cap, pos)

    return 0


def vfio_ext_cap_len(vdev: vfio_pci_core_device, ecap: int, epos: int) -> int:
    """Length of a variable-length extended capability (the VC/MFVC, ACS, ReBAR,
    DPA and TPH cases are not ported: module docstring)."""
    pdev = vdev.pdev
    assert pdev is not None

    if ecap == PCI_EXT_CAP_ID_VNDR:
        ret, dword = pci_read_config_dword(pdev, epos + PCI_VNDR_HEADER)
        if ret:
            return pcibios_err_to_errno(ret)

        return PCI_VNDR_HEADER_LEN(dword)
    elif ecap == PCI_EXT_CAP_ID_DVSEC:
        ret, dword = pci_read_config_dword(pdev, epos + PCI_DVSEC_HEADER1)
        if ret:
            return pcibios_err_to_errno(ret)
        return PCI_DVSEC_HEADER1_LEN(dword)
    else:
        pci_warn(pdev, "%s: unknown length for PCI ecap %#x@%#x\n", "vfio_ext_cap_len", ecap, epos)

    return 0


def vfio_update_pm_vconfig_bytes(vdev: vfio_pci_core_device, offset: int) -> None:
    vconfig = vdev.vconfig
    assert vconfig is not None
    pmc = offset + PCI_PM_PMC
    ctrl = offset + PCI_PM_CTRL

    # Clear vconfig PME_Support, PME_Status, and PME_En bits
    struct.pack_into("<H", vconfig, pmc, struct.unpack_from("<H", vconfig, pmc)[0] & ~PCI_PM_CAP_PME_MASK)
    struct.pack_into(
        "<H",
        vconfig,
        ctrl,
        struct.unpack_from("<H", vconfig, ctrl)[0] & ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS),
    )


def vfio_fill_vconfig_bytes(vdev: vfio_pci_core_device, offset: int, size: int) -> int:
    """Copy ``size`` bytes of the device's config space at ``offset`` into
    ``vconfig`` (little-endian, as config space is), in the largest aligned chunks,
    assuming every field allows dword access (as pci_save_state() does).  Returns 0
    or the accessor's PCIBIOS_* code."""
    pdev = vdev.pdev
    vconfig = vdev.vconfig
    assert pdev is not None and vconfig is not None
    ret = 0

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


def vfio_cap_init(vdev: vfio_pci_core_device) -> int:
    """Walk the capability list: mark each capability's bytes in the map, copy them
    into vconfig, and unlink from the virtual chain those vfio hides."""
    pdev = vdev.pdev
    map_ = vdev.pci_config_map
    vconfig = vdev.vconfig
    assert pdev is not None and map_ is not None and vconfig is not None
    caps = 0

    # Any capabilities?
    ret, status = pci_read_config_word(pdev, PCI_STATUS)
    if ret:
        return ret

    if not status & PCI_STATUS_CAP_LIST:
        return 0  # Done

    ret, pos = pci_read_config_byte(pdev, PCI_CAPABILITY_LIST)
    if ret:
        return ret

    # Mark the previous position in case we want to skip a capability
    prev = PCI_CAPABILITY_LIST

    # We can bound our loop, capabilities are dword aligned
    loops = (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) // PCI_CAP_SIZEOF
    while pos and loops:
        loops -= 1
        length = 0

        ret, cap = pci_read_config_byte(pdev, pos)
        if ret:
            return ret

        ret, next_ = pci_read_config_byte(pdev, pos + PCI_CAP_LIST_NEXT)
        if ret:
            return ret

        # ID 0 is a NULL capability, which would collide with PCI_CAP_ID_BASIC; it
        # has no content, so it is hidden.
        if cap and cap <= PCI_CAP_ID_MAX:
            length = pci_cap_length[cap]
            if length == 0xFF:  # Variable length
                length = vfio_cap_len(vdev, cap, pos)
                if length < 0:
                    return length

        if not length:
            pci_dbg(pdev, "%s: hiding cap %#x@%#x\n", "vfio_cap_init", cap, pos)
            vconfig[prev] = next_
            pos = next_
            continue

        # Sanity check, do we overlap other capabilities?
        for i in range(length):
            if map_[pos + i] == PCI_CAP_ID_INVALID:
                continue

            pci_warn(
                pdev,
                "%s: PCI config conflict @%#x, was cap %#x now cap %#x\n",
                "vfio_cap_init",
                pos + i,
                map_[pos + i],
                cap,
            )

        map_[pos : pos + length] = bytes([cap]) * length
        ret = vfio_fill_vconfig_bytes(vdev, pos, length)
        if ret:
            return ret

        if cap == PCI_CAP_ID_PM:
            vfio_update_pm_vconfig_bytes(vdev, pos)

        prev = pos + PCI_CAP_LIST_NEXT
        pos = next_
        caps += 1

    # If we didn't fill any capabilities, clear the status flag
    if not caps:
        vstatus = struct.unpack_from("<H", vconfig, PCI_STATUS)[0]
        struct.pack_into("<H", vconfig, PCI_STATUS, vstatus & ~PCI_STATUS_CAP_LIST)

    return 0


def vfio_ecap_init(vdev: vfio_pci_core_device) -> int:
    """The same for the extended capability list (from 0x100)."""
    pdev = vdev.pdev
    map_ = vdev.pci_config_map
    vconfig = vdev.vconfig
    assert pdev is not None and map_ is not None and vconfig is not None
    prev: int | None = None
    ecaps = 0

    if not vdev.extended_caps:
        return 0

    epos = PCI_CFG_SPACE_SIZE

    loops = (pdev.cfg_size - PCI_CFG_SPACE_SIZE) // PCI_CAP_SIZEOF

    while loops and epos >= PCI_CFG_SPACE_SIZE:
        loops -= 1
        length = 0
        hidden = False

        ret, header = pci_read_config_dword(pdev, epos)
        if ret:
            return ret

        ecap = PCI_EXT_CAP_ID(header)

        if ecap <= PCI_EXT_CAP_ID_MAX:
            length = pci_ext_cap_length[ecap]
            if length == 0xFF:
                length = vfio_ext_cap_len(vdev, ecap, epos)
                if length < 0:
                    return length

        if not length:
            pci_dbg(pdev, "%s: hiding ecap %#x@%#x\n", "vfio_ecap_init", ecap, epos)

            # If not the first in the chain, we can skip over it
            if prev is not None:
                val = epos = PCI_EXT_CAP_NEXT(header)
                p = struct.unpack_from("<I", vconfig, prev)[0] & ~(0xFFC << 20)
                struct.pack_into("<I", vconfig, prev, (p | (val << 20)) & 0xFFFFFFFF)
                continue

            # Otherwise keep a placeholder: the direct readfn virtualises it
            length = PCI_CAP_SIZEOF
            hidden = True

        for i in range(length):
            if map_[epos + i] == PCI_CAP_ID_INVALID:
                continue

            pci_warn(
                pdev,
                "%s: PCI config conflict @%#x, was ecap %#x now ecap %#x\n",
                "vfio_ecap_init",
                epos + i,
                map_[epos + i],
                ecap,
            )

        # the map has one byte per config byte, which holds every ecap id so far
        map_[epos : epos + length] = bytes([ecap & 0xFF]) * length
        ret = vfio_fill_vconfig_bytes(vdev, epos, length)
        if ret:
            return ret

        # A placeholder anchoring the list hides its real ID; only real ecaps count.
        # (The spec's "no ecaps" is id 0, version 0, next 0: users follow next.)
        if hidden:
            struct.pack_into("<I", vconfig, epos, struct.unpack_from("<I", vconfig, epos)[0] & (0xFFC << 20))
        else:
            ecaps += 1

        prev = epos
        epos = PCI_EXT_CAP_NEXT(header)

    if not ecaps:
        struct.pack_into("<I", vconfig, PCI_CFG_SPACE_SIZE, 0)

    return 0


#: ``known_bogus_vf_intx_pin[]``: (vendor, device) of VFs known to report a pin.
known_bogus_vf_intx_pin: Final = ((PCI_VENDOR_ID_INTEL, 0x270C),)


def vfio_config_init(vdev: vfio_pci_core_device) -> int:
    """Build, for an opening device, ``pci_config_map`` (which capability owns each
    config byte, and so which ``perm_bits`` serve it) and ``vconfig`` (the virtual
    config space, filled from the device)."""
    pdev = vdev.pdev
    assert pdev is not None

    # byte granularity: capability lengths need not be dword multiples
    map_ = bytearray(pdev.cfg_size)
    vconfig = bytearray(pdev.cfg_size)

    vdev.pci_config_map = map_
    vdev.vconfig = vconfig

    map_[0:PCI_STD_HEADER_SIZEOF] = bytes([PCI_CAP_ID_BASIC]) * PCI_STD_HEADER_SIZEOF
    map_[PCI_STD_HEADER_SIZEOF:] = bytes([PCI_CAP_ID_INVALID]) * (pdev.cfg_size - PCI_STD_HEADER_SIZEOF)

    ret = vfio_fill_vconfig_bytes(vdev, 0, PCI_STD_HEADER_SIZEOF)
    if ret:
        return _vfio_config_init_out(vdev, ret)

    vdev.bardirty = True

    # For restore after reset
    for i in range(6):
        vdev.rbar[i] = struct.unpack_from("<I", vconfig, PCI_BASE_ADDRESS_0 + 4 * i)[0]
    vdev.rbar[6] = struct.unpack_from("<I", vconfig, PCI_ROM_ADDRESS)[0]

    if pdev.is_virtfn:
        struct.pack_into("<H", vconfig, PCI_VENDOR_ID, pdev.vendor)
        struct.pack_into("<H", vconfig, PCI_DEVICE_ID, pdev.device)

        # SR-IOV says a VF's pin register is read-only 0; userspace cannot tell a
        # VF, so a bogus pin is replaced here (and the INTx count considers VFs)
        if vconfig[PCI_INTERRUPT_PIN] and (pdev.vendor, pdev.device) not in known_bogus_vf_intx_pin:
            pci_warn(pdev, "Hardware bug: VF reports bogus INTx pin %d\n", vconfig[PCI_INTERRUPT_PIN])

        vconfig[PCI_INTERRUPT_PIN] = 0  # Gratuitous for good VFs

    if pdev.no_command_memory:
        # such devices do not implement Memory enable; show it set, as for PFs
        cmd = struct.unpack_from("<H", vconfig, PCI_COMMAND)[0]
        struct.pack_into("<H", vconfig, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY)

    if not _vfio_pci_intx_enabled() or vdev.nointx or not pdev.irq or pdev.irq == IRQ_NOTCONNECTED:
        vconfig[PCI_INTERRUPT_PIN] = 0

    ret = vfio_cap_init(vdev)
    if ret:
        return _vfio_config_init_out(vdev, ret)

    ret = vfio_ecap_init(vdev)
    if ret:
        return _vfio_config_init_out(vdev, ret)

    return 0


def _vfio_config_init_out(vdev: vfio_pci_core_device, ret: int) -> int:
    """The ``out:`` label of :func:`vfio_config_init`.  Exists only in Python."""
    vdev.pci_config_map = None
    vdev.vconfig = None
    return pcibios_err_to_errno(ret)


def _vfio_pci_intx_enabled() -> bool:
    """``IS_ENABLED(CONFIG_VFIO_PCI_INTX)``: the option is ``def_bool y if !S390``, so
    it is off on s390.  Exists only in Python (the option is not in the model's
    Kconfig list: it is derived)."""
    from kernel.lib.kconfig import CONFIG_S390

    return not IS_ENABLED(CONFIG_S390)


def vfio_config_free(vdev: vfio_pci_core_device) -> None:
    vdev.vconfig = None
    vdev.pci_config_map = None
    # vdev->msi_perm: MSI is not ported (module docstring)


def vfio_pci_cap_remaining_dword(vdev: vfio_pci_core_device, pos: int) -> int:
    """Bytes from ``pos`` to the end of its dword or of its capability, whichever
    comes first."""
    map_ = vdev.pci_config_map
    assert map_ is not None
    cap = map_[pos]

    i = 1
    while (pos + i) % 4 and map_[pos + i] == cap:
        i += 1

    return i


def vfio_pci_config_rw_single(
    vdev: vfio_pci_core_device, buf: int, count: int, ppos: list[int], iswrite: bool
) -> int:
    """One aligned access of at most a dword, within one capability; returns the
    bytes done (the caller moves on) or a negative errno."""
    pdev = vdev.pdev
    map_ = vdev.pci_config_map
    assert pdev is not None and map_ is not None
    val = 0
    cap_start = 0
    pos = ppos[0]

    if pos < 0 or pos >= pdev.cfg_size or pos + count > pdev.cfg_size:
        return -errno.EFAULT

    # Chop accesses into aligned chunks containing no more than a single capability
    count = min(count, vfio_pci_cap_remaining_dword(vdev, pos))
    if count >= 4 and not pos % 4:
        count = 4
    elif count >= 2 and not pos % 2:
        count = 2
    else:
        count = 1

    ret = count

    cap_id = map_[pos]

    if cap_id == PCI_CAP_ID_INVALID:
        perm = unassigned_perms
        cap_start = pos
    elif cap_id == PCI_CAP_ID_INVALID_VIRT:
        perm = virt_perms
        cap_start = pos
    else:
        if pos >= PCI_CFG_SPACE_SIZE:
            # an id past PCI_EXT_CAP_ID_MAX is an unknown capability hidden at the
            # head of the extended list: default read-only access virtualises its
            # id and next fields
            cap_start = vfio_find_cap_start(vdev, pos)

            if cap_id > PCI_EXT_CAP_ID_MAX:
                perm = direct_ro_perms
            else:
                perm = ecap_perms[cap_id]
        else:
            WARN_ON(cap_id > PCI_CAP_ID_MAX)

            perm = cap_perms[cap_id]

            # cap_id == PCI_CAP_ID_MSI -> vdev->msi_perm: MSI is not ported

            if cap_id > PCI_CAP_ID_BASIC:
                cap_start = vfio_find_cap_start(vdev, pos)

    WARN_ON(not cap_start and cap_id != PCI_CAP_ID_BASIC)
    WARN_ON(cap_start > pos)

    offset = pos - cap_start

    if iswrite:
        if perm.writefn is None:
            return ret

        kbuf = bytearray(4)
        if copy_from_user(kbuf, buf, count):
            return -errno.EFAULT
        val = int.from_bytes(kbuf[:count], "little")

        ret = perm.writefn(vdev, pos, count, perm, offset, val)
    else:
        if perm.readfn is not None:
            ret, val = perm.readfn(vdev, pos, count, perm, offset)
            if ret < 0:
                return ret

        if copy_to_user(buf, (val & 0xFFFFFFFF).to_bytes(4, "little"), count):
            return -errno.EFAULT

    return ret


def vfio_pci_config_rw(
    vdev: vfio_pci_core_device, buf: int, count: int, ppos: list[int], iswrite: bool
) -> int:
    """Read or write the config region: one :func:`vfio_pci_config_rw_single` per
    chunk; ``*ppos`` advances by the bytes done."""
    done = 0
    pos = [ppos[0] & VFIO_PCI_OFFSET_MASK]

    while count:
        ret = vfio_pci_config_rw_single(vdev, buf, count, pos, iswrite)
        if ret < 0:
            return ret

        count -= ret
        done += ret
        buf += ret
        pos[0] += ret

    ppos[0] += done

    return done


def vfio_pci_core_range_intersect_range(
    buf_start: int, buf_cnt: int, reg_start: int, reg_cnt: int
) -> tuple[bool, int, int, int]:
    """Overlap of the buffer ``[buf_start, +buf_cnt)`` with the register
    ``[reg_start, +reg_cnt)``: ``(overlaps, buf_offset, intersect_count,
    register_offset)`` (the C's three out-parameters; 0 when there is no overlap)."""
    if buf_start <= reg_start and buf_start + buf_cnt > reg_start:
        buf_offset = reg_start - buf_start
        intersect_count = min(reg_cnt, buf_start + buf_cnt - reg_start)
        register_offset = 0
        return True, buf_offset, intersect_count, register_offset

    if buf_start > reg_start and buf_start < reg_start + reg_cnt:
        buf_offset = 0
        intersect_count = min(buf_cnt, reg_start + reg_cnt - buf_start)
        register_offset = buf_start - reg_start
        return True, buf_offset, intersect_count, register_offset

    return False, 0, 0, 0
