"""The VMM's zPCI: the PCI functions the guest sees, and the answers to the
instructions the guest's kernel executes on them -- the part of QEMU that is
hw/s390x/s390-pci-bus.c and s390-pci-inst.c, for functions passed through with
vfio-pci and intercepted (not interpreted) by the VMM.

Each plugged function is an :class:`S390PCIBusDevice` with a guest function id
(``fid``), a user id, and a function handle the VMM makes up (bit 31 "enabled", the
low bits an index), and a state as QEMU keeps it (:class:`ZpciFsState`).  What the
guest asks, :meth:`S390PciHost.handle` answers:

* CLP List PCI / Query PCI Function / Query PCI Function Group: from the VMM's table,
  with the values the host gave through the vfio zPCI capabilities;
* CLP Set PCI Function, enable: ``fh |= enabled``; disable: QEMU's device reset
  (``s390_pci_device_reset()``), which -- QEMU v3 5/5 -- issues ``VFIO_DEVICE_RESET``
  on the host when the function is in the error state; then ``fh &= ~enabled``;
* MPCIFC: Reset Error (error/blocked -> enabled), Reset Block (error -> blocked:
  load/store allowed again), (De)register IOAT and Set Measure are accepted; these do
  not touch the host function, which only a reset recovers;
* PCI load/store of config space: ``pread``/``pwrite`` on the vfio config region;
  cc 1 with status 12 (blocked) while the function is in the error state, cc 1 with
  status 8 when the host read fails;
* SCLP configure/deconfigure (answered as the firmware model does) and error
  notifications (recorded as the guest's report to its platform);
* CHSC Store Event Information: the error events the VMM made for the guest.

:meth:`S390PciHost.generate_error_event` is QEMU's ``s390_pci_generate_error_event()``:
it queues a PCI function error CCDF for the guest; the VMM then raises a channel
report in the guest.

Simplified: no interpretation (zPCI interpretation, AEN forwarding), no MSI/adapter
interrupts, no DMA translation: the VMM accepts IOAT registration and does nothing
with it; one function group per function as the host reports it.
"""

from __future__ import annotations

import ctypes
import enum
import struct
from collections import deque
from typing import Any, Final

import attrs

from kernel.s390.include.asm.clp import CLP_BLK_SIZE, CLP_LPS_PCI, CLP_RC_CMD, CLP_RC_OK, clp_req_hdr
from kernel.s390.include.asm.pci_clp import (
    CLP_FH_LIST_NR_ENTRIES,
    CLP_LIST_PCI,
    CLP_QUERY_PCI_FN,
    CLP_QUERY_PCI_FNGRP,
    CLP_RC_QUERYPCIFG_PFGID,
    CLP_RC_SETPCIFN_ALRDY,
    CLP_RC_SETPCIFN_FH,
    CLP_RC_SETPCIFN_FHOP,
    CLP_SET_DISABLE_PCI_FN,
    CLP_SET_ENABLE_PCI_FN,
    CLP_SET_PCI_FN,
    LIST_PCI_HDR_LEN,
    clp_fh_list_entry,
    clp_req_rsp_list_pci,
    clp_req_rsp_query_pci,
    clp_req_rsp_query_pci_grp,
    clp_req_rsp_set_pci,
)
from kernel.s390.include.asm.pci_insn import (
    ZPCI_MOD_FC_DEREG_IOAT,
    ZPCI_MOD_FC_REG_IOAT,
    ZPCI_MOD_FC_RESET_BLOCK,
    ZPCI_MOD_FC_RESET_ERROR,
    ZPCI_MOD_FC_SET_MEASURE,
    ZPCI_PCI_ST_ALREADY_IN_RQ_STATE,
    ZPCI_PCI_ST_BLOCKED,
    ZPCI_PCI_ST_FUNC_IN_ERR,
    ZPCI_PCI_ST_FUNC_NOT_ENABLED,
    ZPCI_PCI_ST_INVAL_AS,
    ZPCI_PCIAS_CFGSPC,
)
from sim.vmm.vfio import VfioPciDevice, record
from sim.zpci.firmware import (
    SCLP_CMDW_CONFIGURE_PCI,
    SCLP_CMDW_DECONFIGURE_PCI,
    SCLP_RC_DONE,
    SCLP_RC_REFUSED,
    ccdf_err_bytes,
)

__all__ = ["FH_MASK_ENABLE", "S390PCIBusDevice", "S390PciHost", "ZpciFsState"]

FH_MASK_ENABLE: Final = 0x80000000

#: facilities the VMM offers the guest: zPCI (69) and PCI load/store (71)
GUEST_FACILITIES: Final = (69, 71)


class ZpciFsState(enum.IntEnum):
    """QEMU's function states (``ZpciState``)."""

    ZPCI_FS_RESERVED = 0
    ZPCI_FS_STANDBY = 1
    ZPCI_FS_DISABLED = 2
    ZPCI_FS_ENABLED = 3
    ZPCI_FS_BLOCKED = 4
    ZPCI_FS_ERROR = 5
    ZPCI_FS_PERMANENT_ERROR = 6


@attrs.define(eq=False)
class S390PCIBusDevice:
    """One function as the guest sees it, backed by a host function through vfio."""

    vfio: VfioPciDevice
    fid: int
    uid: int
    idx: int
    fh: int = 0
    state: ZpciFsState = ZpciFsState.ZPCI_FS_DISABLED
    vendor_id: int = 0
    device_id: int = 0
    ioat_registered: bool = False
    #: True when the PROBE of VFIO_DEVICE_FEATURE_ZPCI_ERROR succeeded
    err_handler: bool = False
    #: VFIO_DEVICE_RESET results, oldest first
    resets: list[int] = attrs.field(factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.fh & FH_MASK_ENABLE)


class S390PciHost:
    """The VMM's PCI host bridge for an s390x guest: the function table, the pending
    events for the guest, and the intercepts (implements the guest's machine)."""

    def __init__(self) -> None:
        self.devices: list[S390PCIBusDevice] = []
        self.events: deque[tuple[int, int, bytes]] = deque()
        self.reports: list[tuple[int, int, bytes]] = []

    # -- plugging -----------------------------------------------------------------------

    def add(self, vfio: VfioPciDevice, fid: int, uid: int) -> S390PCIBusDevice:
        pbdev = S390PCIBusDevice(vfio=vfio, fid=fid, uid=uid, idx=len(self.devices) + 1)
        pbdev.fh = pbdev.idx
        ident = vfio.config_read(0, 4)
        if ident is not None:
            pbdev.vendor_id, pbdev.device_id = struct.unpack("<HH", ident)
        self.devices.append(pbdev)
        return pbdev

    def by_fh(self, fh: int) -> S390PCIBusDevice | None:
        for pbdev in self.devices:
            if pbdev.fh == fh and pbdev.state not in (
                ZpciFsState.ZPCI_FS_RESERVED,
                ZpciFsState.ZPCI_FS_STANDBY,
            ):
                return pbdev
        return None

    def by_fid(self, fid: int) -> S390PCIBusDevice | None:
        for pbdev in self.devices:
            if pbdev.fid == fid:
                return pbdev
        return None

    # -- events for the guest -------------------------------------------------------------

    def generate_error_event(self, pec: int, fh: int, fid: int, **ccdf: int) -> None:
        """Queue a PCI function error event (content code 1) for the guest."""
        self.events.append((2, 1, ccdf_err_bytes(fh, fid, pec, **ccdf)))
        record(
            "event",
            f"inject error event into the guest: PEC 0x{pec:x} fh 0x{fh:x} fid 0x{fid:x}",
            pec=pec,
            fh=fh,
            fid=fid,
        )

    # -- device reset (QEMU's s390_pci_device_reset with v3 5/5) ---------------------------------

    def device_reset(self, pbdev: S390PCIBusDevice) -> None:
        if pbdev.state == ZpciFsState.ZPCI_FS_ERROR:
            # the guest resets a function in the error state: ask the host to reset it
            record(
                "reset", f"guest resets fid 0x{pbdev.fid:x} in the error state: VFIO_DEVICE_RESET on the host"
            )
            pbdev.resets.append(pbdev.vfio.reset())
        pbdev.ioat_registered = False

    # -- the intercepts ---------------------------------------------------------------------

    def handle(self, op: str, args: tuple[Any, ...]) -> Any:
        """Answer one instruction of the guest (see :mod:`sim.guest.ipc`)."""
        if op == "clp":
            block = bytearray(args[0])
            cc = self.clp(block, int(args[1]))
            return cc, bytes(block)
        if op == "mpcifc":
            return self.mpcifc(int(args[0]))
        if op == "pcilg":
            return self.pcilg(int(args[0]), int(args[1]))
        if op == "pcistg":
            return self.pcistg(int(args[0]), int(args[1]), int(args[2]))
        if op == "sclp_pci_cfg":
            return self.sclp_pci_cfg(int(args[0]), int(args[1]))
        if op == "sclp_errnotify":
            return self.sclp_errnotify(int(args[0]), int(args[1]), int(args[2]), int(args[3]), bytes(args[4]))
        if op == "chsc_sei":
            return self.chsc_sei()
        raise ValueError(f"unknown guest instruction {op!r}")

    def clp(self, block: bytearray, lps: int) -> int:
        if len(block) != CLP_BLK_SIZE or lps != CLP_LPS_PCI:
            return 3
        hdr = clp_req_hdr.from_buffer(block)
        cmd = hdr.cmd
        del hdr
        if cmd == CLP_LIST_PCI:
            self.clp_list(block)
        elif cmd == CLP_QUERY_PCI_FN:
            self.clp_query(block)
        elif cmd == CLP_QUERY_PCI_FNGRP:
            self.clp_query_grp(block)
        elif cmd == CLP_SET_PCI_FN:
            self.clp_set(block)
        else:
            clp_req_rsp_set_pci.from_buffer(block).response.hdr.rsp = CLP_RC_CMD
        return 0

    def clp_list(self, block: bytearray) -> None:
        rrb = clp_req_rsp_list_pci.from_buffer(block)
        start = rrb.request.resume_token
        chunk = self.devices[start : start + CLP_FH_LIST_NR_ENTRIES]
        for i, pbdev in enumerate(chunk):
            e = rrb.response.fh_list[i]
            e.device_id = pbdev.device_id
            e.vendor_id = pbdev.vendor_id
            e.config_state = 0 if pbdev.state == ZpciFsState.ZPCI_FS_STANDBY else 1
            e.fid = pbdev.fid
            e.fh = pbdev.fh
        nxt = start + len(chunk)
        rrb.response.resume_token = nxt if nxt < len(self.devices) else 0
        rrb.response.hdr.len = LIST_PCI_HDR_LEN + len(chunk) * ctypes.sizeof(clp_fh_list_entry)
        rrb.response.hdr.rsp = CLP_RC_OK
        rrb.response.max_fn = 0xFFFF
        rrb.response.uid_checking = 0
        rrb.response.entry_size = ctypes.sizeof(clp_fh_list_entry)

    def clp_query(self, block: bytearray) -> None:
        rrb = clp_req_rsp_query_pci.from_buffer(block)
        pbdev = self.by_fh(rrb.request.fh)
        if pbdev is None:
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FH
            return
        r = rrb.response
        base = pbdev.vfio.zpci_base
        r.fid = pbdev.fid
        r.uid = pbdev.uid
        if base is not None:
            r.vfn = base.vfn
            r.pfgid = base.gid
            r.pchid = base.pchid
            r.pft = base.pft
            r.sdma = base.start_dma
            r.edma = base.end_dma
            r.fmb_len = base.fmb_length
        else:
            r.pfgid = 1
            r.sdma = 0x100000000
            r.edma = 0x1FFFFFFFF
        r.hdr.rsp = CLP_RC_OK

    def clp_query_grp(self, block: bytearray) -> None:
        rrb = clp_req_rsp_query_pci_grp.from_buffer(block)
        want = rrb.request.pfgid
        for pbdev in self.devices:
            base, grp = pbdev.vfio.zpci_base, pbdev.vfio.zpci_group
            gid = base.gid if base is not None else 1
            if gid != want:
                continue
            r = rrb.response
            if grp is not None:
                r.version = grp.version
                r.noi = grp.noi
                r.mui = grp.mui
                r.dasm = grp.dasm
                r.msia = grp.msi_addr
            else:
                r.version = 1
                r.noi = 64
                r.mui = 4000
                r.dasm = 0xFFFFFFFFFFFFFFFF
                r.msia = 0xFE00000000000000
            r.hdr.rsp = CLP_RC_OK
            return
        rrb.response.hdr.rsp = CLP_RC_QUERYPCIFG_PFGID

    def clp_set(self, block: bytearray) -> None:
        rrb = clp_req_rsp_set_pci.from_buffer(block)
        fh = rrb.request.fh
        oc = rrb.request.oc
        pbdev = self.by_fh(fh)
        if pbdev is None:
            record("clp", f"guest CLP SET PCI FN fh 0x{fh:x} oc {oc}: no such function")
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FH
            return
        if oc == CLP_SET_ENABLE_PCI_FN:
            if pbdev.enabled:
                rrb.response.hdr.rsp = CLP_RC_SETPCIFN_ALRDY
                return
            pbdev.fh |= FH_MASK_ENABLE
            pbdev.state = ZpciFsState.ZPCI_FS_ENABLED
            record(
                "clp", f"guest CLP enable fid 0x{pbdev.fid:x}: fh 0x{pbdev.fh:x}", fid=pbdev.fid, fh=pbdev.fh
            )
        elif oc == CLP_SET_DISABLE_PCI_FN:
            if not pbdev.enabled:
                rrb.response.hdr.rsp = CLP_RC_SETPCIFN_ALRDY
                return
            record("clp", f"guest CLP disable fid 0x{pbdev.fid:x} ({pbdev.state.name})", fid=pbdev.fid)
            self.device_reset(pbdev)
            pbdev.fh &= ~FH_MASK_ENABLE
            pbdev.state = ZpciFsState.ZPCI_FS_DISABLED
        else:
            rrb.response.hdr.rsp = CLP_RC_SETPCIFN_FHOP
            return
        rrb.response.fh = pbdev.fh
        rrb.response.hdr.rsp = CLP_RC_OK

    def mpcifc(self, req: int) -> tuple[int, int]:
        fh = (req >> 32) & 0xFFFFFFFF
        oc = req & 0xFF
        pbdev = self.by_fh(fh)
        if pbdev is None:
            return 3, 0
        if not pbdev.enabled:
            return 1, ZPCI_PCI_ST_FUNC_NOT_ENABLED
        if oc == ZPCI_MOD_FC_RESET_ERROR:
            if pbdev.state not in (ZpciFsState.ZPCI_FS_ERROR, ZpciFsState.ZPCI_FS_BLOCKED):
                return 1, ZPCI_PCI_ST_ALREADY_IN_RQ_STATE
            pbdev.state = ZpciFsState.ZPCI_FS_ENABLED
            return 0, 0
        if oc == ZPCI_MOD_FC_RESET_BLOCK:
            if pbdev.state != ZpciFsState.ZPCI_FS_ERROR:
                return 1, ZPCI_PCI_ST_ALREADY_IN_RQ_STATE
            pbdev.state = ZpciFsState.ZPCI_FS_BLOCKED
            return 0, 0
        if oc == ZPCI_MOD_FC_REG_IOAT:
            pbdev.ioat_registered = True
            return 0, 0
        if oc == ZPCI_MOD_FC_DEREG_IOAT:
            pbdev.ioat_registered = False
            return 0, 0
        if oc == ZPCI_MOD_FC_SET_MEASURE:
            return 0, 0
        return 1, ZPCI_PCI_ST_INVAL_AS

    def _ls_check(self, req: int) -> tuple[S390PCIBusDevice | None, int, int]:
        pbdev = self.by_fh((req >> 32) & 0xFFFFFFFF)
        if pbdev is None:
            return None, 3, 0
        if not pbdev.enabled:
            return None, 1, ZPCI_PCI_ST_FUNC_NOT_ENABLED
        if pbdev.state in (ZpciFsState.ZPCI_FS_ERROR, ZpciFsState.ZPCI_FS_PERMANENT_ERROR):
            return None, 1, ZPCI_PCI_ST_BLOCKED
        if (req >> 16) & 0xFF != ZPCI_PCIAS_CFGSPC:
            return None, 1, ZPCI_PCI_ST_INVAL_AS
        return pbdev, 0, 0

    def pcilg(self, req: int, offset: int) -> tuple[int, int, int]:
        length = req & 0xFF
        pbdev, cc, status = self._ls_check(req)
        if pbdev is None:
            return cc, 0, status
        raw = pbdev.vfio.config_read(offset, length)
        if raw is None:
            return 1, 0, ZPCI_PCI_ST_FUNC_IN_ERR
        # the bytes, in storage (little-endian PCI) order, fill the register's right end
        return 0, int.from_bytes(raw, "big"), 0

    def pcistg(self, data: int, req: int, offset: int) -> tuple[int, int]:
        length = req & 0xFF
        pbdev, cc, status = self._ls_check(req)
        if pbdev is None:
            return cc, status
        raw = (data & ((1 << (8 * length)) - 1)).to_bytes(length, "big")
        if not pbdev.vfio.config_write(offset, raw):
            return 1, ZPCI_PCI_ST_FUNC_IN_ERR
        return 0, 0

    def sclp_pci_cfg(self, cmdw: int, fid: int) -> int:
        pbdev = self.by_fid(fid)
        if pbdev is None:
            return SCLP_RC_REFUSED
        if cmdw == SCLP_CMDW_CONFIGURE_PCI and pbdev.state == ZpciFsState.ZPCI_FS_STANDBY:
            pbdev.state = ZpciFsState.ZPCI_FS_DISABLED
            return SCLP_RC_DONE
        if cmdw == SCLP_CMDW_DECONFIGURE_PCI and pbdev.state != ZpciFsState.ZPCI_FS_STANDBY:
            if pbdev.enabled:
                self.device_reset(pbdev)
                pbdev.fh &= ~FH_MASK_ENABLE
            pbdev.state = ZpciFsState.ZPCI_FS_STANDBY
            return SCLP_RC_DONE
        return SCLP_RC_REFUSED

    def sclp_errnotify(self, action: int, atype: int, fh: int, fid: int, data: bytes) -> int:
        self.reports.append((fid, action, bytes(data)))
        text = data[16:].decode(errors="replace").splitlines()
        summary = ", ".join(line for line in text[:2])
        record("note", f"guest reports to its platform for fid 0x{fid:x}: {summary}", fid=fid)
        return SCLP_RC_DONE

    def chsc_sei(self) -> tuple[int, int, bytes, bool] | None:
        if not self.events:
            return None
        nt, cc, ccdf = self.events.popleft()
        return nt, cc, ccdf, bool(self.events)
