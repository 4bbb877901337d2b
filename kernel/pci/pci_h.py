"""drivers/pci/pci.h (Linux 7.1-rc4, before the v17 series): the PCI core's internal
header, as far as the reset and state paths of kernel/pci/pci.py use it.

Not changed by the v17 series.

What is here: the capability-list walkers ``PCI_FIND_NEXT_CAP`` and
``PCI_FIND_NEXT_EXT_CAP`` (macros in C, functions here), ``struct
pci_cap_saved_data`` / ``struct pci_cap_saved_state``, the PM delays, ``struct
pci_reset_fn_method`` and ``struct pci_dev_reset_methods``, ``pci_dev_set_io_state``,
and the ``static inline`` bodies the header gives for options this s390 kernel
builds without: no ACPI, no Intel MID, no PCIe ASPM, no DPC, no AER (see
kernel/lib/kconfig.py), no PTM, TPH, ATS, PRI or PASID.  Those bodies are what the C
runs on such a kernel: they return at once, or return the fixed value the header
gives.

Left out: everything the ported code does not use (resource helpers, link speed
macros, SR-IOV structs, sysfs groups, OF, DOE, the ``#ifdef`` alternatives for the
options above).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import attrs

from kernel.include.linux.pci import (
    PCI_POWER_ERROR,
    PCI_UNKNOWN,
    PCIBIOS_SUCCESSFUL,
    pci_channel_io_frozen,
    pci_channel_io_normal,
    pci_channel_io_perm_failure,
    pci_channel_state_t,
)
from uapi.linux.pci_regs import (
    PCI_CAP_ID_MASK,
    PCI_CAP_LIST_NEXT_MASK,
    PCI_CFG_SPACE_EXP_SIZE,
    PCI_CFG_SPACE_SIZE,
    PCI_EXT_CAP_ID,
    PCI_EXT_CAP_NEXT,
    PCI_STD_HEADER_SIZEOF,
)

if TYPE_CHECKING:
    from kernel.include.linux.pci import pci_dev

__all__ = [
    "PCI_FIND_CAP_TTL",
    "PCI_FIND_NEXT_CAP",
    "PCI_FIND_NEXT_EXT_CAP",
    "PCI_PM_D2_DELAY",
    "PCI_PM_D3COLD_WAIT",
    "PCI_PM_D3HOT_WAIT",
    "acpi_pci_get_power_state",
    "acpi_pci_refresh_power_state",
    "acpi_pci_set_power_state",
    "mid_pci_get_power_state",
    "mid_pci_set_power_state",
    "pci_aer_clear_status",
    "pci_bridge_reconfigure_ltr",
    "pci_cap_saved_data",
    "pci_cap_saved_state",
    "pci_dev_acpi_reset",
    "pci_dev_reset_methods",
    "pci_dev_set_io_state",
    "pci_reset_fn_method",
    "pci_restore_aer_state",
    "pci_restore_ats_state",
    "pci_restore_dpc_state",
    "pci_restore_pasid_state",
    "pci_restore_pri_state",
    "pci_restore_ptm_state",
    "pci_restore_tph_state",
    "pci_save_aer_state",
    "pci_save_dpc_state",
    "pci_save_ptm_state",
    "pci_save_tph_state",
    "pci_use_mid_pm",
    "pcie_aspm_pm_state_change",
    "pcie_aspm_powersave_config_link",
    "pcie_failed_link_retrain",
]

#: Most capabilities a standard list walk visits before it gives up (a looped list).
PCI_FIND_CAP_TTL: Final = 48



def PCI_FIND_NEXT_CAP(
    read_cfg_byte: Callable[..., tuple[int, int]],
    read_cfg_word: Callable[..., tuple[int, int]],
    start: int,
    cap: int,
    *args: object,
) -> tuple[int, int]:
    """``PCI_FIND_NEXT_CAP(read_cfg, start, cap, prev_ptr, args...)``.

    Reads the pointer at ``start``, then follows the standard capability list until
    it finds ID ``cap``.  The C pastes ``read_cfg##_byte`` / ``##_word``; here the two
    accessors are passed (``pci_bus_read_config_byte``/``_word`` with ``args`` = bus,
    devfn).  The optional ``prev_ptr`` out-parameter becomes the second return
    value: ``(position found or 0, position of the capability before it)``.
    """
    ttl = PCI_FIND_CAP_TTL
    found_pos = 0
    pos = start & 0xFF
    prev_pos = pos

    _, pos = read_cfg_byte(*args, pos)
    pos &= 0xFF

    while ttl:
        ttl -= 1
        if pos < PCI_STD_HEADER_SIZEOF:
            break

        pos = pos & ~3  # ALIGN_DOWN(pos, 4)
        _, ent = read_cfg_word(*args, pos)
        ent &= 0xFFFF

        cap_id = ent & PCI_CAP_ID_MASK
        if cap_id == 0xFF:
            break

        if cap_id == cap:
            found_pos = pos
            break

        prev_pos = pos
        pos = (ent & PCI_CAP_LIST_NEXT_MASK) >> 8
    return found_pos, prev_pos


def PCI_FIND_NEXT_EXT_CAP(
    read_cfg_dword: Callable[..., tuple[int, int]],
    start: int,
    cap: int,
    *args: object,
) -> tuple[int, int]:
    """``PCI_FIND_NEXT_EXT_CAP(read_cfg, start, cap, prev_ptr, args...)``: the same
    for the extended list above 0x100 (``start`` 0 starts at 0x100; a capability at
    ``start`` itself is skipped).  Returns ``(position or 0, previous position)``."""
    pos = start or PCI_CFG_SPACE_SIZE
    found_pos = 0
    prev_pos = pos

    ttl = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) // 8
    while ttl > 0 and pos >= PCI_CFG_SPACE_SIZE:
        ttl -= 1
        ret, header = read_cfg_dword(*args, pos)
        if ret != PCIBIOS_SUCCESSFUL:
            break

        if header == 0:
            break

        if PCI_EXT_CAP_ID(header) == cap and pos != start:
            found_pos = pos
            break

        prev_pos = pos
        pos = PCI_EXT_CAP_NEXT(header)
    return found_pos, prev_pos


@attrs.define(eq=False)
class pci_cap_saved_data:
    """``struct pci_cap_saved_data``.  ``data`` is the flexible ``u32 data[]``: its
    ``size`` bytes, as a ``bytearray``.  The helpers that fill it view it as ``u16``
    or ``u32`` registers in s390 (big-endian) byte order, which is what the C's
    ``(u16 *)&data[0]`` casts give on s390; ``memcpy`` of the structure copies the
    bytes."""

    cap_nr: int = 0
    cap_extended: bool = False
    size: int = 0
    data: bytearray = attrs.field(factory=bytearray)

    def __attrs_post_init__(self) -> None:
        if len(self.data) < self.size:
            self.data.extend(bytes(self.size - len(self.data)))


@attrs.define(eq=False)
class pci_cap_saved_state:
    """``struct pci_cap_saved_state``: the ``next`` hlist node is membership in
    ``dev.saved_cap_space``."""

    cap: pci_cap_saved_data = attrs.field(factory=pci_cap_saved_data)


PCI_PM_D2_DELAY: Final = 200  # usec; see PCIe r4.0, sec 5.9.1
PCI_PM_D3HOT_WAIT: Final = 10  # msec
PCI_PM_D3COLD_WAIT: Final = 100  # msec


def pci_dev_set_io_state(dev: pci_dev, new: pci_channel_state_t) -> bool:
    """Move ``dev.error_state`` to ``new`` unless the device is in perm_failure,
    which it never leaves.  True if the state is now ``new``.  The C uses
    xchg/cmpxchg; the model's callers hold the device lock, so plain reads and
    writes give the same result."""
    if new == pci_channel_io_perm_failure:
        dev.error_state = pci_channel_io_perm_failure
        return True
    if new == pci_channel_io_frozen:
        old = dev.error_state
        if old == pci_channel_io_normal:
            dev.error_state = pci_channel_io_frozen
        return old != pci_channel_io_perm_failure
    if new == pci_channel_io_normal:
        old = dev.error_state
        if old == pci_channel_io_frozen:
            dev.error_state = pci_channel_io_normal
        return old != pci_channel_io_perm_failure
    return False


# --- CONFIG_PCI_QUIRKS: pcie_failed_link_retrain() --------------------------------


def pcie_failed_link_retrain(dev: pci_dev) -> int:
    """drivers/pci/quirks.c retrains a link stuck below a downstream port.  Only
    ``pci_dev_wait()`` calls it, and only for a device below an upstream bridge;
    zPCI functions sit on root buses with no bridge and no link the OS can train, so
    the model answers as the header does without the quirk: -ENOTTY."""
    return -errno.ENOTTY


# --- ASPM (CONFIG_PCIEASPM is not set) ---------------------------------------------


def pcie_aspm_pm_state_change(pdev: pci_dev, locked: bool) -> None:
    pass


def pcie_aspm_powersave_config_link(pdev: pci_dev) -> None:
    pass


def pci_bridge_reconfigure_ltr(pdev: pci_dev) -> None:
    pass


# --- struct pci_dev_reset_methods / struct pci_reset_fn_method ---------------------


@attrs.define(eq=False, frozen=True)
class pci_dev_reset_methods:
    """One entry of quirks.c's device-specific reset table."""

    vendor: int
    device: int
    reset: Callable[[pci_dev, bool], int] | None


@attrs.define(eq=False, frozen=True)
class pci_reset_fn_method:
    """One entry of ``pci_reset_fn_methods[]``: ``reset_fn`` is ``None`` for the
    empty terminator entry at index 0."""

    reset_fn: Callable[[pci_dev, bool], int] | None = None
    name: str | None = None


# --- DPC, ATS, PRI, PASID, TPH, PTM (options not set) -------------------------------


def pci_save_dpc_state(dev: pci_dev) -> None:
    pass


def pci_restore_dpc_state(dev: pci_dev) -> None:
    pass


def pci_restore_ats_state(dev: pci_dev) -> None:
    pass


def pci_restore_pri_state(pdev: pci_dev) -> None:
    pass


def pci_restore_pasid_state(pdev: pci_dev) -> None:
    pass


def pci_restore_tph_state(dev: pci_dev) -> None:
    pass


def pci_save_tph_state(dev: pci_dev) -> None:
    pass


def pci_save_ptm_state(dev: pci_dev) -> None:
    pass


def pci_restore_ptm_state(dev: pci_dev) -> None:
    pass


# --- AER (CONFIG_PCIEAER is not set) ------------------------------------------------


def pci_aer_clear_status(dev: pci_dev) -> int:
    return -errno.EINVAL


def pci_save_aer_state(dev: pci_dev) -> None:
    pass


def pci_restore_aer_state(dev: pci_dev) -> None:
    pass


# --- ACPI (CONFIG_ACPI is not set: s390 has no ACPI) --------------------------------


def pci_dev_acpi_reset(dev: pci_dev, probe: bool) -> int:
    return -errno.ENOTTY


def acpi_pci_set_power_state(dev: pci_dev, state: int) -> int:
    return -errno.ENODEV


def acpi_pci_get_power_state(dev: pci_dev) -> int:
    return PCI_UNKNOWN


def acpi_pci_refresh_power_state(dev: pci_dev) -> None:
    pass


def acpi_pci_choose_state(pdev: pci_dev) -> int:
    return PCI_POWER_ERROR


# --- Intel MID (CONFIG_X86_INTEL_MID is not set) ------------------------------------


def pci_use_mid_pm() -> bool:
    return False


def mid_pci_set_power_state(pdev: pci_dev, state: int) -> int:
    return -errno.ENODEV


def mid_pci_get_power_state(pdev: pci_dev) -> int:
    return PCI_UNKNOWN
