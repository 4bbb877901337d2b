"""sim/zpci/firmware.py: the firmware model's own behaviour -- handles, error state,
event bytes, load/store data layout -- checked against the kernel's view of them."""

from __future__ import annotations

import ctypes

import pytest

from kernel.s390.include.asm.clp import CLP_BLK_SIZE, CLP_LPS_PCI, CLP_RC_CMD
from kernel.s390.include.asm.pci_clp import clp_req_rsp_set_pci
from kernel.s390.include.asm.pci_insn import (
    ZPCI_MOD_FC_RESET_BLOCK,
    ZPCI_MOD_FC_RESET_ERROR,
    ZPCI_PCI_ST_ALREADY_IN_RQ_STATE,
    ZPCI_PCI_ST_FUNC_IN_ERR,
    ZPCI_PCI_ST_FUNC_NOT_ENABLED,
    ZPCI_PCI_ST_INVAL_AS,
    zpci_fib,
)
from kernel.s390.include.asm.pci_io import ZPCI_CREATE_REQ
from kernel.s390.pci.pci_event import zpci_ccdf_avail, zpci_ccdf_err
from sim.pci.function import PciFunction
from sim.zpci.firmware import ZpciFirmware, ccdf_avail_bytes, ccdf_err_bytes


@pytest.fixture
def fw() -> ZpciFirmware:
    f = ZpciFirmware()
    f.add_function(0x10, PciFunction(0x1AF4, 0x1041))
    f.function(0x10).enabled = True
    return f


def test_error_ccdf_bytes_decode_as_the_kernel_structure() -> None:
    raw = ccdf_err_bytes(0x80010001, 0x10, 0x3A, ett=5, mvn=0x123, dmaas=7, q=1, rw=1, faddr=0xDEAD)
    c = zpci_ccdf_err.from_buffer_copy(raw)
    assert (c.fh, c.fid, c.ett, c.mvn, c.dmaas, c.q, c.rw, c.faddr, c.pec) == (
        0x80010001,
        0x10,
        5,
        0x123,
        7,
        1,
        1,
        0xDEAD,
        0x3A,
    )
    assert len(raw) == ctypes.sizeof(zpci_ccdf_err) == 32


def test_availability_ccdf_bytes_decode_as_the_kernel_structure() -> None:
    c = zpci_ccdf_avail.from_buffer_copy(ccdf_avail_bytes(0x00020001, 0x22, 0x0301))
    assert (c.fh, c.fid, c.pec) == (0x00020001, 0x22, 0x0301)


def test_handle_has_the_enabled_bit_and_changes_with_each_state_change(fw: ZpciFirmware) -> None:
    f = fw.function(0x10)
    h1 = f.fh
    assert h1 & 0x80000000
    f.enabled = False
    f.generation += 1
    assert not f.fh & 0x80000000 and (f.fh | 0x80000000) != h1


def test_load_delivers_config_bytes_in_storage_order(fw: ZpciFirmware) -> None:
    req = ZPCI_CREATE_REQ(fw.fh(0x10), 15, 4)
    cc, data, status = fw.pcilg(req, 0)
    assert (cc, status) == (0, 0)
    assert data.to_bytes(4, "big") == bytes([0xF4, 0x1A, 0x41, 0x10])  # vendor 1af4, device 1041


def test_store_takes_the_rightmost_register_bytes(fw: ZpciFirmware) -> None:
    req = ZPCI_CREATE_REQ(fw.fh(0x10), 15, 4)
    assert fw.pcistg(int.from_bytes(bytes([1, 2, 3, 4]), "big"), req, 0xC0) == (0, 0)
    assert fw.function(0x10).function.config_read(0xC0, 4) == 0x04030201


def test_load_store_answers_for_bad_handle_disabled_blocked_and_other_space(fw: ZpciFirmware) -> None:
    assert fw.pcilg(ZPCI_CREATE_REQ(0x1234, 15, 4), 0)[0] == 3
    # address space 0 is BAR 0 (memory, off: all ones); BAR 1 does not exist, nor 7
    assert fw.pcilg(ZPCI_CREATE_REQ(fw.fh(0x10), 0, 4), 0) == (0, 0xFFFFFFFF, 0)
    assert fw.pcilg(ZPCI_CREATE_REQ(fw.fh(0x10), 1, 4), 0) == (1, 0, ZPCI_PCI_ST_INVAL_AS)
    assert fw.pcilg(ZPCI_CREATE_REQ(fw.fh(0x10), 7, 4), 0) == (1, 0, ZPCI_PCI_ST_INVAL_AS)
    fw.function(0x10).blocked = True
    assert fw.pcilg(ZPCI_CREATE_REQ(fw.fh(0x10), 15, 4), 0) == (1, 0, ZPCI_PCI_ST_FUNC_IN_ERR)
    f = fw.function(0x10)
    f.enabled = False
    assert fw.pcistg(0, ZPCI_CREATE_REQ(f.fh, 15, 4), 0) == (1, ZPCI_PCI_ST_FUNC_NOT_ENABLED)


def test_error_injection_blocks_until_reset_block_and_reset_error(fw: ZpciFirmware) -> None:
    fw.events.clear()
    fn = fw.function(0x10)
    # no kernel: the channel report finds no kmcheck thread, the event stays queued
    fw.inject_error(0x10, pec=0x3A)
    assert fn.error and fn.blocked and not fn.function.accessible
    assert fw.chsc_sei() == (2, 1, ccdf_err_bytes(fn.fh, 0x10, 0x3A), False)
    assert fw.chsc_sei() is None
    fib = zpci_fib()
    assert fw.mpcifc(ZPCI_CREATE_REQ(fn.fh, 0, ZPCI_MOD_FC_RESET_BLOCK), fib) == (0, 0)
    assert not fn.blocked and fn.error and fn.function.accessible
    assert fw.mpcifc(ZPCI_CREATE_REQ(fn.fh, 0, ZPCI_MOD_FC_RESET_ERROR), fib) == (0, 0)
    assert not fn.error
    assert fw.mpcifc(ZPCI_CREATE_REQ(fn.fh, 0, ZPCI_MOD_FC_RESET_ERROR), fib) == (
        1,
        ZPCI_PCI_ST_ALREADY_IN_RQ_STATE,
    )


def test_fmb_pecs_do_not_change_the_function_state(fw: ZpciFirmware) -> None:
    fw.inject_error(0x10, pec=0x2A)
    f = fw.function(0x10)
    assert not f.error and not f.blocked and f.function.accessible


def test_permanent_failure_pecs_refuse_the_resets(fw: ZpciFirmware) -> None:
    fw.inject_error(0x10, pec=0x40)
    f = fw.function(0x10)
    assert f.perm_failed
    assert fw.mpcifc(ZPCI_CREATE_REQ(f.fh, 0, ZPCI_MOD_FC_RESET_ERROR), zpci_fib()) == (
        1,
        ZPCI_PCI_ST_FUNC_IN_ERR,
    )


def test_unknown_clp_command_is_answered_with_command_not_recognized(fw: ZpciFirmware) -> None:
    block = bytearray(CLP_BLK_SIZE)
    rrb = clp_req_rsp_set_pci.from_buffer(block)
    rrb.request.hdr.cmd = 0x77
    assert fw.clp(block, CLP_LPS_PCI) == 0
    assert rrb.response.hdr.rsp == CLP_RC_CMD


def test_sclp_report_is_recorded(fw: ZpciFirmware) -> None:
    data = (1).to_bytes(8, "big") + (0x4714).to_bytes(8, "big") + b"report: recovery\n"
    assert fw.sclp_errnotify(2, 2, 0x80010001, 0x10, data) == 0x0020
    r = fw.reports[0]
    assert (r.fid, r.err_log_id, r.text) == (0x10, 0x4714, "report: recovery\n")


def test_listeners_see_events_and_the_disable_before_the_reset_it_causes() -> None:
    from kernel.lib.mutex import mutex_lock, mutex_unlock
    from kernel.s390.include.asm.pci_clp import CLP_SET_DISABLE_PCI_FN, CLP_SET_ENABLE_PCI_FN
    from kernel.s390.pci.pci import get_zdev_by_fid, zpci_hot_reset_device
    from kernel.s390.pci.pci_bus import zpci_zdev_put
    from sim.pci.function import PciFunction as _Fn

    fn = _Fn(0x1AF4, 0x1041)
    fw = ZpciFirmware()
    fw.add_function(0x10, fn)
    seen: list[tuple[str, dict[str, object]]] = []
    fw.listeners.append(lambda what, f: seen.append((what, dict(f))))
    fn.reset_listeners.append(lambda _f, kind: seen.append(("reset", {"kind": kind})))
    fw.boot()
    try:
        fw.inject_error(0x10, pec=0x2A)  # FMB only: nothing else happens
        fw.wait_events_handled()
        zdev = get_zdev_by_fid(0x10)
        assert zdev is not None
        mutex_lock(zdev.state_lock)
        zpci_hot_reset_device(zdev)
        mutex_unlock(zdev.state_lock)
        zpci_zdev_put(zdev)
    finally:
        fw.shutdown()
    assert seen == [
        (
            "set_pci_fn",
            {"fid": 0x10, "fh": 0x1, "oc": CLP_SET_ENABLE_PCI_FN, "rsp": 0x10, "new_fh": 0x80010001},
        ),
        ("error", {"fid": 0x10, "fh": 0x80010001, "pec": 0x2A}),
        (
            "set_pci_fn",
            {"fid": 0x10, "fh": 0x80010001, "oc": CLP_SET_DISABLE_PCI_FN, "rsp": 0x10, "new_fh": 0x20001},
        ),
        ("reset", {"kind": "hot"}),
        (
            "set_pci_fn",
            {"fid": 0x10, "fh": 0x20001, "oc": CLP_SET_ENABLE_PCI_FN, "rsp": 0x10, "new_fh": 0x80030001},
        ),
    ]
