"""The zPCI firmware of the modelled IBM Z machine: the table of PCI functions the
partition may use, and the answers to the instructions the kernel executes on them.

A machine is built, filled with functions, then booted::

    fw = ZpciFirmware()
    fw.add_function(0x10, PciFunction(...))                 # one single-function device
    fw.add_function(0x20, f0, pchid=0x100, devfn=0)         # two functions of one
    fw.add_function(0x21, f1, pchid=0x100, devfn=1)         # multi-function device
    fw.boot()                                               # install + start_kernel()
    fw.inject_error(0x10, pec=0x3A)                         # raise an error event
    fw.wait_events_handled()                                # kmcheck has handled it

Each function has a function id (``fid``, fixed), a function handle (``fh``) that the
firmware re-issues on every enable and disable -- bit 31 is the enabled bit, bits
16..23 a generation number, so a handle from before a state change is *stale* --, a
configuration state (standby, configured, reserved), PCHID, VFN, PFT, UID, function
group, and the PCI function model that holds its config space.  Functions given a
``devfn`` report a RID (``rid_avail``) and, with a common PCHID, form one PCI domain
(the kernel's zbus).

What the kernel can ask (:class:`kernel.s390.machine.ZpciMachine`):

* CLP List PCI, Query PCI Function, Query PCI Function Group, Set PCI Function
  (enable/disable), with the CLP response codes of asm/pci_clp.h: an unknown or stale
  handle answers ``CLP_RC_SETPCIFN_FH``, a function not configured
  ``CLP_RC_SETPCIFN_FHOP``, enabling an enabled (or disabling a disabled) function
  ``CLP_RC_SETPCIFN_ALRDY``, enabling a permanently failed one
  ``CLP_RC_SETPCIFN_ERR``; :meth:`set_busy` makes Set PCI Function answer
  ``CLP_RC_SETPCIFN_BUSY`` a number of times;
* MPCIFC Reset Error / Reset Block / (De)register IOAT / Set Measure, with condition
  code 3 for an invalid handle, cc 1 + status 4 for a function not enabled, cc 1 +
  status 8 for a permanently failed one, cc 1 + status 44 when the function is not in
  the state the reset undoes;
* PCI load/store of config space (address space 15) and of BAR memory (address
  spaces 0-5, BAR 0-5: the function's ``mem_read``/``mem_write``, where a function
  with Memory Space off drops the store and answers the load with all ones): cc 3
  invalid handle, cc 1 + status 4 not enabled, cc 1 + status 8 while load/store is
  blocked by an error (the kernel then reads all ones); a BAR the function does not
  have, or any other address space, cc 1 + status 20.  Query PCI Function reports
  the BAR sizes (``bar_size``, log2) and 32-bit memory BARs (``bar``);
* SCLP configure/deconfigure (response 0x0020, or 0x01F0 when the state does not
  allow it -- this model's choice of failure code) and error-notification reports,
  which are recorded in :attr:`reports`;
* CHSC Store Event Information, answering the queued events one by one.

An error event (:meth:`inject_error`) puts the function in the error state --
load/store blocked, DMA blocked, the function model inaccessible -- unless the PEC
only concerns the measurement block (0x2A-0x2C); PEC 0x40 and 0x3B also mark it
permanently failed.  The state is left by MPCIFC Reset Block (load/store only) and
Reset Error (all), or by disabling the function (a hot reset), which also resets the
function model.  Error injection is one call; the event is then delivered to the
kernel's ``kmcheck`` thread through a channel report.

The firmware serialises itself with one lock; it calls into the kernel only to raise
a channel report, never while holding it.

Each instruction is one atomic step, and under a schedule explorer
(:mod:`kernel.lib.schedpoint`) a scheduling point that names what it reads and
writes: the function's state (:class:`FirmwareFunction`: handle, enabled, error,
blocked, configuration state), its config space, the event queue
(:attr:`ZpciFirmware.events`) and the SCLP reports.  Config space is one object per
dword, ``(model, dword)``, plus ``(model, "all")`` for what changes all of it at once
(accessibility, a hot reset), which every load and store reads: loads and stores of
different registers commute.  CLP List PCI reads every function; Set PCI Function
writes the function and (a disable resets it) all of its config space; MPCIFC Reset
Error/Block write both, the other MPCIFC operations the function; PCI load reads the
function and the dwords it loads, PCI store reads the function and writes the dwords
it stores; CHSC SEI writes the event queue; an error injection writes the function,
all of its config space (it becomes inaccessible) and the queue.  PCI load/store
are scheduling points only when :attr:`ZpciFirmware.visible_load_store` is set
(``python -m sim.explore --load-store``).  With no explorer installed each point is
one attribute check.  (The footprint of an instruction names the function its
handle's index bits select; the aliases of :meth:`ZpciFirmware.disable_behind_kernel`,
a test device, are not part of it.)

Observers (the scenario timeline) register ``fn(what, fields)`` in :attr:`listeners`:
``"error"`` and ``"availability"`` when an event is raised (``fid``, ``fh``, ``pec``;
before the kernel is told), ``"set_pci_fn"`` after each CLP Set PCI Function
(``fid`` or None, ``fh``, ``oc``, ``rsp``, ``new_fh``) and ``"mpcifc"`` after each
MPCIFC Reset Error / Reset Block (``fid`` or None, ``fh``, ``oc``, ``cc``,
``status``) and ``"report"`` when the kernel sends an SCLP error notification
(``fid``, ``fh``, ``action``, ``text``: the report's log text).  A listener may be
called with the firmware's lock held and must not call back into the firmware.

:meth:`events_held` holds back the channel reports of the events raised inside it:
the error has happened (the function is in the error state) but the kernel hears of
it only when the block ends -- what a program that acts on an error before the
host has handled it meets.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import struct
import threading
from collections.abc import Callable, Iterator
from typing import Any, Final, Protocol

import attrs

from kernel.lib import schedpoint
from kernel.s390.include.asm.clp import (
    CLP_BLK_SIZE,
    CLP_LPS_PCI,
    CLP_RC_CMD,
    CLP_RC_OK,
    clp_req_hdr,
)
from kernel.s390.include.asm.pci_clp import (
    CLP_FH_LIST_NR_ENTRIES,
    CLP_LIST_PCI,
    CLP_QUERY_PCI_FN,
    CLP_QUERY_PCI_FNGRP,
    CLP_RC_QUERYPCIFG_PFGID,
    CLP_RC_SETPCIFN_ALRDY,
    CLP_RC_SETPCIFN_BUSY,
    CLP_RC_SETPCIFN_ERR,
    CLP_RC_SETPCIFN_FH,
    CLP_RC_SETPCIFN_FHOP,
    CLP_SET_DISABLE_PCI_FN,
    CLP_SET_ENABLE_PCI_FN,
    CLP_SET_PCI_FN,
    CLP_UTIL_STR_LEN,
    LIST_PCI_HDR_LEN,
    clp_fh_list_entry,
    clp_req_rsp_list_pci,
    clp_req_rsp_query_pci,
    clp_req_rsp_query_pci_grp,
    clp_req_rsp_set_pci,
    clp_rsp_list_pci,
)
from kernel.s390.include.asm.pci_insn import (
    ZPCI_MOD_FC_DEREG_IOAT,
    ZPCI_MOD_FC_REG_IOAT,
    ZPCI_MOD_FC_RESET_BLOCK,
    ZPCI_MOD_FC_RESET_ERROR,
    ZPCI_MOD_FC_SET_MEASURE,
    ZPCI_PCI_ST_ALREADY_IN_RQ_STATE,
    ZPCI_PCI_ST_FUNC_IN_ERR,
    ZPCI_PCI_ST_FUNC_NOT_ENABLED,
    ZPCI_PCI_ST_INVAL_AS,
    ZPCI_PCIAS_CFGSPC,
    ZPCI_PCIAS_MEMIO_0,
    zpci_fib,
)
from uapi.linux.pci_regs import PCI_STD_NUM_BARS

__all__ = [
    "CONFIGURED",
    "RESERVED",
    "STANDBY",
    "FirmwareFunction",
    "PciFunctionModel",
    "SclpReport",
    "ZpciFirmware",
    "ccdf_avail_bytes",
    "ccdf_err_bytes",
]

STANDBY: Final = "standby"
CONFIGURED: Final = "configured"
RESERVED: Final = "reserved"

FH_ENABLED: Final = 0x80000000

#: SCLP response codes: done, and this model's code for "not possible in this state".
SCLP_RC_DONE: Final = 0x0020
SCLP_RC_REFUSED: Final = 0x01F0
#: drivers/s390/char/sclp_pci.c command words.
SCLP_CMDW_CONFIGURE_PCI: Final = 0x001A0001
SCLP_CMDW_DECONFIGURE_PCI: Final = 0x001B0001

#: PECs that only concern the function measurement block, and those that mean the
#: function failed for good.
FMB_PECS: Final = frozenset({0x002A, 0x002B, 0x002C})
PERM_PECS: Final = frozenset({0x0040, 0x003B})


class PciFunctionModel(Protocol):
    """What the firmware needs of a PCI function model (sim.pci.function.PciFunction)."""

    accessible: bool

    def config_read(self, where: int, size: int) -> int: ...

    def config_write(self, where: int, size: int, value: int) -> None: ...

    def set_accessible(self, accessible: bool) -> None: ...

    def hot_reset(self) -> None: ...

    @property
    def bar_sizes(self) -> tuple[int, ...]: ...

    def mem_read(self, bar: int, offset: int, size: int) -> int: ...

    def mem_write(self, bar: int, offset: int, size: int, value: int) -> None: ...


def ccdf_err_bytes(
    fh: int,
    fid: int,
    pec: int,
    *,
    ett: int = 0,
    mvn: int = 0,
    dmaas: int = 0,
    q: int = 0,
    rw: int = 0,
    faddr: int = 0,
    reserved1: int = 0,
    reserved2: int = 0,
    reserved3: int = 0,
    reserved4: int = 0,
) -> bytes:
    """The 32 bytes of a ``struct zpci_ccdf_err`` as the firmware stores them (s390x:
    big-endian, the first bit-field in the most significant bits).  The reserved
    fields are zero unless given: a test may set them to see that they go nowhere."""
    word = (
        (ett & 0xF) << 28
        | (mvn & 0xFFF) << 16
        | (dmaas & 0xFF) << 8
        | (reserved2 & 0x3F) << 2
        | (q & 1) << 1
        | (rw & 1)
    )
    return struct.pack(">IIIIQIHH", reserved1, fh, fid, word, faddr, reserved3, reserved4, pec)


def ccdf_avail_bytes(fh: int, fid: int, pec: int) -> bytes:
    """The 32 bytes of a ``struct zpci_ccdf_avail``."""
    return struct.pack(">IIIIIIIHH", 0, fh, fid, 0, 0, 0, 0, 0, pec)


@attrs.define(eq=False)
class FirmwareFunction:
    """One PCI function in the firmware's table."""

    fid: int
    function: PciFunctionModel
    index: int
    vendor_id: int = 0
    device_id: int = 0
    state: str = CONFIGURED
    pchid: int = 0
    vfn: int = 0
    pft: int = 0
    pfgid: int = 1
    uid: int = 0
    devfn: int | None = None
    util_str: bytes = b""
    start_dma: int = 0x100000000
    end_dma: int = 0x1FFFFFFFF
    generation: int = 0
    enabled: bool = False
    error: bool = False
    blocked: bool = False
    perm_failed: bool = False
    ioat_registered: bool = False
    busy: int = 0
    #: a former handle still accepted (see ZpciFirmware.disable_behind_kernel)
    alias_fh: int | None = None

    @property
    def fh(self) -> int:
        return (FH_ENABLED if self.enabled else 0) | (self.generation & 0xFF) << 16 | (self.index & 0xFFFF)


def _all(fn: FirmwareFunction | None) -> tuple[object, str] | None:
    """The explorer's object for "all of the function's config space"."""
    return (fn.function, "all") if fn is not None else None


def _dwords(fn: FirmwareFunction | None, offset: int, length: int) -> tuple[object, ...]:
    """The explorer's objects for the config dwords an access of ``length`` bytes at
    ``offset`` touches."""
    if fn is None:
        return ()
    return tuple((fn.function, d) for d in range(offset // 4, (offset + max(length, 1) - 1) // 4 + 1))


#: Where the CLP fh list starts in a List PCI block.
_FH_LIST_OFFSET: Final = clp_req_rsp_list_pci.response.offset + clp_rsp_list_pci.fh_list.offset


@functools.cache
def _fh_entries(n: int) -> struct.Struct:
    """``n`` CLP fh list entries (struct clp_fh_list_entry: device id, vendor id, a
    word whose top bit is config_state, fid, fh; big-endian, packed, 16 bytes each)."""
    return struct.Struct(">" + "HHIII" * n)


@attrs.define(eq=False)
class SclpReport:
    """An SCLP error-notification event the kernel sent (``sclp_pci_report``)."""

    action: int
    atype: int
    fh: int
    fid: int
    data: bytes

    @property
    def text(self) -> str:
        """The log text after the timestamp and error-log id."""
        return self.data[16:].decode(errors="replace")

    @property
    def err_log_id(self) -> int:
        return int(struct.unpack_from(">Q", self.data, 8)[0])


class ZpciFirmware:
    """The machine's zPCI firmware (implements :class:`kernel.s390.machine.ZpciMachine`)."""

    def __init__(
        self, *, facilities: frozenset[int] = frozenset({69, 71}), uid_checking: bool = False
    ) -> None:
        self.facilities = set(facilities)
        self.uid_checking = uid_checking
        self.functions: dict[int, FirmwareFunction] = {}
        self._by_index: dict[int, FirmwareFunction] = {}
        self.groups: dict[int, dict[str, int]] = {1: {"version": 1, "noi": 64, "mui": 4000}}
        self.reports: list[SclpReport] = []
        self.events: collections.deque[tuple[int, int, bytes]] = collections.deque()
        #: every instruction the kernel executed: (name, details) -- a trace tests read
        self.trace: list[tuple[str, tuple[Any, ...]]] = []
        #: observers of events, CLP Set PCI Function and MPCIFC resets (module docstring)
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._after_set: list[FirmwareFunction] = []
        self._lock = threading.RLock()
        self._held = 0
        #: PCI load/store are scheduling points (see the module docstring)
        self.visible_load_store = False

    def _fn_at(self, fh: int) -> FirmwareFunction | None:
        """The function a handle names by its index bits (what an instruction on
        ``fh`` looks at), for the explorer's footprint."""
        return self._by_index.get(fh & 0xFFFF)

    def _visible(self, reads: tuple[object, ...] = (), writes: tuple[object, ...] = ()) -> None:
        """The scheduling point of one instruction (module docstring)."""
        if schedpoint.active is not None:
            r = tuple(x for x in reads if x is not None)
            schedpoint.sched_access(r, tuple(x for x in writes if x is not None))

    def _notify(self, what: str, **fields: Any) -> None:
        for fn in tuple(self.listeners):
            fn(what, fields)

    # -- building the machine ---------------------------------------------------------

    def add_function(
        self,
        fid: int,
        function: PciFunctionModel,
        *,
        state: str = CONFIGURED,
        pchid: int = 0,
        devfn: int | None = None,
        vfn: int = 0,
        pft: int = 0,
        pfgid: int = 1,
        uid: int | None = None,
        util_str: bytes = b"",
    ) -> FirmwareFunction:
        """Add a PCI function; ``devfn`` makes it report a RID (functions with a common
        PCHID and a devfn share a PCI domain)."""
        with self._lock:
            if fid in self.functions:
                raise ValueError(f"fid {fid:#x} already exists")
            fn = FirmwareFunction(
                fid=fid,
                function=function,
                index=len(self.functions) + 1,
                state=state,
                pchid=pchid,
                vfn=vfn,
                pft=pft,
                pfgid=pfgid,
                uid=fid if uid is None else uid,
                devfn=devfn,
                util_str=util_str,
                vendor_id=function.config_read(0, 2),
                device_id=function.config_read(2, 2),
            )
            self.functions[fid] = fn
            self._by_index[fn.index] = fn
            return fn

    def boot(self, **config: bool) -> None:
        """Put the kernel on this machine and boot it (``start_kernel(**config)``)."""
        from kernel.init.main import start_kernel
        from kernel.s390.machine import machine_install

        machine_install(self)
        start_kernel(**config)

    def shutdown(self, wait: bool = True) -> None:
        """Take the kernel off this machine (the next boot has no zPCI machine), after
        waiting for the kernel to handle the events raised so far (unless not ``wait``)."""
        from kernel.s390.machine import machine, machine_remove

        if wait:
            self.wait_events_handled()
        if machine() is self:
            machine_remove()

    def fh(self, fid: int) -> int:
        self._visible(reads=(self.functions.get(fid),))
        with self._lock:
            return self.functions[fid].fh

    def function(self, fid: int) -> FirmwareFunction:
        return self.functions[fid]

    def disable_behind_kernel(self, fid: int) -> None:
        """Disable the function without the kernel knowing, and keep accepting its old
        (enabled) handle: the z/VM-versus-LPAR case ``zpci_hot_reset_device()``
        mentions, where the handle says enabled but disabling answers "already
        disabled"."""
        with self._lock:
            fn = self.functions[fid]
            fn.alias_fh = fn.fh
            fn.enabled = False
            fn.generation += 1

    def set_busy(self, fid: int, times: int) -> None:
        """Make the next ``times`` Set PCI Function requests for ``fid`` answer busy."""
        with self._lock:
            self.functions[fid].busy = times

    # -- events -----------------------------------------------------------------------

    def _raise(self, cc: int, ccdf: bytes) -> None:
        from kernel.s390.cio.chsc import crw_handle_channel_report

        with self._lock:
            self.events.append((2, cc, ccdf))
            if self._held:
                return
        crw_handle_channel_report()

    @contextlib.contextmanager
    def events_held(self) -> Iterator[None]:
        """Raise the events of the block (their effect on the functions is
        immediate) but tell the kernel of them only when it ends (module docstring)."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            from kernel.s390.cio.chsc import crw_handle_channel_report

            with self._lock:
                self._held -= 1
                pending = not self._held and bool(self.events)
            if pending:
                crw_handle_channel_report()

    def inject_error(self, fid: int, pec: int = 0x003A, *, fh: int | None = None, **ccdf: int) -> None:
        """Raise a PCI function error event (CCDF content code 1) for ``fid``.  Unless
        the PEC concerns the measurement block only, the function enters the error
        state (load/store and DMA blocked); PEC 0x40/0x3B also make it permanently
        failed.  ``fh`` overrides the handle in the event (a stale one, say); extra
        keywords fill the other CCDF fields."""
        fn0 = self.functions.get(fid)
        self._visible(writes=(fn0, _all(fn0), self.events, schedpoint.MACHINE_EVENTS))
        with self._lock:
            fn = self.functions.get(fid)
            handle = fh if fh is not None else (fn.fh if fn is not None else 0)
            if fn is not None and pec not in FMB_PECS:
                fn.error = True
                fn.blocked = True
                fn.function.set_accessible(False)
                if pec in PERM_PECS:
                    fn.perm_failed = True
        self._notify("error", fid=fid, fh=handle, pec=pec)
        self._raise(1, ccdf_err_bytes(handle, fid, pec, **ccdf))

    def raise_availability(self, fid: int, pec: int) -> None:
        """Raise an availability event (content code 2) for ``fid`` with the function's
        current handle, changing its state as the PEC says: 0x0301 configured, 0x0302
        standby, 0x0304 standby (hard deconfigure), 0x0308 reserved; 0x0303 (a
        deconfiguration request) changes nothing."""
        self._visible(writes=(self.functions.get(fid), self.events, schedpoint.MACHINE_EVENTS))
        with self._lock:
            fn = self.functions[fid]
            if pec == 0x0301:
                fn.state = CONFIGURED
            elif pec in (0x0302, 0x0304):
                fn.enabled = False
                fn.generation += 1
                fn.state = STANDBY
            elif pec == 0x0308:
                fn.enabled = False
                fn.state = RESERVED
            handle = fn.fh
        self._notify("availability", fid=fid, fh=handle, pec=pec)
        self._raise(2, ccdf_avail_bytes(handle, fid, pec))

    def wait_events_handled(self, timeout: float = 10.0) -> bool:
        """Wait until the kernel has handled every event raised so far."""
        from kernel.s390.cio.chsc import crw_wait_idle

        return crw_wait_idle(timeout)

    # -- ZpciMachine -------------------------------------------------------------------

    def test_facility(self, nr: int) -> bool:
        return nr in self.facilities

    def chsc_sei(self) -> tuple[int, int, bytes, bool] | None:
        self._visible(writes=(self.events,))
        with self._lock:
            if not self.events:
                return None
            nt, cc, ccdf = self.events.popleft()
            return nt, cc, ccdf, bool(self.events)

    def _by_fh(self, fh: int) -> FirmwareFunction | None:
        # A handle's low 16 bits are the function's index: look there first (one
        # comparison), then at the aliases a test may have made.
        fn = self._by_index.get(fh & 0xFFFF)
        if fn is not None and fn.state != RESERVED and fn.fh == fh:
            return fn
        for fn in self.functions.values():
            if fn.state != RESERVED and fn.alias_fh == fh:
                return fn
        return None

    def clp(self, block: bytearray, lps: int) -> int:
        if len(block) != CLP_BLK_SIZE:
            return 3
        if schedpoint.active is not None:
            self._clp_visible(block)
        with self._lock:
            hdr = clp_req_hdr.from_buffer(block)
            cmd = hdr.cmd
            del hdr
            self.trace.append(("clp", (cmd,)))
            if lps != CLP_LPS_PCI:
                return 3
            if cmd == CLP_LIST_PCI:
                self._clp_list(block)
            elif cmd == CLP_QUERY_PCI_FN:
                self._clp_query(block)
            elif cmd == CLP_QUERY_PCI_FNGRP:
                self._clp_query_grp(block)
            elif cmd == CLP_SET_PCI_FN:
                rrb = clp_req_rsp_set_pci.from_buffer(block)
                fh, oc = rrb.request.fh, rrb.request.oc
                target = self._by_fh(fh)
                self._clp_set(block)
                rsp, new_fh = rrb.response.hdr.rsp, rrb.response.fh
                del rrb
                fid = target.fid if target is not None else None
                self._notify("set_pci_fn", fid=fid, fh=fh, oc=oc, rsp=rsp, new_fh=new_fh)
                while self._after_set:
                    disabled = self._after_set.pop(0)
                    disabled.function.hot_reset()
                    if not disabled.perm_failed:
                        disabled.function.set_accessible(True)
            else:
                # a response header sits right after a request header of unknown size;
                # use the Set PCI layout's to say "command not recognized"
                clp_req_rsp_set_pci.from_buffer(block).response.hdr.rsp = CLP_RC_CMD
            return 0

    def _clp_visible(self, block: bytearray) -> None:
        """The footprint of a CLP command (module docstring)."""
        cmd = clp_req_hdr.from_buffer_copy(block).cmd
        if cmd == CLP_LIST_PCI:
            self._visible(reads=tuple(self.functions.values()))
        elif cmd == CLP_QUERY_PCI_FN:
            self._visible(reads=(self._fn_at(clp_req_rsp_query_pci.from_buffer_copy(block).request.fh),))
        elif cmd == CLP_SET_PCI_FN:
            fn = self._fn_at(clp_req_rsp_set_pci.from_buffer_copy(block).request.fh)
            self._visible(writes=(fn, _all(fn)))

    def _clp_list(self, block: bytearray) -> None:
        rrb = clp_req_rsp_list_pci.from_buffer(block)
        listed = [fn for fn in self.functions.values() if fn.state != RESERVED]
        start = rrb.request.resume_token
        chunk = listed[start : start + CLP_FH_LIST_NR_ENTRIES]
        # The entries as the firmware writes them: device id, vendor id, a word whose
        # top bit is config_state, fid, fh (big-endian, packed, 16 bytes each).
        values: list[int] = []
        for fn in chunk:
            values += (fn.device_id, fn.vendor_id, 0x80000000 if fn.state == CONFIGURED else 0, fn.fid, fn.fh)
        _fh_entries(len(chunk)).pack_into(block, _FH_LIST_OFFSET, *values)
        nxt = start + len(chunk)
        rrb.response.resume_token = nxt if nxt < len(listed) else 0
        rrb.response.hdr.len = LIST_PCI_HDR_LEN + len(chunk) * ctypes.sizeof(clp_fh_list_entry)
        rrb.response.hdr.rsp = CLP_RC_OK
        rrb.response.max_fn = 0xFFFF
        rrb.response.uid_checking = 1 if self.uid_checking else 0
        rrb.response.entry_size = ctypes.sizeof(clp_fh_list_entry)

    def _clp_query(self, block: bytearray) -> None:
        rrb = clp_req_rsp_query_pci.from_buffer(block)
        fn = self._by_fh(rrb.request.fh)
        if fn is None:
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FH
            return
        r = rrb.response
        r.vfn = fn.vfn
        r.util_str_avail = 1 if fn.util_str else 0
        r.pfgid = fn.pfgid
        r.fid = fn.fid
        r.pchid = fn.pchid
        r.pft = fn.pft
        r.sdma = fn.start_dma
        r.edma = fn.end_dma
        r.uid = fn.uid
        if fn.devfn is not None:
            r.rid_avail = 1
            r.rid = fn.devfn
        r.is_physfn = 0
        for i, size in enumerate(fn.function.bar_sizes[:PCI_STD_NUM_BARS]):
            if size:
                r.bar_size[i] = size.bit_length() - 1
                r.bar[i] = 0  # 32-bit, non-prefetchable memory BAR
        util = fn.util_str[:CLP_UTIL_STR_LEN]
        ctypes.memmove(ctypes.addressof(r.util_str), util, len(util))
        r.hdr.rsp = CLP_RC_OK

    def _clp_query_grp(self, block: bytearray) -> None:
        rrb = clp_req_rsp_query_pci_grp.from_buffer(block)
        grp = self.groups.get(rrb.request.pfgid)
        if grp is None:
            rrb.response.hdr.rsp = CLP_RC_QUERYPCIFG_PFGID
            return
        rrb.response.version = grp["version"]
        rrb.response.noi = grp["noi"]
        rrb.response.mui = grp["mui"]
        rrb.response.dasm = 0xFFFFFFFFFFFFFFFF
        rrb.response.msia = 0xFE00000000000000
        rrb.response.hdr.rsp = CLP_RC_OK

    def _clp_set(self, block: bytearray) -> None:
        rrb = clp_req_rsp_set_pci.from_buffer(block)
        fn = self._by_fh(rrb.request.fh)
        oc = rrb.request.oc
        self.trace.append(("set_pci_fn", (rrb.request.fh, oc)))
        if fn is None:
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FH
            return
        if fn.busy > 0:
            fn.busy -= 1
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_BUSY
            return
        if fn.state != CONFIGURED:
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FHOP
            return
        if oc == CLP_SET_ENABLE_PCI_FN:
            if fn.enabled:
                rrb.response.hdr.rsp = CLP_RC_SETPCIFN_ALRDY
                return
            if fn.perm_failed:
                rrb.response.hdr.rsp = CLP_RC_SETPCIFN_ERR
                return
            fn.enabled = True
            fn.generation += 1
        elif oc == CLP_SET_DISABLE_PCI_FN:
            if not fn.enabled:
                rrb.response.hdr.rsp = CLP_RC_SETPCIFN_ALRDY
                return
            fn.enabled = False
            fn.generation += 1
            # disabling resets the function: error state, blocks and DMA registration go
            fn.error = False
            fn.blocked = False
            fn.ioat_registered = False
            # the function model is reset once the response is out (clp()), so that
            # an observer sees the disable before the reset it causes
            self._after_set.append(fn)
        else:
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FHOP
            return
        rrb.response.fh = fn.fh
        rrb.response.hdr.rsp = CLP_RC_OK

    def mpcifc(self, req: int, fib: zpci_fib) -> tuple[int, int]:
        fh = (req >> 32) & 0xFFFFFFFF
        oc = req & 0xFF
        if schedpoint.active is not None:
            fn = self._fn_at(fh)
            resets = oc in (ZPCI_MOD_FC_RESET_ERROR, ZPCI_MOD_FC_RESET_BLOCK)
            self._visible(writes=(fn, _all(fn) if resets else None))
        with self._lock:
            target = self._by_fh(fh)
            cc, status = self._mpcifc(req, fib)
            if oc in (ZPCI_MOD_FC_RESET_ERROR, ZPCI_MOD_FC_RESET_BLOCK):
                fid = target.fid if target is not None else None
                self._notify("mpcifc", fid=fid, fh=fh, oc=oc, cc=cc, status=status)
            return cc, status

    def _mpcifc(self, req: int, fib: zpci_fib) -> tuple[int, int]:
        fh = (req >> 32) & 0xFFFFFFFF
        oc = req & 0xFF
        with self._lock:
            self.trace.append(("mpcifc", (fh, oc)))
            fn = self._by_fh(fh)
            if fn is None:
                return 3, 0
            if not fn.enabled:
                return 1, ZPCI_PCI_ST_FUNC_NOT_ENABLED
            if fn.perm_failed and oc in (ZPCI_MOD_FC_RESET_ERROR, ZPCI_MOD_FC_RESET_BLOCK):
                return 1, ZPCI_PCI_ST_FUNC_IN_ERR
            if oc == ZPCI_MOD_FC_RESET_BLOCK:
                if not fn.blocked:
                    return 1, ZPCI_PCI_ST_ALREADY_IN_RQ_STATE
                fn.blocked = False
                fn.function.set_accessible(True)
                return 0, 0
            if oc == ZPCI_MOD_FC_RESET_ERROR:
                if not fn.error:
                    return 1, ZPCI_PCI_ST_ALREADY_IN_RQ_STATE
                fn.error = False
                fn.blocked = False
                fn.function.set_accessible(True)
                return 0, 0
            if oc == ZPCI_MOD_FC_REG_IOAT:
                fn.ioat_registered = True
                return 0, 0
            if oc == ZPCI_MOD_FC_DEREG_IOAT:
                fn.ioat_registered = False
                return 0, 0
            if oc == ZPCI_MOD_FC_SET_MEASURE:
                return 0, 0
            return 1, ZPCI_PCI_ST_INVAL_AS

    def _ls_check(self, req: int) -> tuple[FirmwareFunction | None, int, int]:
        fh = (req >> 32) & 0xFFFFFFFF
        fn = self._by_fh(fh)
        if fn is None:
            return None, 3, 0
        if not fn.enabled:
            return None, 1, ZPCI_PCI_ST_FUNC_NOT_ENABLED
        if fn.blocked or fn.perm_failed:
            return None, 1, ZPCI_PCI_ST_FUNC_IN_ERR
        space = (req >> 16) & 0xFF
        if space != ZPCI_PCIAS_CFGSPC and not (
            ZPCI_PCIAS_MEMIO_0 <= space < len(fn.function.bar_sizes) and fn.function.bar_sizes[space]
        ):
            return None, 1, ZPCI_PCI_ST_INVAL_AS
        return fn, 0, 0

    def pcilg(self, req: int, offset: int) -> tuple[int, int, int]:
        length = req & 0xFF
        if schedpoint.active is not None and self.visible_load_store:
            fn = self._fn_at(req >> 32)
            self._visible(reads=(fn, _all(fn), *_dwords(fn, offset, length)))
        with self._lock:
            fn, cc, status = self._ls_check(req)
            if fn is None:
                return cc, 0, status
            space = (req >> 16) & 0xFF
            if space == ZPCI_PCIAS_CFGSPC:
                value = fn.function.config_read(offset, length)
            else:
                value = fn.function.mem_read(space - ZPCI_PCIAS_MEMIO_0, offset, length)
        # config data is little-endian; the load puts the bytes, in storage order, into
        # the rightmost bytes of the register
        data = int.from_bytes((value & ((1 << (8 * length)) - 1)).to_bytes(length, "little"), "big")
        return 0, data, 0

    def pcistg(self, data: int, req: int, offset: int) -> tuple[int, int]:
        length = req & 0xFF
        raw = (data & ((1 << (8 * length)) - 1)).to_bytes(length, "big")
        value = int.from_bytes(raw, "little")
        if schedpoint.active is not None and self.visible_load_store:
            fn = self._fn_at(req >> 32)
            self._visible(reads=(fn, _all(fn)), writes=_dwords(fn, offset, length))
        with self._lock:
            fn, cc, status = self._ls_check(req)
            if fn is None:
                return cc, status
            space = (req >> 16) & 0xFF
            if space == ZPCI_PCIAS_CFGSPC:
                fn.function.config_write(offset, length, value)
            else:
                fn.function.mem_write(space - ZPCI_PCIAS_MEMIO_0, offset, length, value)
        return 0, 0

    def sclp_pci_cfg(self, cmdw: int, fid: int) -> int:
        self._visible(writes=(self.functions.get(fid),))
        with self._lock:
            self.trace.append(("sclp", (cmdw, fid)))
            fn = self.functions.get(fid)
            if fn is None:
                return SCLP_RC_REFUSED
            if cmdw == SCLP_CMDW_CONFIGURE_PCI and fn.state == STANDBY:
                fn.state = CONFIGURED
                return SCLP_RC_DONE
            if cmdw == SCLP_CMDW_DECONFIGURE_PCI and fn.state == CONFIGURED:
                fn.enabled = False
                fn.generation += 1
                fn.state = STANDBY
                return SCLP_RC_DONE
            return SCLP_RC_REFUSED

    def sclp_errnotify(self, action: int, atype: int, fh: int, fid: int, data: bytes) -> int:
        self._visible(writes=(self.reports,))
        with self._lock:
            report = SclpReport(action, atype, fh, fid, bytes(data))
            self.reports.append(report)
            self._notify("report", fid=fid, fh=fh, action=action, text=report.text)
            return SCLP_RC_DONE
