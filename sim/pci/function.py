"""A PCI function as hardware: its configuration space and what writes to it do.

This is not kernel code.  The kernel reaches a function only through config reads
and writes (a host bridge's ``pci_ops``, or the s390 firmware's PCI load/store);
everything below is what the device does in answer.

Layout of the configuration space (offsets of the capabilities are fixed so that
tests can name them; the chain starts at ``PCI_CAPABILITY_LIST``):

=========  =======================================================================
0x00-0x3f  type-0 header: vendor/device id (RO), Command (RW), Status (capability
           list bit RO, error bits RW1C), class/revision (RO), header type with the
           multi-function bit (RO), six BARs (32-bit memory, size given at
           construction; sizing by writing all ones works), interrupt line (RW)
           and pin (RO), capability pointer (RO)
0x40       PM capability (optional): PMCSR power state (D0/D3hot, RW),
           No_Soft_Reset (RO, chosen at construction), PME enable (RW), PME status
           (RW1C).  D3hot -> D0 without No_Soft_Reset resets the function.
0x48       Advanced Features capability (optional): TP and FLR capable bits, a
           write of ``PCI_AF_CTRL_FLR`` performs an FLR.
0x50       MSI-X capability (optional): table size (RO), Enable and Function Mask
           (RW); the table (BIR 0, offset 0) and the PBA (BIR 0, after the table)
           sit in BAR 0's memory (see "Memory space" below).
0x60       PCI Express capability, version 2 (optional, so a conventional function
           such as ISM can be modelled): Device Capabilities (FLR bit if
           ``flr=True``), Device Control (a write with ``PCI_EXP_DEVCTL_BCR_FLR``
           set performs an FLR when FLR is advertised; the bit reads as 0), Device
           Status (error bits RW1C, Transactions Pending RO), link registers and
           the version-2 registers.
0xc0-0xff  device-specific scratch registers (RW, reset to 0): stand-ins for the
           state a driver programs into a device, which a reset loses.
=========  =======================================================================

Memory space: each BAR decodes a block of its size, reached with
``mem_read``/``mem_write`` (the s390 firmware's PCI load/store to address space
0-5, a host bridge's MMIO).  While Command.Memory Space (``PCI_COMMAND_MEMORY``) is
off the function does not decode memory: a request is an Unsupported Request, a
write is dropped and a read returns all ones (counted in ``unsupported_requests``).
BAR memory is plain read/write storage (device registers stand-ins, 0 after reset)
except, in BAR 0 of an MSI-X function, the MSI-X table: ``msix_table_size``
entries of 16 bytes (Message Address, Message Upper Address, Message Data: RW;
Vector Control: bit 0, Mask, RW, reserved bits read 0), reset to address and data 0
with Mask set (PCIe Base Spec, MSI-X Table), and the PBA (read-only, all 0: no
interrupt is ever pending, interrupts are not modelled).

A PCI Express function has 4096 bytes of config space (no extended capabilities:
the header at 0x100 reads 0); a conventional one has 256, and reads past the end
return all ones.

API
---
``PciFunction(vendor, device, *, class_code=0x020000, revision=0,
multifunction=False, bars=(0x1000,), pm=True, no_soft_reset=False, pcie=True,
pcie_type=PCI_EXP_TYPE_ENDPOINT, flr=True, af=False, af_flr=True, msix=False,
msix_table_size=8, subsystem_vendor=0, subsystem_device=0)``

``config_read(where, size) -> int``
    ``size`` 1, 2 or 4; little-endian, as PCI is.  All ones while inaccessible or
    past the end of the config space.
``config_write(where, size, value) -> None``
    Applies the read-only / RW1C masks and the side effects (FLR, PM transitions).
    Dropped while inaccessible or past the end.
``accessible`` (attribute) / ``set_accessible(flag)``
    False models a function in an error state: it answers nothing.
``mem_read(bar, offset, size) -> int`` / ``mem_write(bar, offset, size, value)``
    ``size`` 1, 2, 4 or 8, little-endian.  All ones / dropped while inaccessible,
    past the BAR's end, or while Memory Space is off (an Unsupported Request).
``msix_entry(index) -> (address_lo, address_hi, data, vector_control)``
    The table entry as the device holds it (for tests; no decoding check).
``unsupported_requests`` (attribute)
    Memory requests rejected because Memory Space was off.
``bar_sizes`` (attribute)
    The BAR sizes given at construction (what the platform reports to the OS).
``hot_reset()``
    A conventional reset from outside (slot/bus reset, the firmware re-enabling the
    function): records ``"hot"``.
``resets: list[str]``
    Every reset the function went through, oldest first: ``"flr"`` (PCIe FLR),
    ``"af_flr"`` (AF FLR), ``"pm"`` (D3hot -> D0 without No_Soft_Reset), ``"hot"``.
``reset_listeners: list[Callable[[PciFunction, str], None]]``
    Called with the function and the kind after each reset (the scenario
    timeline's hook); called with the function's lock held, so a listener must not
    touch the function.
``power_state`` (property)
    The PMCSR power state (0 = D0, 3 = D3hot), 0 without a PM capability.
``transactions_pending`` (attribute)
    Reflected in Device Status TRPND and AF Status TP; False unless a test sets it.

A reset returns every register to its power-on value: Command 0, BARs 0, Device
Control and the other control registers to their defaults, scratch registers 0,
power state D0; BAR memory 0 and the MSI-X table as at power-on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Final

from uapi.linux.pci_regs import (
    PCI_AF_CAP,
    PCI_AF_CAP_FLR,
    PCI_AF_CAP_TP,
    PCI_AF_CTRL,
    PCI_AF_CTRL_FLR,
    PCI_AF_LENGTH,
    PCI_AF_STATUS,
    PCI_AF_STATUS_TP,
    PCI_BASE_ADDRESS_0,
    PCI_CACHE_LINE_SIZE,
    PCI_CAP_AF_SIZEOF,
    PCI_CAP_ID_AF,
    PCI_CAP_ID_EXP,
    PCI_CAP_ID_MSIX,
    PCI_CAP_ID_PM,
    PCI_CAP_LIST_ID,
    PCI_CAP_LIST_NEXT,
    PCI_CAPABILITY_LIST,
    PCI_CFG_SPACE_EXP_SIZE,
    PCI_CFG_SPACE_SIZE,
    PCI_CLASS_REVISION,
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_IO,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
    PCI_COMMAND_PARITY,
    PCI_COMMAND_SERR,
    PCI_DEVICE_ID,
    PCI_EXP_DEVCAP,
    PCI_EXP_DEVCAP2,
    PCI_EXP_DEVCAP_FLR,
    PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL2,
    PCI_EXP_DEVCTL_BCR_FLR,
    PCI_EXP_DEVCTL_NOSNOOP_EN,
    PCI_EXP_DEVCTL_RELAX_EN,
    PCI_EXP_DEVSTA,
    PCI_EXP_DEVSTA_TRPND,
    PCI_EXP_FLAGS,
    PCI_EXP_LNKCAP,
    PCI_EXP_LNKCAP2,
    PCI_EXP_LNKCTL,
    PCI_EXP_LNKCTL2,
    PCI_EXP_LNKSTA,
    PCI_EXP_TYPE_ENDPOINT,
    PCI_HEADER_TYPE,
    PCI_HEADER_TYPE_MFD,
    PCI_HEADER_TYPE_NORMAL,
    PCI_INTERRUPT_LINE,
    PCI_INTERRUPT_PIN,
    PCI_LATENCY_TIMER,
    PCI_MSIX_ENTRY_CTRL_MASKBIT,
    PCI_MSIX_ENTRY_SIZE,
    PCI_MSIX_ENTRY_VECTOR_CTRL,
    PCI_MSIX_FLAGS,
    PCI_MSIX_FLAGS_ENABLE,
    PCI_MSIX_FLAGS_MASKALL,
    PCI_MSIX_PBA,
    PCI_MSIX_TABLE,
    PCI_PM_CAP_PME_D0,
    PCI_PM_CTRL,
    PCI_PM_CTRL_NO_SOFT_RESET,
    PCI_PM_CTRL_PME_ENABLE,
    PCI_PM_CTRL_PME_STATUS,
    PCI_PM_CTRL_STATE_MASK,
    PCI_PM_PMC,
    PCI_STATUS,
    PCI_STATUS_CAP_LIST,
    PCI_STATUS_DETECTED_PARITY,
    PCI_STATUS_PARITY,
    PCI_STATUS_REC_MASTER_ABORT,
    PCI_STATUS_REC_TARGET_ABORT,
    PCI_STATUS_SIG_SYSTEM_ERROR,
    PCI_STATUS_SIG_TARGET_ABORT,
    PCI_SUBSYSTEM_ID,
    PCI_SUBSYSTEM_VENDOR_ID,
    PCI_VENDOR_ID,
)

__all__ = [
    "AF_CAP_OFFSET",
    "EXP_CAP_OFFSET",
    "MSIX_CAP_OFFSET",
    "PM_CAP_OFFSET",
    "SCRATCH_OFFSET",
    "SCRATCH_SIZE",
    "PciFunction",
]

PM_CAP_OFFSET: Final = 0x40
AF_CAP_OFFSET: Final = 0x48
MSIX_CAP_OFFSET: Final = 0x50
EXP_CAP_OFFSET: Final = 0x60
SCRATCH_OFFSET: Final = 0xC0
SCRATCH_SIZE: Final = 0x40

#: PCI Express capability, version 2, as long as an endpoint with a link needs.
_EXP_CAP_SIZEOF: Final = 0x3C
#: Device Control after reset: 512-byte read requests, relaxed ordering, no snoop.
_DEVCTL_DEFAULT: Final = 0x2000 | PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN
_COMMAND_WMASK: Final = (
    PCI_COMMAND_IO
    | PCI_COMMAND_MEMORY
    | PCI_COMMAND_MASTER
    | PCI_COMMAND_PARITY
    | PCI_COMMAND_SERR
    | PCI_COMMAND_INTX_DISABLE
)
_STATUS_W1C: Final = (
    PCI_STATUS_PARITY
    | PCI_STATUS_SIG_TARGET_ABORT
    | PCI_STATUS_REC_TARGET_ABORT
    | PCI_STATUS_REC_MASTER_ABORT
    | PCI_STATUS_SIG_SYSTEM_ERROR
    | PCI_STATUS_DETECTED_PARITY
)
_D3hot: Final = 3


class PciFunction:
    """One PCI function (see the module docstring for the register model)."""

    def __init__(
        self,
        vendor: int,
        device: int,
        *,
        class_code: int = 0x020000,
        revision: int = 0,
        multifunction: bool = False,
        bars: Sequence[int] = (0x1000,),
        pm: bool = True,
        no_soft_reset: bool = False,
        pcie: bool = True,
        pcie_type: int = PCI_EXP_TYPE_ENDPOINT,
        flr: bool = True,
        af: bool = False,
        af_flr: bool = True,
        msix: bool = False,
        msix_table_size: int = 8,
        subsystem_vendor: int = 0,
        subsystem_device: int = 0,
    ) -> None:
        if len(bars) > 6:
            raise ValueError("a type-0 header has six BARs")
        for size in bars:
            if size and (size < 16 or size & (size - 1)):
                raise ValueError(f"BAR size {size:#x} is not a power of two >= 16")
        self.pcie = pcie
        self.flr_capable = pcie and flr
        self.af = af
        self.af_flr_capable = af and af_flr
        self.pm = pm
        self.msix = msix
        self.msix_table_size = msix_table_size if msix else 0
        #: The BAR sizes, as the platform reports them (CLP Query PCI Function).
        self.bar_sizes: tuple[int, ...] = tuple(bars)
        #: Memory requests answered with Unsupported Request (Memory Space off).
        self.unsupported_requests = 0
        self.cfg_size = PCI_CFG_SPACE_EXP_SIZE if pcie else PCI_CFG_SPACE_SIZE
        #: False: the function is in an error state and answers nothing.
        self.accessible = True
        #: Every reset, oldest first ("flr", "af_flr", "pm", "hot").
        self.resets: list[str] = []
        #: Observers of resets: ``fn(function, kind)`` after each one.
        self.reset_listeners: list[Callable[[PciFunction, str], None]] = []
        self.transactions_pending = False
        self._lock = threading.RLock()
        self._cfg = bytearray(self.cfg_size)
        self._wmask = bytearray(self.cfg_size)  # 1 = bit is writable
        self._w1cmask = bytearray(self.cfg_size)  # 1 = write 1 to clear

        self._set(PCI_VENDOR_ID, 2, vendor)
        self._set(PCI_DEVICE_ID, 2, device)
        self._set(PCI_COMMAND, 2, 0, wmask=_COMMAND_WMASK)
        self._set(PCI_STATUS, 2, 0, w1c=_STATUS_W1C)
        self._set(PCI_CLASS_REVISION, 4, (class_code << 8) | (revision & 0xFF))
        self._set(PCI_CACHE_LINE_SIZE, 1, 0, wmask=0xFF)
        self._set(PCI_LATENCY_TIMER, 1, 0)
        hdr = PCI_HEADER_TYPE_NORMAL | (PCI_HEADER_TYPE_MFD if multifunction else 0)
        self._set(PCI_HEADER_TYPE, 1, hdr)
        for i, size in enumerate(bars):
            self._set(PCI_BASE_ADDRESS_0 + 4 * i, 4, 0, wmask=(~(size - 1) & 0xFFFFFFF0) if size else 0)
        self._set(PCI_SUBSYSTEM_VENDOR_ID, 2, subsystem_vendor)
        self._set(PCI_SUBSYSTEM_ID, 2, subsystem_device)
        self._set(PCI_INTERRUPT_LINE, 1, 0, wmask=0xFF)
        self._set(PCI_INTERRUPT_PIN, 1, 1)  # INTA#

        caps: list[int] = []
        if pm:
            caps.append(PM_CAP_OFFSET)
            # PMC: version 3, PME from D0 only; D1/D2 not supported.
            self._set(PM_CAP_OFFSET + PCI_PM_PMC, 2, 0x0003 | PCI_PM_CAP_PME_D0)
            self._set(
                PM_CAP_OFFSET + PCI_PM_CTRL,
                2,
                PCI_PM_CTRL_NO_SOFT_RESET if no_soft_reset else 0,
                wmask=PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE,
                w1c=PCI_PM_CTRL_PME_STATUS,
            )
        if af:
            caps.append(AF_CAP_OFFSET)
            self._set(AF_CAP_OFFSET + PCI_AF_LENGTH, 1, PCI_CAP_AF_SIZEOF)
            self._set(AF_CAP_OFFSET + PCI_AF_CAP, 1, PCI_AF_CAP_TP | (PCI_AF_CAP_FLR if af_flr else 0))
        if msix:
            if not 1 <= msix_table_size <= 2048:
                raise ValueError("MSI-X table size must be 1..2048")
            caps.append(MSIX_CAP_OFFSET)
            self._set(
                MSIX_CAP_OFFSET + PCI_MSIX_FLAGS,
                2,
                msix_table_size - 1,
                wmask=PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
            )
            self._set(MSIX_CAP_OFFSET + PCI_MSIX_TABLE, 4, 0)  # BAR 0, offset 0
            self._set(MSIX_CAP_OFFSET + PCI_MSIX_PBA, 4, (msix_table_size * 16 + 7) & ~7)
        if pcie:
            caps.append(EXP_CAP_OFFSET)
            e = EXP_CAP_OFFSET
            self._set(e + PCI_EXP_FLAGS, 2, 0x0002 | ((pcie_type & 0xF) << 4))
            self._set(e + PCI_EXP_DEVCAP, 4, PCI_EXP_DEVCAP_FLR if flr else 0)
            self._set(e + PCI_EXP_DEVCTL, 2, _DEVCTL_DEFAULT, wmask=0x7FFF)
            self._set(e + PCI_EXP_DEVSTA, 2, 0, w1c=0x000F)
            self._set(e + PCI_EXP_LNKCAP, 4, 0x00000011)  # 2.5 GT/s, x1
            self._set(e + PCI_EXP_LNKCTL, 2, 0, wmask=0x0FFF)
            self._set(e + PCI_EXP_LNKSTA, 2, 0x0011)
            self._set(e + PCI_EXP_DEVCAP2, 4, 0)
            self._set(e + PCI_EXP_DEVCTL2, 2, 0, wmask=0x07FF)
            self._set(e + PCI_EXP_LNKCAP2, 4, 0x00000002)
            self._set(e + PCI_EXP_LNKCTL2, 2, 0x0001, wmask=0x03FF)
        for i in range(SCRATCH_OFFSET, SCRATCH_OFFSET + SCRATCH_SIZE):
            self._wmask[i] = 0xFF

        if caps:
            self._set(PCI_STATUS, 2, PCI_STATUS_CAP_LIST, w1c=_STATUS_W1C)
            self._set(PCI_CAPABILITY_LIST, 1, caps[0])
            cap_ids = {
                PM_CAP_OFFSET: PCI_CAP_ID_PM,
                AF_CAP_OFFSET: PCI_CAP_ID_AF,
                MSIX_CAP_OFFSET: PCI_CAP_ID_MSIX,
                EXP_CAP_OFFSET: PCI_CAP_ID_EXP,
            }
            for pos, nxt in zip(caps, [*caps[1:], 0], strict=True):
                self._set(pos + PCI_CAP_LIST_ID, 1, cap_ids[pos])
                self._set(pos + PCI_CAP_LIST_NEXT, 1, nxt)

        #: The power-on image every reset returns to.
        self._reset_image = bytes(self._cfg)

        # Memory space: one block per BAR; in BAR 0 of an MSI-X function the table
        # (every entry masked at power-on) and after it the PBA.
        mem = [bytearray(size) for size in bars]
        if msix:
            if not bars or bars[0] < self._msix_pba_end():
                raise ValueError("BAR 0 is too small for the MSI-X table and PBA")
            for i in range(msix_table_size):
                ctrl = i * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL
                mem[0][ctrl : ctrl + 4] = PCI_MSIX_ENTRY_CTRL_MASKBIT.to_bytes(4, "little")
        self._mem = mem
        self._mem_reset_image = [bytes(m) for m in mem]

    def __repr__(self) -> str:
        vendor = int.from_bytes(self._cfg[0:2], "little")
        device = int.from_bytes(self._cfg[2:4], "little")
        return f"<PciFunction {vendor:04x}:{device:04x} resets={self.resets}>"

    # -- construction helpers ----------------------------------------------------

    def _set(self, where: int, size: int, value: int, *, wmask: int = 0, w1c: int = 0) -> None:
        self._cfg[where : where + size] = value.to_bytes(size, "little")
        self._wmask[where : where + size] = wmask.to_bytes(size, "little")
        self._w1cmask[where : where + size] = w1c.to_bytes(size, "little")

    def _get(self, where: int, size: int) -> int:
        return int.from_bytes(self._cfg[where : where + size], "little")

    # -- the interface ------------------------------------------------------------

    def set_accessible(self, accessible: bool) -> None:
        """Enter (False) or leave (True) the error state."""
        with self._lock:
            self.accessible = accessible

    @property
    def power_state(self) -> int:
        if not self.pm:
            return 0
        with self._lock:
            return self._get(PM_CAP_OFFSET + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK

    def config_read(self, where: int, size: int) -> int:
        _check_size(size)
        with self._lock:
            if not self.accessible or where < 0 or where + size > self.cfg_size:
                return (1 << (8 * size)) - 1
            self._refresh_status()
            return self._get(where, size)

    def config_write(self, where: int, size: int, value: int) -> None:
        _check_size(size)
        with self._lock:
            if not self.accessible or where < 0 or where + size > self.cfg_size:
                return
            value &= (1 << (8 * size)) - 1
            old_pmcsr = self._get(PM_CAP_OFFSET + PCI_PM_CTRL, 2) if self.pm else 0
            data = value.to_bytes(size, "little")
            for i, byte in enumerate(data):
                off = where + i
                wm, w1c = self._wmask[off], self._w1cmask[off]
                new = (self._cfg[off] & ~wm) | (byte & wm)
                new &= ~(byte & w1c)
                self._cfg[off] = new & 0xFF

            def touches(reg: int, width: int) -> bool:
                return where < reg + width and reg < where + size

            def written(reg: int, width: int) -> int:
                """The bits of this write that land in the register at ``reg``."""
                shift = 8 * (reg - where)
                return (value >> shift if shift >= 0 else value << -shift) & ((1 << (8 * width)) - 1)

            if self.pm and touches(PM_CAP_OFFSET + PCI_PM_CTRL, 2):
                self._pm_transition(old_pmcsr)
            if self.pcie and touches(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2):
                if written(EXP_CAP_OFFSET + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR and self.flr_capable:
                    self._reset("flr")
            if self.af and touches(AF_CAP_OFFSET + PCI_AF_CTRL, 1):
                if written(AF_CAP_OFFSET + PCI_AF_CTRL, 1) & PCI_AF_CTRL_FLR and self.af_flr_capable:
                    self._reset("af_flr")

    def hot_reset(self) -> None:
        """A conventional reset driven from outside the function (slot or bus reset,
        or the platform re-enabling it).  Works whether or not it is accessible."""
        with self._lock:
            self._reset("hot")

    def mem_read(self, bar: int, offset: int, size: int) -> int:
        """A memory read request to BAR ``bar`` at ``offset``."""
        _check_mem_size(size)
        with self._lock:
            if not self._mem_decodes(bar, offset, size):
                return (1 << (8 * size)) - 1
            return int.from_bytes(self._mem[bar][offset : offset + size], "little")

    def mem_write(self, bar: int, offset: int, size: int, value: int) -> None:
        """A memory write request to BAR ``bar`` at ``offset``; dropped unless the
        function decodes it (see the module docstring)."""
        _check_mem_size(size)
        with self._lock:
            if not self._mem_decodes(bar, offset, size):
                return
            data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            mem = self._mem[bar]
            for i, byte in enumerate(data):
                off = offset + i
                if self.msix and bar == 0 and off < self._msix_pba_end():
                    byte = self._msix_byte(off, byte)
                mem[off] = byte

    def msix_entry(self, index: int) -> tuple[int, int, int, int]:
        """MSI-X table entry ``index``: (address_lo, address_hi, data, vector control)."""
        if not 0 <= index < self.msix_table_size:
            raise IndexError(f"MSI-X table entry {index} (table size {self.msix_table_size})")
        with self._lock:
            base = index * PCI_MSIX_ENTRY_SIZE
            raw = self._mem[0][base : base + PCI_MSIX_ENTRY_SIZE]
            lo, hi, data, ctrl = (int.from_bytes(raw[i : i + 4], "little") for i in range(0, 16, 4))
            return lo, hi, data, ctrl

    # -- behaviour ------------------------------------------------------------------

    def _mem_decodes(self, bar: int, offset: int, size: int) -> bool:
        """Whether a memory request reaches the BAR: the function answers, the
        request lies inside the BAR, and Memory Space is on (else the request is an
        Unsupported Request)."""
        if not self.accessible or not 0 <= bar < len(self._mem):
            return False
        if offset < 0 or offset + size > len(self._mem[bar]):
            return False
        if not self._get(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY:
            self.unsupported_requests += 1
            return False
        return True

    def _msix_pba_end(self) -> int:
        table_end = (self.msix_table_size * PCI_MSIX_ENTRY_SIZE + 7) & ~7
        return table_end + ((self.msix_table_size + 63) // 64) * 8

    def _msix_byte(self, off: int, byte: int) -> int:
        """The byte a write leaves at ``off`` in the MSI-X table or PBA."""
        table_end = self.msix_table_size * PCI_MSIX_ENTRY_SIZE
        if off >= table_end:
            return self._mem[0][off]  # PBA and the gap before it: read-only
        if off % PCI_MSIX_ENTRY_SIZE == PCI_MSIX_ENTRY_VECTOR_CTRL:
            return byte & PCI_MSIX_ENTRY_CTRL_MASKBIT
        if off % PCI_MSIX_ENTRY_SIZE > PCI_MSIX_ENTRY_VECTOR_CTRL:
            return 0  # reserved bits of Vector Control
        return byte

    def _refresh_status(self) -> None:
        if self.pcie:
            off = EXP_CAP_OFFSET + PCI_EXP_DEVSTA
            sta = self._get(off, 2) & ~PCI_EXP_DEVSTA_TRPND
            self._set_value(off, 2, sta | (PCI_EXP_DEVSTA_TRPND if self.transactions_pending else 0))
        if self.af:
            off = AF_CAP_OFFSET + PCI_AF_STATUS
            self._set_value(off, 1, PCI_AF_STATUS_TP if self.transactions_pending else 0)

    def _set_value(self, where: int, size: int, value: int) -> None:
        self._cfg[where : where + size] = value.to_bytes(size, "little")

    def _pm_transition(self, old_pmcsr: int) -> None:
        off = PM_CAP_OFFSET + PCI_PM_CTRL
        pmcsr = self._get(off, 2)
        old_state = old_pmcsr & PCI_PM_CTRL_STATE_MASK
        new_state = pmcsr & PCI_PM_CTRL_STATE_MASK
        if new_state in (1, 2):
            # D1 and D2 are not supported: the state field keeps its value.
            self._set_value(off, 2, (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | old_state)
            return
        if old_state == _D3hot and new_state == 0 and not old_pmcsr & PCI_PM_CTRL_NO_SOFT_RESET:
            self._reset("pm")

    def _reset(self, kind: str) -> None:
        self._cfg[:] = self._reset_image
        for mem, image in zip(self._mem, self._mem_reset_image, strict=True):
            mem[:] = image
        self.resets.append(kind)
        for fn in tuple(self.reset_listeners):
            fn(self, kind)


def _check_mem_size(size: int) -> None:
    if size not in (1, 2, 4, 8):
        raise ValueError(f"memory access of {size} bytes (must be 1, 2, 4 or 8)")


def _check_size(size: int) -> None:
    if size not in (1, 2, 4):
        raise ValueError(f"config access of {size} bytes (must be 1, 2 or 4)")
