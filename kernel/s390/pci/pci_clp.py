"""arch/s390/pci/pci_clp.c: the Call Logical Processor commands for PCI functions
(Linux 7.1-rc4 base; not changed by the v17 series).

Source read: Kingxukai/linux @ 9b44fff6 (a 6.16-era copy with ``clp_refresh_fh``,
``clp_find_pci`` and ``clp_query_pci_fn(zdev)``); see
:mod:`kernel.s390.include.asm.pci_clp` for the block layouts.  ``pr_fmt`` is
"zpci: " (``KMSG_COMPONENT``), although nothing here prints.

The CLP instruction (``clp_req``) is the call into the installed machine; a block is a
4 KiB ``bytearray`` (``clp_alloc_block``) on which the C structure is laid with
``from_buffer``, so the machine's answer is read from the same bytes.  C's
out-parameters become return values: ``clp_enable_fh(zdev, nr_dma_as)`` leaves the
handle's value out: it returns (rc, new fh); ``clp_refresh_fh(fid) -> (rc, fh)``,
``clp_get_state(fid) -> (rc, state)``.

Left out: ``clp_get_ilp``, ``clp_setup_writeback_mio`` (no MIO), and the ``/dev/clp``
misc device with its ioctl (userspace CLP is not modelled).
"""

from __future__ import annotations

import ctypes
import errno
import struct
import time
from collections.abc import Callable
from typing import Any

from kernel.lib.bug import WARN_ON_ONCE
from kernel.lib.errno import IS_ERR
from kernel.lib.init import static_init
from kernel.s390.include.asm.clp import CLP_BLK_SIZE, CLP_LPS_PCI, CLP_RC_OK
from kernel.s390.include.asm.pci import (
    PCI_SPEED_UNKNOWN,
    PCIE_SPEED_5_0GT,
    zdev_enabled,
    zpci_dev,
    zpci_state,
    zpci_use_mio,
)
from kernel.s390.include.asm.pci_clp import (
    CLP_LIST_PCI,
    CLP_QUERY_PCI_FN,
    CLP_QUERY_PCI_FNGRP,
    CLP_RC_SETPCIFN_BUSY,
    CLP_SET_DISABLE_PCI_FN,
    CLP_SET_ENABLE_MIO,
    CLP_SET_ENABLE_PCI_FN,
    CLP_SET_PCI_FN,
    LIST_PCI_HDR_LEN,
    PCI_STD_NUM_BARS,
    clp_fh_list_entry,
    clp_req_rsp_list_pci,
    clp_req_rsp_query_pci,
    clp_req_rsp_query_pci_grp,
    clp_req_rsp_set_pci,
    clp_rsp_query_pci,
    clp_rsp_query_pci_grp,
)
from kernel.s390.include.asm.pci_debug import zpci_dbg, zpci_err, zpci_err_hex
from kernel.s390.machine import machine

__all__ = [
    "clp_disable_fh",
    "clp_enable_fh",
    "clp_get_state",
    "clp_query_pci_fn",
    "clp_refresh_fh",
    "clp_scan_pci_devices",
    "le32_to_cpu",
    "update_uid_checking",
    "zpci_unique_uid",
]


def pr_fmt(fmt: str) -> str:
    return "zpci: " + fmt


#: ``bool zpci_unique_uid``: firmware enforces unique UIDs (from List PCI).
zpci_unique_uid = False


@static_init
def pci_clp_static_init() -> None:
    global zpci_unique_uid
    zpci_unique_uid = False


def update_uid_checking(new: bool) -> None:
    global zpci_unique_uid
    if zpci_unique_uid != new:
        zpci_dbg(3, "uid checking:%d\n", int(new))

    zpci_unique_uid = new


def zpci_err_clp(rsp: int, rc: int) -> None:
    # packed { unsigned int rsp; int rc; }
    zpci_err_hex(struct.pack(">Ii", rsp, rc))


def le32_to_cpu(v: int) -> int:
    """s390x is big-endian: a little-endian word is byte-swapped.  Exists only in Python
    (include/linux/byteorder)."""
    return int.from_bytes(v.to_bytes(4, "big"), "little")


def clp_req(data: bytearray, lps: int) -> int:
    """Call Logical Processor with c=0, the given constant lps and an lpcb request.
    Returns the condition code; 3 when the instruction raised an exception (no machine)."""
    m = machine()
    if m is None:
        return 3
    return m.clp(data, lps)


def clp_alloc_block() -> bytearray:
    return bytearray(CLP_BLK_SIZE)


def clp_free_block(ptr: bytearray) -> None:
    """Nothing to do: the block is garbage collected.  Kept so the calls read as in C."""


def clp_store_query_pci_fngrp(zdev: zpci_dev, response: clp_rsp_query_pci_grp) -> None:
    zdev.tlb_refresh = response.refresh
    zdev.dma_mask = response.dasm
    zdev.msi_addr = response.msia
    zdev.max_msi = response.noi
    zdev.fmb_update = response.mui
    zdev.version = response.version

    if response.version == 1:
        zdev.max_bus_speed = PCIE_SPEED_5_0GT
    else:
        zdev.max_bus_speed = PCI_SPEED_UNKNOWN


def clp_query_pci_fngrp(zdev: zpci_dev, pfgid: int) -> int:
    block = clp_alloc_block()
    rrb = clp_req_rsp_query_pci_grp.from_buffer(block)
    ctypes.memset(ctypes.addressof(rrb), 0, ctypes.sizeof(rrb))
    rrb.request.hdr.len = ctypes.sizeof(rrb.request)
    rrb.request.hdr.cmd = CLP_QUERY_PCI_FNGRP
    rrb.response.hdr.len = ctypes.sizeof(rrb.response)
    rrb.request.pfgid = pfgid

    rc = clp_req(block, CLP_LPS_PCI)
    if not rc and rrb.response.hdr.rsp == CLP_RC_OK:
        clp_store_query_pci_fngrp(zdev, rrb.response)
    else:
        zpci_err("Q PCI FGRP:\n")
        zpci_err_clp(rrb.response.hdr.rsp, rc)
        rc = -errno.EIO
    del rrb
    clp_free_block(block)
    return rc


def clp_store_query_pci_fn(zdev: zpci_dev, response: clp_rsp_query_pci) -> int:
    for i in range(PCI_STD_NUM_BARS):
        zdev.bars[i].val = le32_to_cpu(response.bar[i])
        zdev.bars[i].size = response.bar_size[i]
    zdev.start_dma = response.sdma
    zdev.end_dma = response.edma
    zdev.pchid = response.pchid
    zdev.pfgid = response.pfgid
    zdev.pft = response.pft
    zdev.vfn = response.vfn
    zdev.port = response.port
    zdev.fidparm = response.fidparm
    zdev.uid = response.uid
    zdev.fmb_length = 4 * response.fmb_len
    zdev.is_physfn = response.is_physfn
    zdev.rid_available = response.rid_avail
    if zdev.rid_available:
        zdev.rid = response.rid
    zdev.tid_avail = response.tid_avail
    if zdev.tid_avail:
        zdev.tid = response.tid

    zdev.pfip = bytes(response.pfip)
    if response.util_str_avail:
        zdev.util_str = bytes(response.util_str)
        zdev.util_str_avail = 1
    zdev.mio_capable = bool(response.mio_addr_avail)
    for i in range(PCI_STD_NUM_BARS):
        if not (response.mio.valid & (1 << (PCI_STD_NUM_BARS - i - 1))):
            continue

        zdev.bars[i].mio_wb = response.mio.addr[i].wb
        zdev.bars[i].mio_wt = response.mio.addr[i].wt
    return 0


def clp_query_pci_fn(zdev: zpci_dev) -> int:
    block = clp_alloc_block()
    rrb = clp_req_rsp_query_pci.from_buffer(block)
    ctypes.memset(ctypes.addressof(rrb), 0, ctypes.sizeof(rrb))
    rrb.request.hdr.len = ctypes.sizeof(rrb.request)
    rrb.request.hdr.cmd = CLP_QUERY_PCI_FN
    rrb.response.hdr.len = ctypes.sizeof(rrb.response)
    rrb.request.fh = zdev.fh

    rc = clp_req(block, CLP_LPS_PCI)
    if not rc and rrb.response.hdr.rsp == CLP_RC_OK:
        rc = clp_store_query_pci_fn(zdev, rrb.response)
        if not rc:
            rc = clp_query_pci_fngrp(zdev, rrb.response.pfgid)
    else:
        zpci_err("Q PCI FN:\n")
        zpci_err_clp(rrb.response.hdr.rsp, rc)
        rc = -errno.EIO
    # out:
    del rrb
    clp_free_block(block)
    return rc


def clp_set_pci_fn(zdev: zpci_dev, nr_dma_as: int, command: int) -> tuple[int, int]:
    """Execute a command on a PCI function.  Returns (rc, fh): rc 0 on success, < 0 for
    Linux errors, > 0 for the platform's response code; fh the new handle (0 on error)."""
    retries = 100
    gisa = 0

    fh = 0
    block = clp_alloc_block()
    rrb = clp_req_rsp_set_pci.from_buffer(block)

    if command != CLP_SET_DISABLE_PCI_FN:
        gisa = zdev.gisa

    while True:
        ctypes.memset(ctypes.addressof(rrb), 0, ctypes.sizeof(rrb))
        rrb.request.hdr.len = ctypes.sizeof(rrb.request)
        rrb.request.hdr.cmd = CLP_SET_PCI_FN
        rrb.response.hdr.len = ctypes.sizeof(rrb.response)
        rrb.request.fh = zdev.fh
        rrb.request.oc = command
        rrb.request.ndas = nr_dma_as
        rrb.request.gisa = gisa

        rc = clp_req(block, CLP_LPS_PCI)
        if rrb.response.hdr.rsp == CLP_RC_SETPCIFN_BUSY:
            retries -= 1
            if retries < 0:
                break
            time.sleep(0.020)  # msleep(20)
        if rrb.response.hdr.rsp != CLP_RC_SETPCIFN_BUSY:
            break

    if not rc and rrb.response.hdr.rsp == CLP_RC_OK:
        fh = rrb.response.fh
    else:
        zpci_err("Set PCI FN:\n")
        zpci_err_clp(rrb.response.hdr.rsp, rc)
        if not rc:
            rc = rrb.response.hdr.rsp
    del rrb
    clp_free_block(block)
    return rc, fh


def clp_enable_fh(zdev: zpci_dev, nr_dma_as: int) -> tuple[int, int]:
    """``int clp_enable_fh(struct zpci_dev *zdev, u32 *fh, u8 nr_dma_as)`` -> (rc, fh)."""
    rc, fh = clp_set_pci_fn(zdev, nr_dma_as, CLP_SET_ENABLE_PCI_FN)
    zpci_dbg(3, "ena fid:%x, fh:%x, rc:%d\n", zdev.fid, fh, rc)
    if not rc and zpci_use_mio(zdev):
        rc, fh = clp_set_pci_fn(zdev, nr_dma_as, CLP_SET_ENABLE_MIO)
        zpci_dbg(3, "ena mio fid:%x, fh:%x, rc:%d\n", zdev.fid, fh, rc)
        if rc:
            _, fh = clp_disable_fh(zdev)
    return rc, fh


def clp_disable_fh(zdev: zpci_dev) -> tuple[int, int]:
    """``int clp_disable_fh(struct zpci_dev *zdev, u32 *fh)`` -> (rc, fh).  When the
    function is not enabled nothing is done and ``*fh`` is left alone: the handle
    returned is then the zdev's."""
    if not zdev_enabled(zdev):
        return 0, zdev.fh

    rc, fh = clp_set_pci_fn(zdev, 0, CLP_SET_DISABLE_PCI_FN)
    zpci_dbg(3, "dis fid:%x, fh:%x, rc:%d\n", zdev.fid, fh, rc)
    return rc, fh


def clp_list_pci_req(block: bytearray, resume_token: int) -> tuple[int, int, int]:
    """-> (rc, resume_token, nentries)"""
    rrb = clp_req_rsp_list_pci.from_buffer(block)
    ctypes.memset(ctypes.addressof(rrb), 0, ctypes.sizeof(rrb))
    rrb.request.hdr.len = ctypes.sizeof(rrb.request)
    rrb.request.hdr.cmd = CLP_LIST_PCI
    # store as many entries as possible
    rrb.response.hdr.len = CLP_BLK_SIZE - LIST_PCI_HDR_LEN
    rrb.request.resume_token = resume_token

    # Get PCI function handle list
    rc = clp_req(block, CLP_LPS_PCI)
    if rc or rrb.response.hdr.rsp != CLP_RC_OK:
        zpci_err("List PCI FN:\n")
        zpci_err_clp(rrb.response.hdr.rsp, rc)
        return -errno.EIO, resume_token, 0

    update_uid_checking(bool(rrb.response.uid_checking))
    WARN_ON_ONCE(rrb.response.entry_size != ctypes.sizeof(clp_fh_list_entry))

    if not rrb.response.entry_size:
        return -errno.EIO, resume_token, 0  # the C would divide by zero here
    nentries = (rrb.response.hdr.len - LIST_PCI_HDR_LEN) // rrb.response.entry_size
    return rc, rrb.response.resume_token, nentries


def clp_list_pci(block: bytearray, data: Any, cb: Callable[[clp_fh_list_entry, Any], None]) -> int:
    resume_token = 0

    while True:
        rc, resume_token, nentries = clp_list_pci_req(block, resume_token)
        if rc:
            return rc
        rrb = clp_req_rsp_list_pci.from_buffer(block)
        for i in range(nentries):
            cb(clp_fh_list_entry.from_buffer_copy(rrb.response.fh_list[i]), data)
        if not resume_token:
            break

    return rc


def clp_find_pci(block: bytearray, fid: int) -> tuple[int, clp_fh_list_entry | None]:
    resume_token = 0

    while True:
        rc, resume_token, nentries = clp_list_pci_req(block, resume_token)
        if rc:
            return rc, None
        fh_list = clp_req_rsp_list_pci.from_buffer(block).response.fh_list
        for i in range(nentries):
            if fh_list[i].fid == fid:
                return 0, clp_fh_list_entry.from_buffer_copy(fh_list[i])
        if not resume_token:
            break

    return -errno.ENODEV, None


def __clp_add(entry: clp_fh_list_entry, data: Any) -> None:
    # imported here: pci.c includes pci_clp.h, not the other way round
    from kernel.s390.pci.pci import get_zdev_by_fid, zpci_create_device
    from kernel.s390.pci.pci_bus import zpci_zdev_put

    scan_list: list[zpci_dev] = data

    if not entry.vendor_id:
        return

    zdev = get_zdev_by_fid(entry.fid)
    if zdev is not None:
        zpci_zdev_put(zdev)
        return
    new = zpci_create_device(entry.fid, entry.fh, zpci_state(entry.config_state))
    if IS_ERR(new):
        return
    assert isinstance(new, zpci_dev)
    scan_list.append(new)


def clp_scan_pci_devices(scan_list: list[zpci_dev]) -> int:
    block = clp_alloc_block()

    rc = clp_list_pci(block, scan_list, __clp_add)

    clp_free_block(block)
    return rc


def clp_refresh_fh(fid: int) -> tuple[int, int]:
    """Get the current function handle of the function matching @fid: (rc, fh); fh is
    0 when rc is not 0 (the C leaves ``*fh`` untouched, and its callers start from 0)."""
    block = clp_alloc_block()

    rc, entry = clp_find_pci(block, fid)
    fh = entry.fh if not rc and entry is not None else 0

    clp_free_block(block)
    return rc, fh


def clp_get_state(fid: int) -> tuple[int, zpci_state]:
    """(rc, state); a fid the platform does not list is reserved."""
    state = zpci_state.ZPCI_FN_STATE_RESERVED
    block = clp_alloc_block()

    rc, entry = clp_find_pci(block, fid)
    if not rc and entry is not None:
        state = zpci_state(entry.config_state)
    elif rc == -errno.ENODEV:
        state = zpci_state.ZPCI_FN_STATE_RESERVED
        rc = 0

    clp_free_block(block)
    return rc, state
