"""drivers/pci/pci.c (Linux 7.1-rc4 with the v17 series): capability search, power
state as far as reset needs it, config-state save/restore, device enable/disable and
bus mastering, and the function/slot/bus reset paths.

Patches of the v17 series that change this file:

* v17 1/7 "PCI: Allow per function PCI slots to fix slot reset on s390":
  ``pci_dev_reset_slot_function()`` stops refusing multifunction devices whose slot
  is a per-function slot.
* v17 2/7 "PCI: Avoid saving config space state if inaccessible": adds
  ``pci_dev_config_accessible()`` and calls it in ``pci_dev_save_and_disable()``.
* v17 3/7 "PCI: Fail FLR when config space is inaccessible": calls it in
  ``pcie_reset_flr()``.

The stored source (legoater/linux @ 5394e31a3b4f) carries an older version of the
series; the base of this port follows the v17 patch context instead (no
inaccessibility check in ``pci_dev_save_and_disable()`` or ``pcie_reset_flr()``, the
multifunction test in ``pci_dev_reset_slot_function()``), and the v17 patches are
applied on top of it (``python -m tools.series baseline DIR`` writes the base).

Model notes (what differs from running the C, and why):

* Time is simulated (kernel/lib/delay.py): ``msleep(100)`` after an FLR advances the
  clock by 100 ms without waiting.
* ``pci_dev_reset_iommu_prepare()`` / ``pci_dev_reset_iommu_done()`` (iommu core)
  are hooks that succeed and do nothing: no IOMMU is modelled between the PCI core
  and the function, so there is nothing to quiesce.
* Capabilities the model's functions never have are handled by the other
  drivers/pci files' helpers as far as their opening lookup: VC (vc.c), LTR and
  L1SS (aspm.c), Resizable BAR (rebar.c), SR-IOV (iov.c).  They return when the
  capability is absent, as the C does; if a function did have one, they WARN that
  the model lacks it rather than pretend to save it.  ``pci_restore_msi_state()``
  is the MSI-X restore of kernel/pci/msi/ (drivers/pci/msi/api.c and msi.c), which
  writes the cached MSI-X messages back into the function's table.
* ``struct resource`` is not modelled: ``pci_enable_device()`` claims no BARs
  (``pcibios_enable_device()``'s default ``pci_enable_resources()`` would set Memory
  and I/O decode for assigned BARs), and ``pci_set_full_power_state()`` cannot call
  ``pci_restore_bars()``; BARs come back through ``pci_restore_state()``.
* ``pci_bridge_wait_for_secondary_bus()`` treats every downstream port as a
  <= 5 GT/s port without Data Link Layer Link Active reporting (link speed is not
  modelled).  zPCI functions sit on root buses, so s390 never gets there.
* Ratelimited prints (``pci_info_ratelimited``) print every time.
* ``__weak`` functions (``pcibios_enable_device``, ``pcibios_disable_device``,
  ``pcibios_set_master``, ``pcibios_reset_secondary_bus``) are module attributes
  the architecture code may replace, as a strong symbol replaces a weak one.

Left out: everything outside the paths above (ACS parameter parsing, PME, wakeup,
D3cold bridge logic, resources and regions, link speed and bandwidth, MPS/MRRS,
the sysfs ``reset_method`` attribute, which lives in pci-sysfs.c).
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Final

import attrs

from kernel.include.linux.pci import (
    PCI_D0,
    PCI_D1,
    PCI_D2,
    PCI_DEV_FLAGS_NO_BUS_RESET,
    PCI_DEV_FLAGS_NO_D3,
    PCI_DEV_FLAGS_NO_FLR_RESET,
    PCI_DEV_FLAGS_NO_PM_RESET,
    PCI_NUM_RESET_METHODS,
    PCI_POSSIBLE_ERROR,
    PCI_RESET_DO_RESET,
    PCI_RESET_PROBE,
    PCI_UNKNOWN,
    PCI_D3cold,
    PCI_D3hot,
    pci_bus,
    pci_dev,
    pci_dev_is_disconnected,
    pci_error_handlers,
    pci_is_bridge,
    pci_is_pcie,
    pci_is_root_bus,
    pci_pcie_cap,
    pci_pcie_type,
    pci_slot,
    pci_upstream_bridge,
    pcie_downstream_port,
)
from kernel.include.linux.pci_hotplug import hotplug_slot
from kernel.lib.bug import WARN, WARN_ON_ONCE
from kernel.lib.delay import msleep, udelay, usleep_range
from kernel.lib.device import device_lock, device_lock_assert, device_trylock, device_unlock
from kernel.lib.init import static_init
from kernel.lib.printk import dev_err, pci_dbg, pci_err, pci_info, pci_warn
from kernel.lib.rwsem import down_read, up_read
from kernel.pci.access import (
    pci_bus_read_config_byte,
    pci_bus_read_config_dword,
    pci_bus_read_config_word,
    pci_cfg_access_lock,
    pci_cfg_access_trylock,
    pci_cfg_access_unlock,
    pci_read_config_byte,
    pci_read_config_dword,
    pci_read_config_word,
    pci_write_config_byte,
    pci_write_config_dword,
    pci_write_config_word,
    pcie_capability_read_word,
    pcie_capability_set_word,
    pcie_capability_write_word,
)
from kernel.pci.msi.api import pci_restore_msi_state
from kernel.pci.pci_h import (
    PCI_FIND_NEXT_CAP,
    PCI_FIND_NEXT_EXT_CAP,
    PCI_PM_D2_DELAY,
    acpi_pci_get_power_state,
    acpi_pci_refresh_power_state,
    acpi_pci_set_power_state,
    mid_pci_get_power_state,
    mid_pci_set_power_state,
    pci_aer_clear_status,
    pci_bridge_reconfigure_ltr,
    pci_cap_saved_data,
    pci_cap_saved_state,
    pci_dev_acpi_reset,
    pci_reset_fn_method,
    pci_restore_aer_state,
    pci_restore_ats_state,
    pci_restore_dpc_state,
    pci_restore_pasid_state,
    pci_restore_pri_state,
    pci_restore_ptm_state,
    pci_restore_tph_state,
    pci_save_aer_state,
    pci_save_dpc_state,
    pci_save_ptm_state,
    pci_save_tph_state,
    pci_use_mid_pm,
    pcie_aspm_pm_state_change,
    pcie_aspm_powersave_config_link,
    pcie_failed_link_retrain,
)
from kernel.pci.quirks import pci_dev_specific_reset
from kernel.pci.search import pci_bus_sem
from uapi.linux.pci_regs import (
    PCI_ACS_CTRL,
    PCI_AF_CAP,
    PCI_AF_CAP_FLR,
    PCI_AF_CAP_TP,
    PCI_AF_CTRL,
    PCI_AF_CTRL_FLR,
    PCI_AF_STATUS_TP,
    PCI_BRIDGE_CONTROL,
    PCI_BRIDGE_CTL_BUS_RESET,
    PCI_CAP_ID_AF,
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_PCIX,
    PCI_CAP_LIST_NEXT,
    PCI_CAPABILITY_LIST,
    PCI_CB_CAPABILITY_LIST,
    PCI_CFG_SPACE_SIZE,
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_MASTER,
    PCI_DVSEC_HEADER1,
    PCI_DVSEC_HEADER2,
    PCI_EXP_DEVCAP_FLR,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL2,
    PCI_EXP_DEVCTL_BCR_FLR,
    PCI_EXP_DEVSTA,
    PCI_EXP_DEVSTA_TRPND,
    PCI_EXP_LNKCTL,
    PCI_EXP_LNKCTL2,
    PCI_EXP_RTCTL,
    PCI_EXP_SLTCTL,
    PCI_EXP_SLTCTL2,
    PCI_EXP_TYPE_ROOT_PORT,
    PCI_EXT_CAP_ID_DVSEC,
    PCI_EXT_CAP_ID_L1SS,
    PCI_EXT_CAP_ID_LTR,
    PCI_EXT_CAP_ID_MFVC,
    PCI_EXT_CAP_ID_REBAR,
    PCI_EXT_CAP_ID_VC,
    PCI_EXT_CAP_ID_VC9,
    PCI_HEADER_TYPE_BRIDGE,
    PCI_HEADER_TYPE_CARDBUS,
    PCI_HEADER_TYPE_NORMAL,
    PCI_INTERRUPT_PIN,
    PCI_LATENCY_TIMER,
    PCI_PM_CTRL,
    PCI_PM_CTRL_NO_SOFT_RESET,
    PCI_PM_CTRL_STATE_MASK,
    PCI_STATUS,
    PCI_STATUS_CAP_LIST,
    PCI_VENDOR_ID,
    PCI_X_CMD,
)

__all__ = [
    "PCIE_RESET_READY_POLL_MS",
    "PCI_RESET_WAIT",
    "__pci_reset_bus",
    "__pci_reset_function_locked",
    "pci_bridge_secondary_bus_reset",
    "pci_add_cap_save_buffer",
    "pci_add_ext_cap_save_buffer",
    "pci_allocate_cap_save_buffers",
    "pci_bus_find_capability",
    "pci_clear_master",
    "pci_dev_lock",
    "pci_dev_trylock",
    "pci_dev_unlock",
    "pci_disable_device",
    "pci_disable_enabled_device",
    "pci_enable_device",
    "pci_enable_device_mem",
    "pci_find_capability",
    "pci_find_dvsec_capability",
    "pci_find_ext_capability",
    "pci_find_next_capability",
    "pci_find_next_ext_capability",
    "pci_find_saved_cap",
    "pci_find_saved_ext_cap",
    "pci_free_cap_save_buffers",
    "pci_init_reset_methods",
    "pci_intx",
    "pci_intx_mask_supported",
    "pci_is_enabled",
    "pci_load_and_free_saved_state",
    "pci_load_saved_state",
    "pci_pm_d3hot_delay",
    "pci_power_names",
    "pci_power_up",
    "pci_probe_reset_bus",
    "pci_probe_reset_slot",
    "pci_reset_bus",
    "pci_reset_fn_methods",
    "pci_reset_function",
    "pci_reset_function_locked",
    "pci_reset_supported",
    "pci_restore_state",
    "pci_save_state",
    "pci_saved_state",
    "pci_set_master",
    "pci_set_power_state",
    "pci_store_saved_state",
    "pci_try_reset_function",
    "pci_update_current_state",
    "pci_wait_for_pending",
    "pci_wait_for_pending_transaction",
    "pcie_flr",
    "pcie_reset_flr",
]

# include/linux/pci_ids.h and the CXL headers: the ids the CXL bus reset method looks for.
PCI_VENDOR_ID_CXL: Final = 0x1E98
PCI_DVSEC_CXL_PORT: Final = 3
PCI_DVSEC_CXL_PORT_CTL: Final = 0x0C
PCI_DVSEC_CXL_PORT_CTL_UNMASK_SBR: Final = 0x00000001

# ``DEFINE_MUTEX(pci_slot_mutex)`` belongs to this file in C; the slot port defines
# it in kernel/pci/slot.py, its only user among the ported code.

pci_power_names: Final = ("error", "D0", "D1", "D2", "D3hot", "D3cold", "unknown")


@attrs.define
class _Tunables:
    """The file's plain ``int``/``bool`` globals, in one holder so that other modules
    read them as ``pci.pci_pm_d3hot_delay.value`` and see later changes."""

    value: int = 0


#: ``unsigned int pci_pm_d3hot_delay`` (the ``pci=d3hot_delay=`` parameter).
pci_pm_d3hot_delay = _Tunables()
#: ``static int pci_acs_enable`` (set by ``pci_request_acs()``).
pci_acs_enable = _Tunables()
#: ``unsigned int pcibios_max_latency = 255``.
pcibios_max_latency = _Tunables(255)


@static_init
def pci_static_init() -> None:
    pci_pm_d3hot_delay.value = 0
    pci_acs_enable.value = 0
    _warned_unlocked_sbr.clear()
    pcibios_max_latency.value = 255


#: Following exit from Conventional Reset a device must answer within 1 s
#: (PCIe r6.0 sec 6.6.1).
PCI_RESET_WAIT: Final = 1000  # msec

#: Devices may stretch that with Request Retry Status; 60 s is the limit we allow.
PCIE_RESET_READY_POLL_MS: Final = 60000  # msec


def pci_power_name(state: int) -> str:
    """include/linux/pci.h: the name of a ``pci_power_t``."""
    return pci_power_names[1 + state]


def pci_dev_d3_sleep(dev: pci_dev) -> None:
    delay_ms = max(dev.d3hot_delay, pci_pm_d3hot_delay.value)

    if delay_ms:
        # Allow 20% more, at least 1 ms.
        upper = max((delay_ms + 2) // 5, 1)  # DIV_ROUND_CLOSEST(delay_ms, 5)
        usleep_range(delay_ms * 1000, (delay_ms + upper) * 1000)


def pci_reset_supported(dev: pci_dev) -> bool:
    return dev.reset_methods[0] != 0


# --- Capability search ---------------------------------------------------------------


def __pci_find_next_cap(bus: pci_bus, devfn: int, pos: int, cap: int) -> int:
    return PCI_FIND_NEXT_CAP(pci_bus_read_config_byte, pci_bus_read_config_word, pos, cap, bus, devfn)[0]


def pci_find_next_capability(dev: pci_dev, pos: int, cap: int) -> int:
    """The next capability ``cap`` after the one at ``pos``, or 0."""
    return __pci_find_next_cap(dev.bus, dev.devfn, (pos + PCI_CAP_LIST_NEXT) & 0xFF, cap)


def __pci_bus_find_cap_start(bus: pci_bus, devfn: int, hdr_type: int) -> int:
    _, status = pci_bus_read_config_word(bus, devfn, PCI_STATUS)
    if not (status & PCI_STATUS_CAP_LIST):
        return 0

    if hdr_type in (PCI_HEADER_TYPE_NORMAL, PCI_HEADER_TYPE_BRIDGE):
        return PCI_CAPABILITY_LIST
    if hdr_type == PCI_HEADER_TYPE_CARDBUS:
        return PCI_CB_CAPABILITY_LIST

    return 0


def pci_find_capability(dev: pci_dev, cap: int) -> int:
    """Offset of the standard capability ``cap`` (``PCI_CAP_ID_*``) in the
    device's config space, or 0 if it has none."""
    pos = __pci_bus_find_cap_start(dev.bus, dev.devfn, dev.hdr_type)
    if pos:
        pos = __pci_find_next_cap(dev.bus, dev.devfn, pos, cap)

    return pos


def pci_bus_find_capability(bus: pci_bus, devfn: int, cap: int) -> int:
    """:func:`pci_find_capability` for a function that has no ``pci_dev`` yet."""
    _, hdr_type = pci_bus_read_config_byte(bus, devfn, 0x0E)  # PCI_HEADER_TYPE

    pos = __pci_bus_find_cap_start(bus, devfn, hdr_type & 0x7F)  # PCI_HEADER_TYPE_MASK
    if pos:
        pos = __pci_find_next_cap(bus, devfn, pos, cap)

    return pos


def pci_find_next_ext_capability(dev: pci_dev, start: int, cap: int) -> int:
    """The next extended capability ``cap`` after ``start`` (0: from the start of
    the extended list), or 0.  Devices with 256 bytes of config space have none."""
    if dev.cfg_size <= PCI_CFG_SPACE_SIZE:
        return 0

    return PCI_FIND_NEXT_EXT_CAP(pci_bus_read_config_dword, start, cap, dev.bus, dev.devfn)[0]


def pci_find_ext_capability(dev: pci_dev, cap: int) -> int:
    """Offset of the extended capability ``cap`` (``PCI_EXT_CAP_ID_*``), or 0."""
    return pci_find_next_ext_capability(dev, 0, cap)


def pci_find_dvsec_capability(dev: pci_dev, vendor: int, dvsec: int) -> int:
    """Offset of the Designated Vendor-Specific capability ``dvsec`` of ``vendor``."""
    pos = pci_find_ext_capability(dev, PCI_EXT_CAP_ID_DVSEC)
    if not pos:
        return 0

    while pos:
        _, v = pci_read_config_word(dev, pos + PCI_DVSEC_HEADER1)
        _, id_ = pci_read_config_word(dev, pos + PCI_DVSEC_HEADER2)
        if vendor == v and dvsec == id_:
            return pos

        pos = pci_find_next_ext_capability(dev, pos, PCI_EXT_CAP_ID_DVSEC)

    return 0


def pci_dev_config_accessible(dev: pci_dev, msg: str) -> bool:
    """False, with a warning naming what cannot be done (``msg``), when the
    function's config space reads all ones.

    Command/Status is the register read, not Vendor/Device ID: a VF may read all
    ones there while healthy.  The answer is only a snapshot: the function may
    become inaccessible right after it.
    """
    _, val = pci_read_config_dword(dev, PCI_COMMAND)
    if PCI_POSSIBLE_ERROR(val):
        pci_warn(dev, "Device config space inaccessible; unable to %s\n", msg)
        return False

    return True


def pci_wait_for_pending(dev: pci_dev, pos: int, mask: int) -> int:
    """Poll the status word at ``pos`` until the ``mask`` bits clear: 1 when they
    did, 0 after the last of four tries (0, 100, 200, 400 ms of waiting)."""
    for i in range(4):
        if i:
            msleep((1 << (i - 1)) * 100)

        _, status = pci_read_config_word(dev, pos)
        if not (status & mask):
            return 1

    return 0


def pci_enable_acs(dev: pci_dev) -> None:
    """Enable ACS if the device has it.  No zPCI function has an ACS capability
    (``acs_cap`` 0), so the C returns at that check; for a device that had one, the
    control register is written back unchanged: no IOMMU driver here requests ACS
    (``pci_acs_enable`` stays 0) and there is no kernel command line for
    ``__pci_config_acs()`` to apply."""
    pos = dev.acs_cap
    if not pos:
        return

    _, ctrl = pci_read_config_word(dev, pos + PCI_ACS_CTRL)
    pci_write_config_word(dev, pos + PCI_ACS_CTRL, ctrl)


# --- Platform power management (no ACPI, no Intel MID on s390) ----------------------


def platform_pci_set_power_state(dev: pci_dev, t: int) -> int:
    if pci_use_mid_pm():
        return mid_pci_set_power_state(dev, t)

    return acpi_pci_set_power_state(dev, t)


def platform_pci_get_power_state(dev: pci_dev) -> int:
    if pci_use_mid_pm():
        return mid_pci_get_power_state(dev)

    return acpi_pci_get_power_state(dev)


def platform_pci_refresh_power_state(dev: pci_dev) -> None:
    if not pci_use_mid_pm():
        acpi_pci_refresh_power_state(dev)


def pci_update_current_state(dev: pci_dev, state: int) -> None:
    """Read the power state from PMCSR and cache it in ``dev.current_state``; a
    device without PM capability gets ``state``; one that reads all ones is in
    D3cold (or gone)."""
    if platform_pci_get_power_state(dev) == PCI_D3cold:
        dev.current_state = PCI_D3cold
    elif dev.pm_cap:
        _, pmcsr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
        if PCI_POSSIBLE_ERROR(pmcsr, 2):
            dev.current_state = PCI_D3cold
            return
        dev.current_state = pmcsr & PCI_PM_CTRL_STATE_MASK
    else:
        dev.current_state = state


def pci_refresh_power_state(dev: pci_dev) -> None:
    platform_pci_refresh_power_state(dev)
    pci_update_current_state(dev, dev.current_state)


def pci_platform_power_transition(dev: pci_dev, state: int) -> int:
    error = platform_pci_set_power_state(dev, state)
    if not error:
        pci_update_current_state(dev, state)
    elif not dev.pm_cap:  # Fall back to PCI_D0
        dev.current_state = PCI_D0

    return error


def pcie_find_root_port(dev: pci_dev | None) -> pci_dev | None:
    """include/linux/pci.h: the Root Port above ``dev`` (or ``dev`` itself)."""
    while dev is not None:
        if pci_is_pcie(dev) and pci_pcie_type(dev) == PCI_EXP_TYPE_ROOT_PORT:
            return dev
        dev = pci_upstream_bridge(dev)
    return None


def pci_bus_rrs_vendor_id(l: int) -> bool:  # noqa: E741 (the C name)
    """drivers/pci/pci.h: the Vendor ID reads as the RRS special value 0x0001."""
    return (l & 0xFFFF) == 0x0001  # PCI_VENDOR_ID_PCI_SIG


def pci_dev_wait(dev: pci_dev, reset_type: str, timeout: int) -> int:
    """Wait, doubling the sleep each time, until the device answers config reads
    after a reset: 0 when it does, -ENOTTY if it is gone or still silent after
    ``timeout`` ms."""
    delay = 1
    retrain = False
    bridge: pci_dev | None = None

    root = pcie_find_root_port(dev)

    if pci_is_pcie(dev):
        bridge = pci_upstream_bridge(dev)
        if bridge is not None:
            retrain = True

    # The device may still answer with Request Retry Status while it initialises.
    # Below a Root Port with RRS Software Visibility the Vendor ID shows that;
    # otherwise hardware retries and finally returns ~0, which is also what a
    # VF's Vendor ID reads, so poll the Command register instead.
    while True:
        if pci_dev_is_disconnected(dev):
            pci_dbg(dev, "disconnected; not waiting\n")
            return -errno.ENOTTY

        if root is not None and root.config_rrs_sv:
            _, id_ = pci_read_config_dword(dev, PCI_VENDOR_ID)
            if not pci_bus_rrs_vendor_id(id_):
                break
        else:
            _, id_ = pci_read_config_dword(dev, PCI_COMMAND)
            if not PCI_POSSIBLE_ERROR(id_):
                break

        if delay > timeout:
            pci_warn(dev, "not ready %dms after %s; giving up\n", delay - 1, reset_type)
            return -errno.ENOTTY

        if delay > PCI_RESET_WAIT:
            if retrain:
                retrain = False
                assert bridge is not None
                if pcie_failed_link_retrain(bridge) == 0:
                    delay = 1
                    continue
            pci_info(dev, "not ready %dms after %s; waiting\n", delay - 1, reset_type)

        msleep(delay)
        delay *= 2

    if delay > PCI_RESET_WAIT:
        pci_info(dev, "ready %dms after %s\n", delay - 1, reset_type)
    else:
        pci_dbg(dev, "ready %dms after %s\n", delay - 1, reset_type)

    return 0


# --- Power state ---------------------------------------------------------------------


def pci_power_up(dev: pci_dev) -> int:
    """Put ``dev`` into D0.  Returns 1 if its BARs need restoring afterwards (it was
    in D3hot and does not keep state through a soft reset), 0, or -EIO (no PM
    capability, disconnected, or config space reads all ones)."""
    platform_pci_set_power_state(dev, PCI_D0)

    if not dev.pm_cap:
        state = platform_pci_get_power_state(dev)
        if state == PCI_UNKNOWN:
            dev.current_state = PCI_D0
        else:
            dev.current_state = state

        return -errno.EIO

    if pci_dev_is_disconnected(dev):
        dev.current_state = PCI_D3cold
        return -errno.EIO

    _, pmcsr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
    if PCI_POSSIBLE_ERROR(pmcsr, 2):
        pci_err(
            dev,
            "Unable to change power state from %s to D0, device inaccessible\n",
            pci_power_name(dev.current_state),
        )
        dev.current_state = PCI_D3cold
        return -errno.EIO

    state = pmcsr & PCI_PM_CTRL_STATE_MASK

    need_restore = (state == PCI_D3hot or dev.current_state >= PCI_D3hot) and not (
        pmcsr & PCI_PM_CTRL_NO_SOFT_RESET
    )

    if state != PCI_D0:
        # Writing 0 clears PME_En and selects D0; PME_Status is write-1-to-clear
        # and stays as it is.
        pci_write_config_word(dev, dev.pm_cap + PCI_PM_CTRL, 0)

        # Transition delays of PCI PM 1.2.
        if state == PCI_D3hot:
            pci_dev_d3_sleep(dev)
        elif state == PCI_D2:
            udelay(PCI_PM_D2_DELAY)

    # end:
    dev.current_state = PCI_D0
    if need_restore:
        return 1

    return 0


def pci_set_full_power_state(dev: pci_dev, locked: bool) -> int:
    ret = pci_power_up(dev)
    if ret < 0:
        if dev.current_state == PCI_D0:
            return 0

        return ret

    _, pmcsr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
    dev.current_state = pmcsr & PCI_PM_CTRL_STATE_MASK
    if dev.current_state != PCI_D0:
        pci_info(
            dev, "Refused to change power state from %s to D0\n", pci_power_name(dev.current_state)
        )
    # else if ret > 0: the C calls pci_restore_bars() (not modelled, see module doc).

    if dev.bus.self is not None:
        pcie_aspm_pm_state_change(dev.bus.self, locked)

    return 0


def __pci_dev_set_current_state(dev: pci_dev, state: int) -> int:
    dev.current_state = state
    return 0


def __pci_bus_set_current_state(bus: pci_bus | None, state: int, locked: bool) -> None:
    """Set ``current_state`` of every device on and below ``bus``
    (``pci_walk_bus()`` / ``pci_walk_bus_locked()``)."""
    if bus is None:
        return

    if not locked:
        down_read(pci_bus_sem)
    try:
        stack = [bus]
        while stack:
            b = stack.pop()
            for dev in b.devices:
                __pci_dev_set_current_state(dev, state)
                if dev.subordinate is not None:
                    stack.append(dev.subordinate)
    finally:
        if not locked:
            up_read(pci_bus_sem)


def pci_no_d1d2(dev: pci_dev) -> bool:
    """drivers/pci/pci.h."""
    parent_dstates = False

    if dev.bus.self is not None:
        parent_dstates = dev.bus.self.no_d1d2
    return dev.no_d1d2 or parent_dstates


def pci_set_low_power_state(dev: pci_dev, state: int, locked: bool) -> int:
    if not dev.pm_cap:
        return -errno.EIO

    # From a low-power state one can only go deeper (or back to D0).
    if dev.current_state <= PCI_D3cold and dev.current_state > state:
        pci_dbg(
            dev,
            "Invalid power transition (from %s to %s)\n",
            pci_power_name(dev.current_state),
            pci_power_name(state),
        )
        return -errno.EINVAL

    if (state == PCI_D1 and not dev.d1_support) or (state == PCI_D2 and not dev.d2_support):
        return -errno.EIO

    if dev.current_state == state:
        return 0

    _, pmcsr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
    if PCI_POSSIBLE_ERROR(pmcsr, 2):
        pci_err(
            dev,
            "Unable to change power state from %s to %s, device inaccessible\n",
            pci_power_name(dev.current_state),
            pci_power_name(state),
        )
        dev.current_state = PCI_D3cold
        return -errno.EIO

    pmcsr &= ~PCI_PM_CTRL_STATE_MASK & 0xFFFF
    pmcsr |= state

    pci_write_config_word(dev, dev.pm_cap + PCI_PM_CTRL, pmcsr)

    if state == PCI_D3hot:
        pci_dev_d3_sleep(dev)
    elif state == PCI_D2:
        udelay(PCI_PM_D2_DELAY)

    _, pmcsr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
    dev.current_state = pmcsr & PCI_PM_CTRL_STATE_MASK
    if dev.current_state != state:
        pci_info(
            dev,
            "Refused to change power state from %s to %s\n",
            pci_power_name(dev.current_state),
            pci_power_name(state),
        )

    if dev.bus.self is not None:
        pcie_aspm_pm_state_change(dev.bus.self, locked)

    return 0


def __pci_set_power_state(dev: pci_dev, state: int, locked: bool) -> int:
    if state > PCI_D3cold:
        state = PCI_D3cold
    elif state < PCI_D0:
        state = PCI_D0
    elif state in (PCI_D1, PCI_D2) and pci_no_d1d2(dev):
        # Without PM support only the move to D0 is done.
        return 0

    if dev.current_state == state:
        return 0

    if state == PCI_D0:
        return pci_set_full_power_state(dev, locked)

    # Quirked devices never go to D3.
    if state >= PCI_D3hot and (dev.dev_flags & PCI_DEV_FLAGS_NO_D3):
        return 0

    if state == PCI_D3cold:
        # D3hot natively first, then D3cold through the platform.
        error = pci_set_low_power_state(dev, PCI_D3hot, locked)

        if pci_platform_power_transition(dev, PCI_D3cold):
            return error

        # Powering off a bridge may power off everything below it.
        if dev.current_state == PCI_D3cold:
            __pci_bus_set_current_state(dev.subordinate, PCI_D3cold, locked)
    else:
        error = pci_set_low_power_state(dev, state, locked)

        if pci_platform_power_transition(dev, state):
            return error

    return 0


def pci_set_power_state(dev: pci_dev, state: int) -> int:
    """Move ``dev`` to power state ``state`` (``PCI_D0`` ... ``PCI_D3cold``).  0 on
    success or when nothing is to be done; -EIO / -EINVAL as the C."""
    return __pci_set_power_state(dev, state, False)


# --- Config state save / restore -----------------------------------------------------

PCI_EXP_SAVE_REGS: Final = 7


def _pci_find_saved_cap(pci_dev_: pci_dev, cap: int, extended: bool) -> pci_cap_saved_state | None:
    for tmp in pci_dev_.saved_cap_space:
        if tmp.cap.cap_extended == extended and tmp.cap.cap_nr == cap:
            assert isinstance(tmp, pci_cap_saved_state)
            return tmp
    return None


def pci_find_saved_cap(dev: pci_dev, cap: int) -> pci_cap_saved_state | None:
    return _pci_find_saved_cap(dev, cap, False)


def pci_find_saved_ext_cap(dev: pci_dev, cap: int) -> pci_cap_saved_state | None:
    return _pci_find_saved_cap(dev, cap, True)


def _get_u16(data: bytearray, i: int) -> int:
    """``((u16 *)data)[i]`` on s390 (Python only)."""
    return int.from_bytes(data[2 * i : 2 * i + 2], "big")


def _set_u16(data: bytearray, i: int, val: int) -> None:
    data[2 * i : 2 * i + 2] = (val & 0xFFFF).to_bytes(2, "big")


_PCIE_SAVED_REGS: Final = (
    PCI_EXP_DEVCTL,
    PCI_EXP_LNKCTL,
    PCI_EXP_SLTCTL,
    PCI_EXP_RTCTL,
    PCI_EXP_DEVCTL2,
    PCI_EXP_LNKCTL2,
    PCI_EXP_SLTCTL2,
)


def pci_save_pcie_state(dev: pci_dev) -> int:
    if not pci_is_pcie(dev):
        return 0

    save_state = pci_find_saved_cap(dev, PCI_CAP_ID_EXP)
    if save_state is None:
        pci_err(dev, "buffer not found in %s\n", "pci_save_pcie_state")
        return -errno.ENOMEM

    # DEVCTL, LNKCTL, SLTCTL, RTCTL, DEVCTL2, LNKCTL2, SLTCTL2, in this order.
    cap = save_state.cap.data
    for i, reg in enumerate(_PCIE_SAVED_REGS):
        _, val = pcie_capability_read_word(dev, reg)
        _set_u16(cap, i, val)

    pci_save_aspm_l1ss_state(dev)
    pci_save_ltr_state(dev)

    return 0


def pci_restore_pcie_state(dev: pci_dev) -> None:
    # LTR latencies go back before DEVCTL2 re-enables LTR.
    pci_restore_ltr_state(dev)
    pci_restore_aspm_l1ss_state(dev)

    save_state = pci_find_saved_cap(dev, PCI_CAP_ID_EXP)
    if save_state is None:
        return

    # Downstream ports lose their LTR enable when the link goes down.
    pci_bridge_reconfigure_ltr(dev)

    cap = save_state.cap.data
    for i, reg in enumerate(_PCIE_SAVED_REGS):
        pcie_capability_write_word(dev, reg, _get_u16(cap, i))


def pci_save_pcix_state(dev: pci_dev) -> int:
    pos = pci_find_capability(dev, PCI_CAP_ID_PCIX)
    if not pos:
        return 0

    save_state = pci_find_saved_cap(dev, PCI_CAP_ID_PCIX)
    if save_state is None:
        pci_err(dev, "buffer not found in %s\n", "pci_save_pcix_state")
        return -errno.ENOMEM

    _, val = pci_read_config_word(dev, pos + PCI_X_CMD)
    _set_u16(save_state.cap.data, 0, val)

    return 0


def pci_restore_pcix_state(dev: pci_dev) -> None:
    save_state = pci_find_saved_cap(dev, PCI_CAP_ID_PCIX)
    pos = pci_find_capability(dev, PCI_CAP_ID_PCIX)
    if save_state is None or not pos:
        return

    pci_write_config_word(dev, pos + PCI_X_CMD, _get_u16(save_state.cap.data, 0))


def pci_save_state(dev: pci_dev) -> int:
    """Save the first 64 bytes of config space and the PCIe/PCI-X control registers
    into ``dev``; sets ``dev.state_saved``.  0, or -ENOMEM when a capability's save
    buffer is missing."""
    for i in range(16):
        _, dev.saved_config_space[i] = pci_read_config_dword(dev, i * 4)
        pci_dbg(dev, "save config %#04x: %#010x\n", i * 4, dev.saved_config_space[i])
    dev.state_saved = True

    i = pci_save_pcie_state(dev)
    if i != 0:
        return i

    i = pci_save_pcix_state(dev)
    if i != 0:
        return i

    pci_save_dpc_state(dev)
    pci_save_aer_state(dev)
    pci_save_ptm_state(dev)
    pci_save_tph_state(dev)
    return pci_save_vc_state(dev)


def pci_restore_config_dword(pdev: pci_dev, offset: int, saved_val: int, retry: int, force: bool) -> None:
    _, val = pci_read_config_dword(pdev, offset)
    if not force and val == saved_val:
        return

    while True:
        pci_dbg(pdev, "restore config %#04x: %#010x -> %#010x\n", offset, val, saved_val)
        pci_write_config_dword(pdev, offset, saved_val)
        if retry <= 0:
            return
        retry -= 1

        _, val = pci_read_config_dword(pdev, offset)
        if val == saved_val:
            return

        msleep(1)  # mdelay(1)


def pci_restore_config_space_range(pdev: pci_dev, start: int, end: int, retry: int, force: bool) -> None:
    for index in range(end, start - 1, -1):
        pci_restore_config_dword(pdev, 4 * index, pdev.saved_config_space[index], retry, force)


def pci_restore_config_space(pdev: pci_dev) -> None:
    if pdev.hdr_type == PCI_HEADER_TYPE_NORMAL:
        pci_restore_config_space_range(pdev, 10, 15, 0, False)
        # BARs go back before the Command register enables decoding.
        pci_restore_config_space_range(pdev, 4, 9, 10, False)
        pci_restore_config_space_range(pdev, 0, 3, 0, False)
    elif pdev.hdr_type == PCI_HEADER_TYPE_BRIDGE:
        pci_restore_config_space_range(pdev, 12, 15, 0, False)
        # Prefetch windows are always rewritten (Intel bridges lose them over S3).
        pci_restore_config_space_range(pdev, 9, 11, 0, True)
        pci_restore_config_space_range(pdev, 0, 8, 0, False)
    else:
        pci_restore_config_space_range(pdev, 0, 15, 0, False)


def pci_restore_state(dev: pci_dev) -> None:
    """Write the saved state back to the device; clears ``dev.state_saved``."""
    pci_restore_pcie_state(dev)
    pci_restore_pasid_state(dev)
    pci_restore_pri_state(dev)
    pci_restore_ats_state(dev)
    pci_restore_vc_state(dev)
    pci_restore_rebar_state(dev)
    pci_restore_dpc_state(dev)
    pci_restore_ptm_state(dev)
    pci_restore_tph_state(dev)

    pci_aer_clear_status(dev)
    pci_restore_aer_state(dev)

    pci_restore_config_space(dev)

    pci_restore_pcix_state(dev)
    pci_restore_msi_state(dev)

    # ACS and SR-IOV configuration.
    pci_enable_acs(dev)
    pci_restore_iov_state(dev)

    dev.state_saved = False


@attrs.define(eq=False)
class pci_saved_state:
    """``struct pci_saved_state``: a copy of ``saved_config_space`` and of every
    saved capability buffer, ending (as the C's flexible array does) with an empty
    ``pci_cap_saved_data`` whose ``size`` is 0."""

    config_space: list[int] = attrs.field(factory=lambda: [0] * 16)
    cap: list[pci_cap_saved_data] = attrs.field(factory=list)


def pci_store_saved_state(dev: pci_dev) -> pci_saved_state | None:
    """A copy of the device's saved state, or ``None`` if nothing is saved."""
    if not dev.state_saved:
        return None

    state = pci_saved_state()

    state.config_space[:] = dev.saved_config_space[:16]

    for tmp in dev.saved_cap_space:
        c = tmp.cap
        copy = pci_cap_saved_data(cap_nr=c.cap_nr, cap_extended=c.cap_extended, size=c.size)
        copy.data[:] = c.data  # memcpy(cap, &tmp->cap, len)
        state.cap.append(copy)
    # Empty cap_save terminates list
    state.cap.append(pci_cap_saved_data())

    return state


def pci_load_saved_state(dev: pci_dev, state: pci_saved_state | None) -> int:
    """Copy ``state`` into the device's saved state (not into the device: that is
    :func:`pci_restore_state`).  -EINVAL if a capability buffer is missing or of
    another size; ``state_saved`` is then left false."""
    dev.state_saved = False

    if state is None:
        return 0

    dev.saved_config_space[:16] = state.config_space[:16]

    for cap in state.cap:
        if not cap.size:
            break

        tmp = _pci_find_saved_cap(dev, cap.cap_nr, cap.cap_extended)
        if tmp is None or tmp.cap.size != cap.size:
            return -errno.EINVAL

        tmp.cap.data[: tmp.cap.size] = cap.data[: tmp.cap.size]

    dev.state_saved = True
    return 0


def pci_load_and_free_saved_state(
    dev: pci_dev, state: pci_saved_state | None
) -> tuple[int, pci_saved_state | None]:
    """``pci_load_and_free_saved_state(dev, &state)``: loads, then frees the state.
    The ``struct pci_saved_state **`` out-parameter becomes the second return value,
    always ``None`` (what the C stores in ``*state``)."""
    ret = pci_load_saved_state(dev, state)
    return ret, None


# --- Enable / disable ------------------------------------------------------------------


def pci_is_enabled(pdev: pci_dev) -> bool:
    """include/linux/pci.h."""
    return pdev.enable_cnt > 0


def pcibios_enable_device_default(dev: pci_dev, bars: int) -> int:
    """``int __weak pcibios_enable_device(dev, bars)``: ``pci_enable_resources()``,
    which sets Memory/I-O decode for the assigned BARs in ``bars``.  Resources are
    not modelled, no BAR is ever assigned, so nothing is claimed (0)."""
    return 0


#: ``__weak``: arch code replaces ``kernel.pci.pci.pcibios_enable_device``.
pcibios_enable_device: Callable[[pci_dev, int], int] = pcibios_enable_device_default


def do_pci_enable_device(dev: pci_dev, bars: int) -> int:
    err = pci_set_power_state(dev, PCI_D0)
    if err < 0 and err != -errno.EIO:
        return err

    bridge = pci_upstream_bridge(dev)
    if bridge is not None:
        pcie_aspm_powersave_config_link(bridge)

    # pci_host_bridge_enable_device(): no host bridge of this model has an
    # enable_device hook.

    err = pcibios_enable_device(dev, bars)
    if err < 0:
        return err  # err_enable: (no host bridge disable_device hook either)

    if dev.msi_enabled or dev.msix_enabled:
        return 0

    _, pin = pci_read_config_byte(dev, PCI_INTERRUPT_PIN)
    if pin:
        _, cmd = pci_read_config_word(dev, PCI_COMMAND)
        if cmd & PCI_COMMAND_INTX_DISABLE:
            pci_write_config_word(dev, PCI_COMMAND, cmd & ~PCI_COMMAND_INTX_DISABLE)

    return 0


def pci_enable_bridge(dev: pci_dev) -> None:
    bridge = pci_upstream_bridge(dev)
    if bridge is not None:
        pci_enable_bridge(bridge)

    if pci_is_enabled(dev):
        if not dev.is_busmaster:
            pci_set_master(dev)
        return

    retval = pci_enable_device(dev)
    if retval:
        pci_err(dev, "Error enabling bridge (%d), continuing\n", retval)
    pci_set_master(dev)


_enable_cnt_lock = threading.Lock()


def _atomic_add_return(dev: pci_dev, i: int) -> int:
    """``atomic_{inc,dec}_return(&dev->enable_cnt)`` (Python only)."""
    with _enable_cnt_lock:
        dev.enable_cnt += i
        return dev.enable_cnt


def pci_enable_device_flags(dev: pci_dev, flags: int) -> int:
    # The power state may be unknown after boot or removal; read it so that
    # later writes (MSI) see the real state.
    pci_update_current_state(dev, dev.current_state)

    if _atomic_add_return(dev, 1) > 1:
        return 0  # already enabled

    bridge = pci_upstream_bridge(dev)
    if bridge is not None:
        pci_enable_bridge(bridge)

    # Only BARs whose resource flags match ``flags`` are enabled; resources are not
    # modelled, so the mask is empty.
    bars = 0

    err = do_pci_enable_device(dev, bars)
    if err < 0:
        _atomic_add_return(dev, -1)
    return err


IORESOURCE_IO: Final = 0x00000100
IORESOURCE_MEM: Final = 0x00000200


def pci_enable_device_mem(dev: pci_dev) -> int:
    return pci_enable_device_flags(dev, IORESOURCE_MEM)


def pci_enable_device(dev: pci_dev) -> int:
    """Wake the device to D0 and count one more user; only the first call does the
    work.  0 or a negative errno."""
    return pci_enable_device_flags(dev, IORESOURCE_MEM | IORESOURCE_IO)


def pcibios_disable_device_default(dev: pci_dev) -> None:
    """``void __weak pcibios_disable_device(dev) {}``."""


#: ``__weak``: arch code replaces ``kernel.pci.pci.pcibios_disable_device``.
pcibios_disable_device: Callable[[pci_dev], None] = pcibios_disable_device_default


def do_pci_disable_device(dev: pci_dev) -> None:
    _, pci_command = pci_read_config_word(dev, PCI_COMMAND)
    if pci_command & PCI_COMMAND_MASTER:
        pci_command &= ~PCI_COMMAND_MASTER
        pci_write_config_word(dev, PCI_COMMAND, pci_command)

    pcibios_disable_device(dev)


def pci_disable_enabled_device(dev: pci_dev) -> None:
    if pci_is_enabled(dev):
        do_pci_disable_device(dev)


def pci_disable_device(dev: pci_dev) -> None:
    """Drop one user; the last one turns bus mastering off."""
    # dev_WARN_ONCE(&dev->dev, enable_cnt <= 0, "disabling already-disabled device")
    if dev.enable_cnt <= 0 and WARN_ON_ONCE(True):
        pci_warn(dev, "disabling already-disabled device")

    if _atomic_add_return(dev, -1) != 0:
        return

    # pci_host_bridge_disable_device(): no hook in this model.

    do_pci_disable_device(dev)

    dev.is_busmaster = False


def pci_add_saved_cap(pci_dev_: pci_dev, new_cap: pci_cap_saved_state) -> None:
    pci_dev_.saved_cap_space.insert(0, new_cap)  # hlist_add_head()


def _pci_add_cap_save_buffer(dev: pci_dev, cap: int, extended: bool, size: int) -> int:
    """Allocate a ``size``-byte save buffer for capability ``cap`` if the device
    has it (0 either way; the C's -ENOMEM cannot happen here)."""
    if extended:
        pos = pci_find_ext_capability(dev, cap)
    else:
        pos = pci_find_capability(dev, cap)

    if not pos:
        return 0

    save_state = pci_cap_saved_state(pci_cap_saved_data(cap_nr=cap, cap_extended=extended, size=size))
    pci_add_saved_cap(dev, save_state)

    return 0


def pci_add_cap_save_buffer(dev: pci_dev, cap: int, size: int) -> int:
    return _pci_add_cap_save_buffer(dev, cap, False, size)


def pci_add_ext_cap_save_buffer(dev: pci_dev, cap: int, size: int) -> int:
    return _pci_add_cap_save_buffer(dev, cap, True, size)


def pci_allocate_cap_save_buffers(dev: pci_dev) -> None:
    """Save buffers for the PCIe, PCI-X and LTR registers (and VC), for the
    capabilities the device has.  Called once when the device is scanned."""
    error = pci_add_cap_save_buffer(dev, PCI_CAP_ID_EXP, PCI_EXP_SAVE_REGS * 2)  # * sizeof(u16)
    if error:
        pci_err(dev, "unable to preallocate PCI Express save buffer\n")

    error = pci_add_cap_save_buffer(dev, PCI_CAP_ID_PCIX, 2)
    if error:
        pci_err(dev, "unable to preallocate PCI-X save buffer\n")

    error = pci_add_ext_cap_save_buffer(dev, PCI_EXT_CAP_ID_LTR, 2 * 2)
    if error:
        pci_err(dev, "unable to allocate suspend buffer for LTR\n")

    pci_allocate_vc_save_buffers(dev)


def pci_free_cap_save_buffers(dev: pci_dev) -> None:
    dev.saved_cap_space.clear()


def __pci_set_master(dev: pci_dev, enable: bool) -> None:
    _, old_cmd = pci_read_config_word(dev, PCI_COMMAND)
    if enable:
        cmd = old_cmd | PCI_COMMAND_MASTER
    else:
        cmd = old_cmd & ~PCI_COMMAND_MASTER
    if cmd != old_cmd:
        pci_dbg(dev, "%s bus mastering\n", "enabling" if enable else "disabling")
        pci_write_config_word(dev, PCI_COMMAND, cmd)
    dev.is_busmaster = enable


def pcibios_set_master_default(dev: pci_dev) -> None:
    """``void __weak pcibios_set_master(dev)``: conventional PCI devices get a
    sane latency timer; PCIe has none."""
    if pci_is_pcie(dev):
        return

    _, lat = pci_read_config_byte(dev, PCI_LATENCY_TIMER)
    if lat < 16:
        lat = 64 if 64 <= pcibios_max_latency.value else pcibios_max_latency.value
    elif lat > pcibios_max_latency.value:
        lat = pcibios_max_latency.value
    else:
        return

    pci_write_config_byte(dev, PCI_LATENCY_TIMER, lat)


#: ``__weak``: arch code replaces ``kernel.pci.pci.pcibios_set_master``.
pcibios_set_master: Callable[[pci_dev], None] = pcibios_set_master_default


def pci_set_master(dev: pci_dev) -> None:
    __pci_set_master(dev, True)
    pcibios_set_master(dev)


def pci_clear_master(dev: pci_dev) -> None:
    __pci_set_master(dev, False)


def pci_intx(pdev: pci_dev, enable: int) -> None:
    """Enable (``enable`` true) or disable INTx through the Command register."""
    _, pci_command = pci_read_config_word(pdev, PCI_COMMAND)

    if enable:
        new = pci_command & ~PCI_COMMAND_INTX_DISABLE
    else:
        new = pci_command | PCI_COMMAND_INTX_DISABLE

    if new == pci_command:
        return

    pci_write_config_word(pdev, PCI_COMMAND, new)


def pci_intx_mask_supported(dev: pci_dev) -> bool:
    """Whether the device implements INTx masking through the Command register's
    Interrupt Disable bit: flip it and see whether it sticks.  (Added for vfio-pci's
    open path, read from an older torvalds/linux drivers/pci/pci.c, the form that
    probes the bit itself.)"""
    mask_supported = False

    if dev.broken_intx_masking:
        return False

    pci_cfg_access_lock(dev)

    _, orig = pci_read_config_word(dev, PCI_COMMAND)
    pci_write_config_word(dev, PCI_COMMAND, orig ^ PCI_COMMAND_INTX_DISABLE)
    _, new = pci_read_config_word(dev, PCI_COMMAND)

    # a hardware bug cannot be caught for sure, but the other bits must not move
    if (new ^ orig) & ~PCI_COMMAND_INTX_DISABLE:
        dev_err(dev.dev, "Command register changed from 0x%x to 0x%x: driver or hardware bug?\n", orig, new)
    elif (new ^ orig) & PCI_COMMAND_INTX_DISABLE:
        mask_supported = True
        pci_write_config_word(dev, PCI_COMMAND, orig)

    pci_cfg_access_unlock(dev)
    return mask_supported


# --- Function resets -------------------------------------------------------------------


def pci_wait_for_pending_transaction(dev: pci_dev) -> int:
    """1 when no transaction is pending (or the device is not PCIe), 0 if one still
    is after the waits of :func:`pci_wait_for_pending`."""
    if not pci_is_pcie(dev):
        return 1

    return pci_wait_for_pending(dev, pci_pcie_cap(dev) + PCI_EXP_DEVSTA, PCI_EXP_DEVSTA_TRPND)


def pci_dev_reset_iommu_prepare(dev: pci_dev) -> int:
    """iommu core hook before a reset (see module doc): nothing to quiesce, 0."""
    return 0


def pci_dev_reset_iommu_done(dev: pci_dev) -> None:
    """iommu core hook after a reset (see module doc)."""


def pcie_flr(dev: pci_dev) -> int:
    """Function Level Reset, without checking flags or Device Capabilities: set
    Initiate FLR, wait 100 ms, then wait for the device to answer."""
    if not pci_wait_for_pending_transaction(dev):
        pci_err(dev, "timed out waiting for pending transaction; performing function level reset anyway\n")

    # Only now: DMA still in flight had to finish first.
    ret = pci_dev_reset_iommu_prepare(dev)
    if ret:
        pci_err(dev, "failed to stop IOMMU for a PCI reset: %d\n", ret)
        return ret

    pcie_capability_set_word(dev, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR)

    if not dev.imm_ready:
        # An FLR completes within 100 ms (PCIe r4.0 sec 6.6.2), and requests may be
        # dropped meanwhile.
        msleep(100)

        ret = pci_dev_wait(dev, "FLR", PCIE_RESET_READY_POLL_MS)
    # done:
    pci_dev_reset_iommu_done(dev)
    return ret


def pcie_reset_flr(dev: pci_dev, probe: bool) -> int:
    """Reset method "flr": -ENOTTY if the device is quirked against FLR, does not
    advertise it in Device Capabilities, or its config space is inaccessible (an
    FLR is started and awaited through config space; the next method gets its
    turn); 0 when probing; else :func:`pcie_flr`."""
    if dev.dev_flags & PCI_DEV_FLAGS_NO_FLR_RESET:
        return -errno.ENOTTY

    if not (dev.devcap & PCI_EXP_DEVCAP_FLR):
        return -errno.ENOTTY

    if not pci_dev_config_accessible(dev, "FLR"):
        return -errno.ENOTTY

    if probe:
        return 0

    return pcie_flr(dev)


def pci_af_flr(dev: pci_dev, probe: bool) -> int:
    """Reset method "af_flr": FLR through the conventional-PCI Advanced Features
    capability."""
    pos = pci_find_capability(dev, PCI_CAP_ID_AF)
    if not pos:
        return -errno.ENOTTY

    if dev.dev_flags & PCI_DEV_FLAGS_NO_FLR_RESET:
        return -errno.ENOTTY

    _, cap = pci_read_config_byte(dev, pos + PCI_AF_CAP)
    if not (cap & PCI_AF_CAP_TP) or not (cap & PCI_AF_CAP_FLR):
        return -errno.ENOTTY

    if probe:
        return 0

    # Transactions Pending sits in the status byte after the control byte; test it
    # with a word read of the control offset.
    if not pci_wait_for_pending(dev, pos + PCI_AF_CTRL, PCI_AF_STATUS_TP << 8):
        pci_err(dev, "timed out waiting for pending transaction; performing AF function level reset anyway\n")

    ret = pci_dev_reset_iommu_prepare(dev)
    if ret:
        pci_err(dev, "failed to stop IOMMU for a PCI reset: %d\n", ret)
        return ret

    pci_write_config_byte(dev, pos + PCI_AF_CTRL, PCI_AF_CTRL_FLR)

    if not dev.imm_ready:
        # Same 100 ms rule as PCIe FLR (Advanced Capabilities ECN, 2006).
        msleep(100)

        ret = pci_dev_wait(dev, "AF_FLR", PCIE_RESET_READY_POLL_MS)
    # done:
    pci_dev_reset_iommu_done(dev)
    return ret


def pci_pm_reset(dev: pci_dev, probe: bool) -> int:
    """Reset method "pm": D0 -> D3hot -> D0, for devices that lose their state in
    D3hot (No_Soft_Reset clear).  -EINVAL unless the device is in D0."""
    if not dev.pm_cap or dev.dev_flags & PCI_DEV_FLAGS_NO_PM_RESET:
        return -errno.ENOTTY

    _, csr = pci_read_config_word(dev, dev.pm_cap + PCI_PM_CTRL)
    if csr & PCI_PM_CTRL_NO_SOFT_RESET:
        return -errno.ENOTTY

    if probe:
        return 0

    if dev.current_state != PCI_D0:
        return -errno.EINVAL

    ret = pci_dev_reset_iommu_prepare(dev)
    if ret:
        pci_err(dev, "failed to stop IOMMU for a PCI reset: %d\n", ret)
        return ret

    csr &= ~PCI_PM_CTRL_STATE_MASK & 0xFFFF
    csr |= PCI_D3hot
    pci_write_config_word(dev, dev.pm_cap + PCI_PM_CTRL, csr)
    pci_dev_d3_sleep(dev)

    csr &= ~PCI_PM_CTRL_STATE_MASK & 0xFFFF
    csr |= PCI_D0
    pci_write_config_word(dev, dev.pm_cap + PCI_PM_CTRL, csr)
    pci_dev_d3_sleep(dev)

    ret = pci_dev_wait(dev, "PM D3hot->D0", PCIE_RESET_READY_POLL_MS)
    pci_dev_reset_iommu_done(dev)
    return ret


def pci_bus_max_d3cold_delay(bus: pci_bus) -> int:
    """Largest ``d3cold_delay`` on ``bus`` (at least the smallest, 100 ms unless a
    device asks for less).  Caller holds ``pci_bus_sem`` for reading."""
    min_delay = 100
    max_delay = 0

    for pdev in bus.devices:
        if pdev.d3cold_delay < min_delay:
            min_delay = pdev.d3cold_delay
        if pdev.d3cold_delay > max_delay:
            max_delay = pdev.d3cold_delay

    return max(min_delay, max_delay)


def pci_bridge_wait_for_secondary_bus(dev: pci_dev, reset_type: str) -> int:
    """Wait until the devices below bridge ``dev`` answer after a reset: 0, or
    -ENOTTY if the first of them did not come back (see module doc for what is
    reduced)."""
    if pci_dev_is_disconnected(dev):
        return 0

    if not pci_is_bridge(dev):
        return 0

    down_read(pci_bus_sem)

    # Only devices present now; hot-added ones are waited for by their driver.
    if dev.subordinate is None or not dev.subordinate.devices:
        up_read(pci_bus_sem)
        return 0

    delay = pci_bus_max_d3cold_delay(dev.subordinate)
    if not delay:
        up_read(pci_bus_sem)
        return 0

    child = dev.subordinate.devices[0]
    up_read(pci_bus_sem)

    # Conventional PCI / PCI-X: Tpvrh + Trhfa (1000 ms + 100 ms).
    if not pci_is_pcie(dev):
        pci_dbg(dev, "waiting %d ms for secondary bus\n", 1000 + delay)
        msleep(1000 + delay)
        return 0

    if not pcie_downstream_port(dev):
        return 0

    # A port of at most 5 GT/s: wait, then poll the first child.
    pci_dbg(dev, "waiting %d ms for downstream link\n", delay)
    msleep(delay)

    if not pci_dev_wait(child, reset_type, PCI_RESET_WAIT - delay):
        return 0

    # Without Data Link Layer Link Active reporting, a silent child is taken as gone.
    return -errno.ENOTTY


def pci_reset_secondary_bus(dev: pci_dev) -> None:
    _, ctrl = pci_read_config_word(dev, PCI_BRIDGE_CONTROL)
    ctrl |= PCI_BRIDGE_CTL_BUS_RESET
    pci_write_config_word(dev, PCI_BRIDGE_CONTROL, ctrl)

    # Trst is at least 1 ms (PCI 3.0 7.6.4.2); hold it for 2.
    msleep(2)

    ctrl &= ~PCI_BRIDGE_CTL_BUS_RESET
    pci_write_config_word(dev, PCI_BRIDGE_CONTROL, ctrl)


#: The ``pci_warn_once()`` below has printed (emptied at boot).
_warned_unlocked_sbr: list[bool] = []

#: ``__weak``: arch code replaces ``kernel.pci.pci.pcibios_reset_secondary_bus``.
pcibios_reset_secondary_bus: Callable[[pci_dev], None] = pci_reset_secondary_bus


def pci_bridge_secondary_bus_reset(dev: pci_dev) -> int:
    """Secondary bus reset through bridge ``dev``'s Bridge Control register."""
    if not dev.block_cfg_access and not _warned_unlocked_sbr:
        # pci_warn_once(); %pS (the caller's symbol) prints this function's name.
        _warned_unlocked_sbr.append(True)
        pci_warn(dev, "unlocked secondary bus reset via: %s\n", "pci_bridge_secondary_bus_reset")
    pcibios_reset_secondary_bus(dev)

    return pci_bridge_wait_for_secondary_bus(dev, "bus reset")


def pci_parent_bus_reset(dev: pci_dev, probe: bool) -> int:
    """Reset ``dev`` by resetting the bus it sits on, if it is alone there.  Always
    -ENOTTY on s390: zPCI functions are on root buses."""
    if (
        pci_is_root_bus(dev.bus)
        or dev.subordinate is not None
        or dev.bus.self is None
        or dev.dev_flags & PCI_DEV_FLAGS_NO_BUS_RESET
    ):
        return -errno.ENOTTY

    for pdev in dev.bus.devices:
        if pdev is not dev:
            return -errno.ENOTTY

    if probe:
        return 0

    return pci_bridge_secondary_bus_reset(dev.bus.self)


def pci_reset_hotplug_slot(hotplug: hotplug_slot | None, probe: bool) -> int:
    """Ask the hotplug driver that owns the slot to reset it; -ENOTTY without a
    hotplug slot, while its module is going away, or without ``reset_slot``."""
    rc = -errno.ENOTTY

    # try_module_get(hotplug->owner)
    if hotplug is None or hotplug.owner_gone:
        return rc

    assert hotplug.ops is not None
    if hotplug.ops.reset_slot is not None:
        rc = hotplug.ops.reset_slot(hotplug, probe)

    # module_put(hotplug->owner)

    return rc


def pci_dev_reset_slot_function(dev: pci_dev, probe: bool) -> int:
    """Reset ``dev`` through its slot's hotplug driver.

    A function of a multifunction device may only be reset this way when its slot
    is its own (``per_func_slot``): a shared slot would reset every function.
    """
    if (
        dev.subordinate is not None
        or dev.slot is None
        or dev.dev_flags & PCI_DEV_FLAGS_NO_BUS_RESET
        or (dev.multifunction and not dev.slot.per_func_slot)
    ):
        return -errno.ENOTTY

    return pci_reset_hotplug_slot(dev.slot.hotplug, probe)


def cxl_port_dvsec(dev: pci_dev) -> int:
    return pci_find_dvsec_capability(dev, PCI_VENDOR_ID_CXL, PCI_DVSEC_CXL_PORT)


def cxl_sbr_masked(dev: pci_dev) -> bool:
    dvsec = cxl_port_dvsec(dev)
    if not dvsec:
        return False

    rc, reg = pci_read_config_word(dev, dvsec + PCI_DVSEC_CXL_PORT_CTL)
    if rc or PCI_POSSIBLE_ERROR(reg, 2):
        return False

    # CXL r3.1 sec 8.1.5.2: with "Unmask SBR" clear, the bridge ignores SBR.
    return not (reg & PCI_DVSEC_CXL_PORT_CTL_UNMASK_SBR)


def pci_reset_bus_function(dev: pci_dev, probe: bool) -> int:
    """Reset method "bus": the slot's hotplug reset, else a parent bus reset."""
    bridge = pci_upstream_bridge(dev)

    # Below a CXL port that masks SBR a bus reset would do nothing.
    if bridge is not None and cxl_sbr_masked(bridge):
        if probe:
            return 0

        return -errno.ENOTTY

    rc = pci_dev_reset_iommu_prepare(dev)
    if rc:
        pci_err(dev, "failed to stop IOMMU for a PCI reset: %d\n", rc)
        return rc

    rc = pci_dev_reset_slot_function(dev, probe)
    if rc == -errno.ENOTTY:
        rc = pci_parent_bus_reset(dev, probe)
    # done:
    pci_dev_reset_iommu_done(dev)
    return rc


def cxl_reset_bus_function(dev: pci_dev, probe: bool) -> int:
    """Reset method "cxl_bus": a bus reset with SBR unmasked on the CXL port above.
    -ENOTTY on s390: there is no bridge above a zPCI function."""
    bridge = pci_upstream_bridge(dev)
    if bridge is None:
        return -errno.ENOTTY

    dvsec = cxl_port_dvsec(bridge)
    if not dvsec:
        return -errno.ENOTTY

    if probe:
        return 0

    rc, reg = pci_read_config_word(bridge, dvsec + PCI_DVSEC_CXL_PORT_CTL)
    if rc:
        return -errno.ENOTTY

    rc = pci_dev_reset_iommu_prepare(dev)
    if rc:
        pci_err(dev, "failed to stop IOMMU for a PCI reset: %d\n", rc)
        return rc

    if reg & PCI_DVSEC_CXL_PORT_CTL_UNMASK_SBR:
        val = reg
    else:
        val = reg | PCI_DVSEC_CXL_PORT_CTL_UNMASK_SBR
        pci_write_config_word(bridge, dvsec + PCI_DVSEC_CXL_PORT_CTL, val)

    rc = pci_reset_bus_function(dev, probe)

    if reg != val:
        pci_write_config_word(bridge, dvsec + PCI_DVSEC_CXL_PORT_CTL, reg)

    pci_dev_reset_iommu_done(dev)
    return rc


# --- Locking and the reset entry points --------------------------------------------


def pci_dev_lock(dev: pci_dev) -> None:
    """Device lock (blocks PM, probe, remove), then block user config access."""
    device_lock(dev.dev)
    pci_cfg_access_lock(dev)


def pci_dev_trylock(dev: pci_dev) -> int:
    """1 with both locks taken, 0 on contention (nothing held)."""
    if device_trylock(dev.dev):
        if pci_cfg_access_trylock(dev):
            return 1
        device_unlock(dev.dev)

    return 0


def pci_dev_unlock(dev: pci_dev) -> None:
    pci_cfg_access_unlock(dev)
    device_unlock(dev.dev)


def pci_dev_save_and_disable(dev: pci_dev) -> None:
    err_handler: pci_error_handlers | None = dev.driver.err_handler if dev.driver is not None else None

    # The caller's device lock keeps reset_prepare() from racing with remove().
    device_lock_assert(dev.dev)
    if err_handler is not None and err_handler.reset_prepare is not None:
        err_handler.reset_prepare(dev)
    elif dev.driver is not None:
        pci_warn(dev, "resetting")

    # Save in D0: PM registers read D0 after a reset, and restoring a non-D0
    # state by register writes does not work reliably anyway.
    pci_set_power_state(dev, PCI_D0)

    if not pci_dev_config_accessible(dev, "save state"):
        return

    pci_save_state(dev)
    # Clear the Command register except INTx Disable: no MMIO or I/O decode, no bus
    # mastering (so no DMA, no MSI), and no legacy interrupts either.
    pci_write_config_word(dev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE)


def pci_dev_restore(dev: pci_dev) -> None:
    err_handler: pci_error_handlers | None = dev.driver.err_handler if dev.driver is not None else None

    pci_restore_state(dev)

    # Also under the caller's device lock, against remove().
    if err_handler is not None and err_handler.reset_done is not None:
        err_handler.reset_done(dev)
    elif dev.driver is not None:
        pci_warn(dev, "reset done")


#: ``dev.reset_methods`` is a 0-terminated list of indices into this table.
pci_reset_fn_methods: Final[tuple[pci_reset_fn_method, ...]] = (
    pci_reset_fn_method(),
    pci_reset_fn_method(pci_dev_specific_reset, name="device_specific"),
    pci_reset_fn_method(pci_dev_acpi_reset, name="acpi"),
    pci_reset_fn_method(pcie_reset_flr, name="flr"),
    pci_reset_fn_method(pci_af_flr, name="af_flr"),
    pci_reset_fn_method(pci_pm_reset, name="pm"),
    pci_reset_fn_method(pci_reset_bus_function, name="bus"),
    pci_reset_fn_method(cxl_reset_bus_function, name="cxl_bus"),
)


def __pci_reset_function_locked(dev: pci_dev) -> int:
    """Try ``dev.reset_methods`` in order with the device lock held.  A method's
    -ENOTTY means "not for this device, try the next"; 0 or any other error ends
    the walk and is returned.  -ENOTTY when the list runs out."""
    device_lock_assert(dev.dev)  # might_sleep(); device_lock_assert()

    for i in range(PCI_NUM_RESET_METHODS):
        m = dev.reset_methods[i]
        if not m:
            return -errno.ENOTTY

        method = pci_reset_fn_methods[m]
        assert method.reset_fn is not None
        pci_dbg(dev, "reset via %s\n", method.name)
        rc = method.reset_fn(dev, PCI_RESET_DO_RESET)
        if not rc:
            return 0

        pci_dbg(dev, "%s failed with %d\n", method.name, rc)
        if rc != -errno.ENOTTY:
            return rc

    return -errno.ENOTTY


def pci_init_reset_methods(dev: pci_dev) -> None:
    """Probe every reset method and store those that apply in
    ``dev.reset_methods``, in table order; a probe error other than -ENOTTY stops
    the probing."""
    assert len(pci_reset_fn_methods) == PCI_NUM_RESET_METHODS  # BUILD_BUG_ON

    i = 0
    for m in range(1, PCI_NUM_RESET_METHODS):
        reset_fn = pci_reset_fn_methods[m].reset_fn
        assert reset_fn is not None
        rc = reset_fn(dev, PCI_RESET_PROBE)
        if not rc:
            dev.reset_methods[i] = m
            i += 1
        elif rc != -errno.ENOTTY:
            break

    dev.reset_methods[i] = 0


def pci_reset_function(dev: pci_dev) -> int:
    """Save state, reset, restore, taking the upstream bridge's and the device's
    locks.  -ENOTTY if no method applies."""
    if not pci_reset_supported(dev):
        return -errno.ENOTTY

    # Without an upstream bridge there is no bridge configuration to keep stable.
    bridge = pci_upstream_bridge(dev)
    if bridge is not None:
        pci_dev_lock(bridge)

    pci_dev_lock(dev)
    pci_dev_save_and_disable(dev)

    rc = __pci_reset_function_locked(dev)

    pci_dev_restore(dev)
    pci_dev_unlock(dev)

    if bridge is not None:
        pci_dev_unlock(bridge)

    return rc


def pci_reset_function_locked(dev: pci_dev) -> int:
    """:func:`pci_reset_function` for a caller that holds the device lock."""
    device_lock_assert(dev.dev)

    if not pci_reset_supported(dev):
        return -errno.ENOTTY

    pci_dev_save_and_disable(dev)

    rc = __pci_reset_function_locked(dev)

    pci_dev_restore(dev)

    return rc


def pci_try_reset_function(dev: pci_dev) -> int:
    """:func:`pci_reset_function` without the bridge lock that returns -EAGAIN
    instead of waiting when the device is locked."""
    if not pci_reset_supported(dev):
        return -errno.ENOTTY

    if not pci_dev_trylock(dev):
        return -errno.EAGAIN

    pci_dev_save_and_disable(dev)
    rc = __pci_reset_function_locked(dev)
    pci_dev_restore(dev)
    pci_dev_unlock(dev)

    return rc


def pci_bus_resettable(bus: pci_bus) -> bool:
    """No device on or below ``bus`` forbids a bus reset."""
    if bus.self is not None and (bus.self.dev_flags & PCI_DEV_FLAGS_NO_BUS_RESET):
        return False

    for dev in bus.devices:
        if dev.dev_flags & PCI_DEV_FLAGS_NO_BUS_RESET or (
            dev.subordinate is not None and not pci_bus_resettable(dev.subordinate)
        ):
            return False

    return True


def pci_bus_lock(bus: pci_bus) -> None:
    """Lock from the top of the tree down."""
    assert bus.self is not None
    pci_dev_lock(bus.self)
    for dev in bus.devices:
        if dev.subordinate is not None:
            pci_bus_lock(dev.subordinate)
        else:
            pci_dev_lock(dev)


def pci_bus_unlock(bus: pci_bus) -> None:
    """Unlock from the bottom of the tree up."""
    for dev in bus.devices:
        if dev.subordinate is not None:
            pci_bus_unlock(dev.subordinate)
        else:
            pci_dev_unlock(dev)
    assert bus.self is not None
    pci_dev_unlock(bus.self)


def pci_bus_trylock(bus: pci_bus) -> int:
    """1 with the whole tree locked, 0 on contention (nothing held)."""
    assert bus.self is not None
    if not pci_dev_trylock(bus.self):
        return 0

    locked: list[pci_dev] = []
    for dev in bus.devices:
        if dev.subordinate is not None:
            if not pci_bus_trylock(dev.subordinate):
                break
        elif not pci_dev_trylock(dev):
            break
        locked.append(dev)
    else:
        return 1

    # unlock: the ones before the failure, in reverse
    for dev in reversed(locked):
        if dev.subordinate is not None:
            pci_bus_unlock(dev.subordinate)
        else:
            pci_dev_unlock(dev)
    pci_dev_unlock(bus.self)
    return 0


def pci_slot_resettable(slot: pci_slot) -> bool:
    """No device in or below ``slot`` forbids a bus reset."""
    bridge = slot.bus.self

    if bridge is not None and (bridge.dev_flags & PCI_DEV_FLAGS_NO_BUS_RESET):
        return False

    for dev in slot.bus.devices:
        if dev.slot is None or dev.slot is not slot:
            continue
        if dev.dev_flags & PCI_DEV_FLAGS_NO_BUS_RESET or (
            dev.subordinate is not None and not pci_bus_resettable(dev.subordinate)
        ):
            return False

    return True


def pci_slot_lock(slot: pci_slot) -> None:
    """Lock the bridge above the slot (if any), then each device in the slot (a
    bridge's whole subtree), top down."""
    bridge = slot.bus.self

    if bridge is not None:
        pci_dev_lock(bridge)

    for dev in slot.bus.devices:
        if dev.slot is None or dev.slot is not slot:
            continue
        if dev.subordinate is not None:
            pci_bus_lock(dev.subordinate)
        else:
            pci_dev_lock(dev)


def pci_slot_unlock(slot: pci_slot) -> None:
    """Unlock bottom up."""
    bridge = slot.bus.self

    for dev in slot.bus.devices:
        if dev.slot is None or dev.slot is not slot:
            continue
        if dev.subordinate is not None:
            pci_bus_unlock(dev.subordinate)
        else:
            pci_dev_unlock(dev)

    if bridge is not None:
        pci_dev_unlock(bridge)


def pci_slot_trylock(slot: pci_slot) -> int:
    """1 with everything :func:`pci_slot_lock` takes, 0 on contention."""
    bridge = slot.bus.self

    if bridge is not None and not pci_dev_trylock(bridge):
        return 0

    locked: list[pci_dev] = []
    for dev in slot.bus.devices:
        if dev.slot is None or dev.slot is not slot:
            continue
        if dev.subordinate is not None:
            if not pci_bus_trylock(dev.subordinate):
                break
        elif not pci_dev_trylock(dev):
            break
        locked.append(dev)
    else:
        return 1

    # unlock:
    for dev in reversed(locked):
        if dev.subordinate is not None:
            pci_bus_unlock(dev.subordinate)
        else:
            pci_dev_unlock(dev)

    if bridge is not None:
        pci_dev_unlock(bridge)
    return 0


def pci_bus_save_and_disable_locked(bus: pci_bus) -> None:
    for dev in bus.devices:
        pci_dev_save_and_disable(dev)
        if dev.subordinate is not None:
            pci_bus_save_and_disable_locked(dev.subordinate)


def pci_bus_restore_locked(bus: pci_bus) -> None:
    # Bridges first: the devices below are reachable only through them.
    for dev in bus.devices:
        pci_dev_restore(dev)
        if dev.subordinate is not None:
            pci_bridge_wait_for_secondary_bus(dev, "bus reset")
            pci_bus_restore_locked(dev.subordinate)


def pci_slot_save_and_disable_locked(slot: pci_slot) -> None:
    for dev in slot.bus.devices:
        if dev.slot is None or dev.slot is not slot:
            continue
        pci_dev_save_and_disable(dev)
        if dev.subordinate is not None:
            pci_bus_save_and_disable_locked(dev.subordinate)


def pci_slot_restore_locked(slot: pci_slot) -> None:
    for dev in slot.bus.devices:
        if dev.slot is None or dev.slot is not slot:
            continue
        pci_dev_restore(dev)
        if dev.subordinate is not None:
            pci_bridge_wait_for_secondary_bus(dev, "slot reset")
            pci_bus_restore_locked(dev.subordinate)


def pci_slot_reset(slot: pci_slot | None, probe: bool) -> int:
    if slot is None or not pci_slot_resettable(slot):
        return -errno.ENOTTY

    if not probe:
        pci_slot_lock(slot)

    rc = pci_reset_hotplug_slot(slot.hotplug, probe)

    if not probe:
        pci_slot_unlock(slot)

    return rc


def pci_probe_reset_slot(slot: pci_slot | None) -> int:
    """0 if ``slot`` can be reset, negative otherwise."""
    return pci_slot_reset(slot, PCI_RESET_PROBE)


def __pci_reset_slot(slot: pci_slot | None) -> int:
    """Reset every function in (and below) ``slot`` with their state saved and
    restored; -EAGAIN if a lock is contended."""
    rc = pci_slot_reset(slot, PCI_RESET_PROBE)
    if rc:
        return rc
    assert slot is not None

    if pci_slot_trylock(slot):
        pci_slot_save_and_disable_locked(slot)
        rc = pci_reset_hotplug_slot(slot.hotplug, PCI_RESET_DO_RESET)
        pci_slot_restore_locked(slot)
        pci_slot_unlock(slot)
    else:
        rc = -errno.EAGAIN

    return rc


def pci_bus_reset(bus: pci_bus, probe: bool) -> int:
    if bus.self is None or not pci_bus_resettable(bus):
        return -errno.ENOTTY

    if probe:
        return 0

    pci_bus_lock(bus)

    ret = pci_bridge_secondary_bus_reset(bus.self)

    pci_bus_unlock(bus)

    return ret


def pci_probe_reset_bus(bus: pci_bus) -> int:
    """0 if ``bus`` can be reset, negative otherwise."""
    return pci_bus_reset(bus, PCI_RESET_PROBE)


def __pci_reset_bus(bus: pci_bus) -> int:
    """Secondary bus reset of ``bus`` with every device's state saved and restored;
    -EAGAIN on lock contention, -ENOTTY for a root bus."""
    rc = pci_bus_reset(bus, PCI_RESET_PROBE)
    if rc:
        return rc
    assert bus.self is not None

    if pci_bus_trylock(bus):
        pci_bus_save_and_disable_locked(bus)
        rc = pci_bridge_secondary_bus_reset(bus.self)
        pci_bus_restore_locked(bus)
        pci_bus_unlock(bus)
    else:
        rc = -errno.EAGAIN

    return rc


def pci_reset_bus(pdev: pci_dev) -> int:
    """Reset ``pdev``'s slot if it can be, else its bus."""
    if not pci_probe_reset_slot(pdev.slot):
        return __pci_reset_slot(pdev.slot)
    return __pci_reset_bus(pdev.bus)


# --- Helpers of other drivers/pci files (see module doc) --------------------------------


def _not_modelled(dev: pci_dev, fn: str, what: str) -> None:
    WARN(True, "%s: %s: %s is not modelled", fn, dev.dev.init_name, what)


def pci_save_ltr_state(dev: pci_dev) -> None:
    """aspm.c: saves the LTR max latencies (only for PCIe devices with LTR)."""
    if not pci_is_pcie(dev):
        return
    if pci_find_ext_capability(dev, PCI_EXT_CAP_ID_LTR):
        _not_modelled(dev, "pci_save_ltr_state", "the LTR capability")


def pci_restore_ltr_state(dev: pci_dev) -> None:
    """aspm.c: writes the saved LTR latencies back (needs an LTR save buffer)."""
    if not pci_is_pcie(dev):
        return
    if pci_find_ext_capability(dev, PCI_EXT_CAP_ID_LTR):
        _not_modelled(dev, "pci_restore_ltr_state", "the LTR capability")


def pci_save_aspm_l1ss_state(dev: pci_dev) -> None:
    """aspm.c: saves L1 PM Substates control (only with an L1SS capability)."""
    if pci_is_pcie(dev) and pci_find_ext_capability(dev, PCI_EXT_CAP_ID_L1SS):
        _not_modelled(dev, "pci_save_aspm_l1ss_state", "the L1SS capability")


def pci_restore_aspm_l1ss_state(dev: pci_dev) -> None:
    """aspm.c: restores L1 PM Substates control (only with an L1SS capability)."""
    if pci_is_pcie(dev) and pci_find_ext_capability(dev, PCI_EXT_CAP_ID_L1SS):
        _not_modelled(dev, "pci_restore_aspm_l1ss_state", "the L1SS capability")


_VC_CAPS: Final = (PCI_EXT_CAP_ID_MFVC, PCI_EXT_CAP_ID_VC, PCI_EXT_CAP_ID_VC9)


def pci_save_vc_state(dev: pci_dev) -> int:
    """vc.c: saves each VC/MFVC/VC9 capability the device has; 0."""
    for cap in _VC_CAPS:
        if pci_find_ext_capability(dev, cap):
            _not_modelled(dev, "pci_save_vc_state", "a Virtual Channel capability")
    return 0


def pci_restore_vc_state(dev: pci_dev) -> None:
    """vc.c: restores each VC/MFVC/VC9 capability the device has."""
    for cap in _VC_CAPS:
        if pci_find_ext_capability(dev, cap):
            _not_modelled(dev, "pci_restore_vc_state", "a Virtual Channel capability")


def pci_allocate_vc_save_buffers(dev: pci_dev) -> None:
    """vc.c: a save buffer per VC/MFVC/VC9 capability the device has."""
    for cap in _VC_CAPS:
        if pci_find_ext_capability(dev, cap):
            _not_modelled(dev, "pci_allocate_vc_save_buffers", "a Virtual Channel capability")


def pci_restore_rebar_state(pdev: pci_dev) -> None:
    """rebar.c: re-applies Resizable BAR sizes (only with a ReBAR capability)."""
    if pci_find_ext_capability(pdev, PCI_EXT_CAP_ID_REBAR):
        _not_modelled(pdev, "pci_restore_rebar_state", "the Resizable BAR capability")


def pci_restore_iov_state(dev: pci_dev) -> None:
    """iov.c: restores SR-IOV state of a physical function."""
    if dev.is_physfn:
        _not_modelled(dev, "pci_restore_iov_state", "SR-IOV")
