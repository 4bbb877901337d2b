"""drivers/pci/access.c (Linux 7.1-rc4): configuration-space accessors.  Not changed
by the v17 series.

Every config access goes through the bus's ``struct pci_ops`` under ``pci_lock``, as
the C macros ``PCI_OP_READ``/``PCI_OP_WRITE`` expand.  The generated functions are
written out one by one (``pci_bus_read_config_byte``, ``..._word``, ...), each doing
what the macro does for its width: a misaligned offset gives
``PCIBIOS_BAD_REGISTER_NUMBER`` without touching the bus; a failed read gives the
error response (all ones in the access width).

C out-parameters are extra return values: ``pci_read_config_word(dev, where, &val)``
is ``rc, val = pci_read_config_word(dev, where)``.  Where C leaves ``*val`` untouched
(the misaligned ``pci_bus_read_config_*`` case) the Python returns 0 in its place.

The wait queue ``pci_cfg_wait`` (``DECLARE_WAIT_QUEUE_HEAD``) is a
``threading.Condition``: user-space config accesses and ``pci_cfg_access_lock()``
sleep on it while ``dev->block_cfg_access`` is set.

Also here, because they are ``static inline`` in include/linux/pci.h and call only
functions of this file: ``pcie_capability_clear_and_set_word()`` (which takes
``dev->pcie_cap_lock`` for LNKCTL, LNKCTL2 and RTCTL) and the ``pcie_capability_set_*``
/ ``pcie_capability_clear_*`` helpers.

Left out: ``pci_generic_config_read{,32}``/``pci_generic_config_write{,32}`` (they
map an ECAM window with ``bus->ops->map_bus``; no bus here is memory-mapped), and
CONFIG_PCI_LOCKLESS_CONFIG (not set on s390).
"""

from __future__ import annotations

import errno
import threading
from typing import Final

from kernel.include.linux.pci import (
    PCI_ERROR_RESPONSE,
    PCIBIOS_BAD_REGISTER_NUMBER,
    PCIBIOS_DEVICE_NOT_FOUND,
    pci_bus,
    pci_dev,
    pci_dev_is_disconnected,
    pci_is_pcie,
    pci_ops,
    pci_pcie_cap,
    pci_pcie_type,
    pcibios_err_to_errno,
    pcie_caps_reg,
    pcie_downstream_port,
)
from kernel.lib.bug import WARN_ON
from kernel.lib.spinlock import (
    spin_lock,
    spin_lock_irqsave,
    spin_unlock,
    spin_unlock_irqrestore,
    spinlock_t,
)
from uapi.linux.pci_regs import (
    PCI_EXP_DEVCAP,
    PCI_EXP_DEVCAP2,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL2,
    PCI_EXP_DEVSTA,
    PCI_EXP_FLAGS,
    PCI_EXP_FLAGS_SLOT,
    PCI_EXP_FLAGS_VERS,
    PCI_EXP_LNKCAP,
    PCI_EXP_LNKCAP2,
    PCI_EXP_LNKCTL,
    PCI_EXP_LNKCTL2,
    PCI_EXP_LNKSTA,
    PCI_EXP_LNKSTA2,
    PCI_EXP_RTCAP,
    PCI_EXP_RTCTL,
    PCI_EXP_RTSTA,
    PCI_EXP_SLTCAP,
    PCI_EXP_SLTCTL,
    PCI_EXP_SLTSTA,
    PCI_EXP_SLTSTA_PDS,
    PCI_EXP_TYPE_DOWNSTREAM,
    PCI_EXP_TYPE_ENDPOINT,
    PCI_EXP_TYPE_LEG_END,
    PCI_EXP_TYPE_PCI_BRIDGE,
    PCI_EXP_TYPE_PCIE_BRIDGE,
    PCI_EXP_TYPE_RC_EC,
    PCI_EXP_TYPE_ROOT_PORT,
    PCI_EXP_TYPE_UPSTREAM,
)

__all__ = [
    "pci_bus_read_config_byte",
    "pci_bus_read_config_dword",
    "pci_bus_read_config_word",
    "pci_bus_set_ops",
    "pci_bus_write_config_byte",
    "pci_bus_write_config_dword",
    "pci_bus_write_config_word",
    "pci_cfg_access_lock",
    "pci_cfg_access_trylock",
    "pci_cfg_access_unlock",
    "pci_clear_and_set_config_dword",
    "pci_lock",
    "pci_read_config_byte",
    "pci_read_config_dword",
    "pci_read_config_word",
    "pci_user_read_config_byte",
    "pci_user_read_config_dword",
    "pci_user_read_config_word",
    "pci_user_write_config_byte",
    "pci_user_write_config_dword",
    "pci_user_write_config_word",
    "pci_write_config_byte",
    "pci_write_config_dword",
    "pci_write_config_word",
    "pcie_cap_has_lnkctl",
    "pcie_cap_has_lnkctl2",
    "pcie_cap_has_rtctl",
    "pcie_capability_clear_and_set_dword",
    "pcie_capability_clear_and_set_word",
    "pcie_capability_clear_and_set_word_locked",
    "pcie_capability_clear_and_set_word_unlocked",
    "pcie_capability_clear_dword",
    "pcie_capability_clear_word",
    "pcie_capability_read_dword",
    "pcie_capability_read_word",
    "pcie_capability_set_dword",
    "pcie_capability_set_word",
    "pcie_capability_write_dword",
    "pcie_capability_write_word",
]

#: ``DEFINE_RAW_SPINLOCK(pci_lock)``: serialises every access to config space.
pci_lock: Final = spinlock_t("pci_lock")

_U8: Final = 0xFF
_U16: Final = 0xFFFF
_U32: Final = 0xFFFFFFFF


def PCI_SET_ERROR_RESPONSE(mask: int) -> int:
    """``PCI_SET_ERROR_RESPONSE(val)`` of include/linux/pci.h: ``PCI_ERROR_RESPONSE``
    cast to the width of ``*val`` (all ones).  Returns the value to store."""
    return PCI_ERROR_RESPONSE & mask


# The alignment checks of PCI_OP_READ/WRITE: PCI_byte_BAD, PCI_word_BAD, PCI_dword_BAD.
def PCI_byte_BAD(pos: int) -> bool:
    return False


def PCI_word_BAD(pos: int) -> bool:
    return bool(pos & 1)


def PCI_dword_BAD(pos: int) -> bool:
    return bool(pos & 3)


def _bus_read(bus: pci_bus, devfn: int, pos: int, length: int, mask: int) -> tuple[int, int]:
    """The body of ``PCI_OP_READ`` after the alignment check (Python only)."""
    assert bus.ops is not None
    flags = spin_lock_irqsave(pci_lock)  # pci_lock_config(flags)
    try:
        res, data = bus.ops.read(bus, devfn, pos, length)
        value = PCI_SET_ERROR_RESPONSE(mask) if res else data & mask
    finally:
        spin_unlock_irqrestore(pci_lock, flags)  # pci_unlock_config(flags)
    return res, value


def _bus_write(bus: pci_bus, devfn: int, pos: int, length: int, value: int) -> int:
    """The body of ``PCI_OP_WRITE`` after the alignment check (Python only)."""
    assert bus.ops is not None
    flags = spin_lock_irqsave(pci_lock)
    try:
        return bus.ops.write(bus, devfn, pos, length, value)
    finally:
        spin_unlock_irqrestore(pci_lock, flags)


def pci_bus_read_config_byte(bus: pci_bus, devfn: int, pos: int) -> tuple[int, int]:
    if PCI_byte_BAD(pos):
        return PCIBIOS_BAD_REGISTER_NUMBER, 0
    return _bus_read(bus, devfn, pos, 1, _U8)


def pci_bus_read_config_word(bus: pci_bus, devfn: int, pos: int) -> tuple[int, int]:
    if PCI_word_BAD(pos):
        return PCIBIOS_BAD_REGISTER_NUMBER, 0
    return _bus_read(bus, devfn, pos, 2, _U16)


def pci_bus_read_config_dword(bus: pci_bus, devfn: int, pos: int) -> tuple[int, int]:
    if PCI_dword_BAD(pos):
        return PCIBIOS_BAD_REGISTER_NUMBER, 0
    return _bus_read(bus, devfn, pos, 4, _U32)


def pci_bus_write_config_byte(bus: pci_bus, devfn: int, pos: int, value: int) -> int:
    if PCI_byte_BAD(pos):
        return PCIBIOS_BAD_REGISTER_NUMBER
    return _bus_write(bus, devfn, pos, 1, value & _U8)


def pci_bus_write_config_word(bus: pci_bus, devfn: int, pos: int, value: int) -> int:
    if PCI_word_BAD(pos):
        return PCIBIOS_BAD_REGISTER_NUMBER
    return _bus_write(bus, devfn, pos, 2, value & _U16)


def pci_bus_write_config_dword(bus: pci_bus, devfn: int, pos: int, value: int) -> int:
    if PCI_dword_BAD(pos):
        return PCIBIOS_BAD_REGISTER_NUMBER
    return _bus_write(bus, devfn, pos, 4, value & _U32)


def pci_bus_set_ops(bus: pci_bus, ops: pci_ops) -> pci_ops | None:
    """Install new raw config operations on ``bus``; returns the previous ones."""
    flags = spin_lock_irqsave(pci_lock)
    old_ops = bus.ops
    bus.ops = ops
    spin_unlock_irqrestore(pci_lock, flags)
    return old_ops


# User-space config accesses must not reach a device while it is unsafe to touch
# (during BIST, D-state transitions, resets): a per-device bit blocks them, and
# blocked callers sleep on one global wait queue until the bit is cleared.

#: ``static DECLARE_WAIT_QUEUE_HEAD(pci_cfg_wait)``.
pci_cfg_wait: Final = threading.Condition(threading.Lock())


def pci_wait_cfg(dev: pci_dev) -> None:
    """Called and returns with ``pci_lock`` held; sleeps without it."""
    while True:
        spin_unlock(pci_lock)  # raw_spin_unlock_irq
        with pci_cfg_wait:  # wait_event(pci_cfg_wait, !dev->block_cfg_access)
            pci_cfg_wait.wait_for(lambda: not dev.block_cfg_access)
        spin_lock(pci_lock)  # raw_spin_lock_irq
        if not dev.block_cfg_access:
            break


def _user_read(dev: pci_dev, pos: int, size: int, mask: int) -> tuple[int, int]:
    """The body of ``PCI_USER_READ_CONFIG`` after the alignment check (Python only)."""
    assert dev.bus.ops is not None
    data = _U32  # u32 data = -1
    spin_lock(pci_lock)
    try:
        if dev.block_cfg_access:
            pci_wait_cfg(dev)
        ret, data = dev.bus.ops.read(dev.bus, dev.devfn, pos, size)
    finally:
        spin_unlock(pci_lock)
    val = PCI_SET_ERROR_RESPONSE(mask) if ret else data & mask
    return pcibios_err_to_errno(ret), val


def _user_write(dev: pci_dev, pos: int, size: int, val: int) -> int:
    """The body of ``PCI_USER_WRITE_CONFIG`` after the alignment check (Python only)."""
    assert dev.bus.ops is not None
    spin_lock(pci_lock)
    try:
        if dev.block_cfg_access:
            pci_wait_cfg(dev)
        ret = dev.bus.ops.write(dev.bus, dev.devfn, pos, size, val)
    finally:
        spin_unlock(pci_lock)
    return pcibios_err_to_errno(ret)


def pci_user_read_config_byte(dev: pci_dev, pos: int) -> tuple[int, int]:
    """Returns (0 or a negative errno, value)."""
    if PCI_byte_BAD(pos):
        return -errno.EINVAL, 0
    return _user_read(dev, pos, 1, _U8)


def pci_user_read_config_word(dev: pci_dev, pos: int) -> tuple[int, int]:
    if PCI_word_BAD(pos):
        return -errno.EINVAL, 0
    return _user_read(dev, pos, 2, _U16)


def pci_user_read_config_dword(dev: pci_dev, pos: int) -> tuple[int, int]:
    if PCI_dword_BAD(pos):
        return -errno.EINVAL, 0
    return _user_read(dev, pos, 4, _U32)


def pci_user_write_config_byte(dev: pci_dev, pos: int, val: int) -> int:
    if PCI_byte_BAD(pos):
        return -errno.EINVAL
    return _user_write(dev, pos, 1, val & _U8)


def pci_user_write_config_word(dev: pci_dev, pos: int, val: int) -> int:
    if PCI_word_BAD(pos):
        return -errno.EINVAL
    return _user_write(dev, pos, 2, val & _U16)


def pci_user_write_config_dword(dev: pci_dev, pos: int, val: int) -> int:
    if PCI_dword_BAD(pos):
        return -errno.EINVAL
    return _user_write(dev, pos, 4, val & _U32)


def pci_cfg_access_lock(dev: pci_dev) -> None:
    """Block user-space config accesses to ``dev``; sleeps while another holder
    has them blocked."""
    spin_lock(pci_lock)
    if dev.block_cfg_access:
        pci_wait_cfg(dev)
    dev.block_cfg_access = True
    spin_unlock(pci_lock)


def pci_cfg_access_trylock(dev: pci_dev) -> bool:
    """As :func:`pci_cfg_access_lock`, but returns False instead of sleeping."""
    locked = True
    flags = spin_lock_irqsave(pci_lock)
    if dev.block_cfg_access:
        locked = False
    else:
        dev.block_cfg_access = True
    spin_unlock_irqrestore(pci_lock, flags)
    return locked


def pci_cfg_access_unlock(dev: pci_dev) -> None:
    """Let config accesses to ``dev`` resume and wake every waiter."""
    flags = spin_lock_irqsave(pci_lock)
    # Unlocking what is not locked is the caller's bug; warn, do not kill.
    WARN_ON(not dev.block_cfg_access)
    dev.block_cfg_access = False
    spin_unlock_irqrestore(pci_lock, flags)
    with pci_cfg_wait:  # wake_up_all(&pci_cfg_wait)
        pci_cfg_wait.notify_all()


def pcie_cap_version(dev: pci_dev) -> int:
    return pcie_caps_reg(dev) & PCI_EXP_FLAGS_VERS


def pcie_cap_has_lnkctl(dev: pci_dev) -> bool:
    type_ = pci_pcie_type(dev)
    return type_ in (
        PCI_EXP_TYPE_ENDPOINT,
        PCI_EXP_TYPE_LEG_END,
        PCI_EXP_TYPE_ROOT_PORT,
        PCI_EXP_TYPE_UPSTREAM,
        PCI_EXP_TYPE_DOWNSTREAM,
        PCI_EXP_TYPE_PCI_BRIDGE,
        PCI_EXP_TYPE_PCIE_BRIDGE,
    )


def pcie_cap_has_lnkctl2(dev: pci_dev) -> bool:
    return pcie_cap_has_lnkctl(dev) and pcie_cap_version(dev) > 1


def pcie_cap_has_sltctl(dev: pci_dev) -> bool:
    return pcie_downstream_port(dev) and bool(pcie_caps_reg(dev) & PCI_EXP_FLAGS_SLOT)


def pcie_cap_has_rtctl(dev: pci_dev) -> bool:
    type_ = pci_pcie_type(dev)
    return type_ in (PCI_EXP_TYPE_ROOT_PORT, PCI_EXP_TYPE_RC_EC)


def pcie_capability_reg_implemented(dev: pci_dev, pos: int) -> bool:
    if not pci_is_pcie(dev):
        return False
    if pos == PCI_EXP_FLAGS:
        return True
    if pos in (PCI_EXP_DEVCAP, PCI_EXP_DEVCTL, PCI_EXP_DEVSTA):
        return True
    if pos in (PCI_EXP_LNKCAP, PCI_EXP_LNKCTL, PCI_EXP_LNKSTA):
        return pcie_cap_has_lnkctl(dev)
    if pos in (PCI_EXP_SLTCAP, PCI_EXP_SLTCTL, PCI_EXP_SLTSTA):
        return pcie_cap_has_sltctl(dev)
    if pos in (PCI_EXP_RTCTL, PCI_EXP_RTCAP, PCI_EXP_RTSTA):
        return pcie_cap_has_rtctl(dev)
    if pos in (PCI_EXP_DEVCAP2, PCI_EXP_DEVCTL2):
        return pcie_cap_version(dev) > 1
    if pos in (PCI_EXP_LNKCAP2, PCI_EXP_LNKCTL2, PCI_EXP_LNKSTA2):
        return pcie_cap_has_lnkctl2(dev)
    return False


# These accessors cover the PCI Express Capability structure only, not the PCIe
# extended capabilities (AER, VC, ACS, ...).


def pcie_capability_read_word(dev: pci_dev, pos: int) -> tuple[int, int]:
    val = 0
    if pos & 1:
        return PCIBIOS_BAD_REGISTER_NUMBER, val

    if pcie_capability_reg_implemented(dev, pos):
        ret, val = pci_read_config_word(dev, pci_pcie_cap(dev) + pos)
        # A failed read may have left the error response (0xffff); report 0.
        if ret:
            val = 0
        return ret, val

    # Registers a function does not implement read as zero, except that a
    # downstream port's Slot Status has Presence Detect State hardwired to 1.
    if pci_is_pcie(dev) and pcie_downstream_port(dev) and pos == PCI_EXP_SLTSTA:
        val = PCI_EXP_SLTSTA_PDS

    return 0, val


def pcie_capability_read_dword(dev: pci_dev, pos: int) -> tuple[int, int]:
    val = 0
    if pos & 3:
        return PCIBIOS_BAD_REGISTER_NUMBER, val

    if pcie_capability_reg_implemented(dev, pos):
        ret, val = pci_read_config_dword(dev, pci_pcie_cap(dev) + pos)
        if ret:
            val = 0
        return ret, val

    if pci_is_pcie(dev) and pcie_downstream_port(dev) and pos == PCI_EXP_SLTSTA:
        val = PCI_EXP_SLTSTA_PDS

    return 0, val


def pcie_capability_write_word(dev: pci_dev, pos: int, val: int) -> int:
    if pos & 1:
        return PCIBIOS_BAD_REGISTER_NUMBER

    if not pcie_capability_reg_implemented(dev, pos):
        return 0

    return pci_write_config_word(dev, pci_pcie_cap(dev) + pos, val)


def pcie_capability_write_dword(dev: pci_dev, pos: int, val: int) -> int:
    if pos & 3:
        return PCIBIOS_BAD_REGISTER_NUMBER

    if not pcie_capability_reg_implemented(dev, pos):
        return 0

    return pci_write_config_dword(dev, pci_pcie_cap(dev) + pos, val)


def pcie_capability_clear_and_set_word_unlocked(dev: pci_dev, pos: int, clear: int, set: int) -> int:
    ret, val = pcie_capability_read_word(dev, pos)
    if ret:
        return ret

    val &= ~clear & _U16
    val |= set
    return pcie_capability_write_word(dev, pos, val)


def pcie_capability_clear_and_set_word_locked(dev: pci_dev, pos: int, clear: int, set: int) -> int:
    flags = spin_lock_irqsave(dev.pcie_cap_lock)
    try:
        ret = pcie_capability_clear_and_set_word_unlocked(dev, pos, clear, set)
    finally:
        spin_unlock_irqrestore(dev.pcie_cap_lock, flags)
    return ret


def pcie_capability_clear_and_set_dword(dev: pci_dev, pos: int, clear: int, set: int) -> int:
    ret, val = pcie_capability_read_dword(dev, pos)
    if ret:
        return ret

    val &= ~clear & _U32
    val |= set
    return pcie_capability_write_dword(dev, pos, val)


def pcie_capability_clear_and_set_word(dev: pci_dev, pos: int, clear: int, set: int) -> int:
    """include/linux/pci.h (static inline): registers that several paths modify
    concurrently (LNKCTL, LNKCTL2, RTCTL) are updated under ``dev->pcie_cap_lock``."""
    if pos in (PCI_EXP_LNKCTL, PCI_EXP_LNKCTL2, PCI_EXP_RTCTL):
        return pcie_capability_clear_and_set_word_locked(dev, pos, clear, set)
    return pcie_capability_clear_and_set_word_unlocked(dev, pos, clear, set)


def pcie_capability_set_word(dev: pci_dev, pos: int, set: int) -> int:
    """include/linux/pci.h (static inline)."""
    return pcie_capability_clear_and_set_word(dev, pos, 0, set)


def pcie_capability_set_dword(dev: pci_dev, pos: int, set: int) -> int:
    """include/linux/pci.h (static inline)."""
    return pcie_capability_clear_and_set_dword(dev, pos, 0, set)


def pcie_capability_clear_word(dev: pci_dev, pos: int, clear: int) -> int:
    """include/linux/pci.h (static inline)."""
    return pcie_capability_clear_and_set_word(dev, pos, clear, 0)


def pcie_capability_clear_dword(dev: pci_dev, pos: int, clear: int) -> int:
    """include/linux/pci.h (static inline)."""
    return pcie_capability_clear_and_set_dword(dev, pos, clear, 0)


def pci_read_config_byte(dev: pci_dev, where: int) -> tuple[int, int]:
    if pci_dev_is_disconnected(dev):
        return PCIBIOS_DEVICE_NOT_FOUND, PCI_SET_ERROR_RESPONSE(_U8)
    return pci_bus_read_config_byte(dev.bus, dev.devfn, where)


def pci_read_config_word(dev: pci_dev, where: int) -> tuple[int, int]:
    if pci_dev_is_disconnected(dev):
        return PCIBIOS_DEVICE_NOT_FOUND, PCI_SET_ERROR_RESPONSE(_U16)
    return pci_bus_read_config_word(dev.bus, dev.devfn, where)


def pci_read_config_dword(dev: pci_dev, where: int) -> tuple[int, int]:
    if pci_dev_is_disconnected(dev):
        return PCIBIOS_DEVICE_NOT_FOUND, PCI_SET_ERROR_RESPONSE(_U32)
    return pci_bus_read_config_dword(dev.bus, dev.devfn, where)


def pci_write_config_byte(dev: pci_dev, where: int, val: int) -> int:
    if pci_dev_is_disconnected(dev):
        return PCIBIOS_DEVICE_NOT_FOUND
    return pci_bus_write_config_byte(dev.bus, dev.devfn, where, val)


def pci_write_config_word(dev: pci_dev, where: int, val: int) -> int:
    if pci_dev_is_disconnected(dev):
        return PCIBIOS_DEVICE_NOT_FOUND
    return pci_bus_write_config_word(dev.bus, dev.devfn, where, val)


def pci_write_config_dword(dev: pci_dev, where: int, val: int) -> int:
    if pci_dev_is_disconnected(dev):
        return PCIBIOS_DEVICE_NOT_FOUND
    return pci_bus_write_config_dword(dev.bus, dev.devfn, where, val)


def pci_clear_and_set_config_dword(dev: pci_dev, pos: int, clear: int, set: int) -> None:
    """Read-modify-write of a config dword; errors are ignored, as in C."""
    _, val = pci_read_config_dword(dev, pos)
    val &= ~clear & _U32
    val |= set
    pci_write_config_dword(dev, pos, val)

