"""sim/vmm/zpci.py: the VMM's answers to a guest's zPCI instructions, over a real
host function opened through vfio -- without a guest process."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import pytest

from kernel.s390.include.asm.clp import CLP_BLK_SIZE, CLP_LPS_PCI, CLP_RC_OK
from kernel.s390.include.asm.pci import zpci_ccdf_err
from kernel.s390.include.asm.pci_clp import (
    CLP_LIST_PCI,
    CLP_QUERY_PCI_FN,
    CLP_RC_SETPCIFN_ALRDY,
    CLP_SET_DISABLE_PCI_FN,
    CLP_SET_ENABLE_PCI_FN,
    CLP_SET_PCI_FN,
    clp_req_rsp_list_pci,
    clp_req_rsp_query_pci,
    clp_req_rsp_set_pci,
)
from kernel.s390.include.asm.pci_insn import (
    ZPCI_MOD_FC_RESET_BLOCK,
    ZPCI_MOD_FC_RESET_ERROR,
    ZPCI_PCI_ST_ALREADY_IN_RQ_STATE,
    ZPCI_PCI_ST_BLOCKED,
)
from sim.host import Host
from sim.pci.function import PciFunction
from sim.vmm.vfio import VfioPciDevice
from sim.vmm.zpci import S390PCIBusDevice, S390PciHost, ZpciFsState

FID = 0x10
CFG_LOAD4 = (0xF << 16) | 4  # config space, 4 bytes


@pytest.fixture
def phb() -> Iterator[tuple[Host, S390PciHost, S390PCIBusDevice]]:
    host = Host.boot({FID: PciFunction(0x144D, 0xA808)})
    vfio = VfioPciDevice(host.bind_vfio_pci(FID), None)
    vfio.realize()
    phb = S390PciHost()
    pbdev = phb.add(vfio, FID, 0x77)
    yield host, phb, pbdev
    vfio.close()
    host.shutdown()


def clp(
    phb: S390PciHost, cls: type[ctypes.BigEndianStructure], cmd: int, **req: int
) -> ctypes.BigEndianStructure:
    block = bytearray(CLP_BLK_SIZE)
    rrb = cls.from_buffer(block)
    rrb.request.hdr.cmd = cmd
    for k, v in req.items():
        setattr(rrb.request, k, v)
    rrb.request.hdr.len = ctypes.sizeof(rrb.request)
    del rrb
    cc, out = phb.handle("clp", (bytes(block), CLP_LPS_PCI))
    assert cc == 0
    return cls.from_buffer_copy(out)


def set_pci(phb: S390PciHost, fh: int, oc: int) -> clp_req_rsp_set_pci:
    r = clp(phb, clp_req_rsp_set_pci, cmd=CLP_SET_PCI_FN, fh=fh, oc=oc)
    assert isinstance(r, clp_req_rsp_set_pci)
    return r


def test_list_and_query_show_the_guest_fid_uid_and_the_host_description(
    phb: tuple[Host, S390PciHost, S390PCIBusDevice],
) -> None:
    _host, bridge, _pbdev = phb
    lst = clp(bridge, clp_req_rsp_list_pci, cmd=CLP_LIST_PCI)
    assert isinstance(lst, clp_req_rsp_list_pci)
    assert lst.response.hdr.rsp == CLP_RC_OK
    e = lst.response.fh_list[0]
    assert (e.fid, e.fh, e.vendor_id, e.device_id, e.config_state) == (FID, 1, 0x144D, 0xA808, 1)
    q = clp(bridge, clp_req_rsp_query_pci, cmd=CLP_QUERY_PCI_FN, fh=1)
    assert isinstance(q, clp_req_rsp_query_pci)
    assert (q.response.hdr.rsp, q.response.fid, q.response.uid, q.response.pchid) == (
        CLP_RC_OK,
        FID,
        0x77,
        0x2C,
    )


def test_enable_sets_the_enabled_bit_and_config_loads_read_the_host_function(
    phb: tuple[Host, S390PciHost, S390PCIBusDevice],
) -> None:
    _, bridge, _pbdev = phb
    r = set_pci(bridge, 1, CLP_SET_ENABLE_PCI_FN)
    assert (r.response.hdr.rsp, r.response.fh) == (CLP_RC_OK, 0x80000001)
    assert set_pci(bridge, 0x80000001, CLP_SET_ENABLE_PCI_FN).response.hdr.rsp == CLP_RC_SETPCIFN_ALRDY
    # vendor 0x144d, device 0xa808: little-endian bytes 4d 14 08 a8 fill the register
    assert bridge.handle("pcilg", (0x80000001 << 32 | CFG_LOAD4, 0)) == (0, 0x4D1408A8, 0)
    assert bridge.handle("pcilg", (0x80000002 << 32 | CFG_LOAD4, 0)) == (3, 0, 0)


def test_disabling_a_function_in_error_resets_it_on_the_host(
    phb: tuple[Host, S390PciHost, S390PCIBusDevice],
) -> None:
    host, bridge, pbdev = phb
    set_pci(bridge, 1, CLP_SET_ENABLE_PCI_FN)
    host.fw.inject_error(FID, pec=0x3A)
    host.fw.wait_events_handled()
    pbdev.state = ZpciFsState.ZPCI_FS_ERROR
    assert bridge.handle("pcilg", (0x80000001 << 32 | CFG_LOAD4, 0)) == (1, 0, ZPCI_PCI_ST_BLOCKED)
    r = set_pci(bridge, 0x80000001, CLP_SET_DISABLE_PCI_FN)
    assert (r.response.hdr.rsp, r.response.fh) == (CLP_RC_OK, 1)
    assert pbdev.resets == [0]
    assert pbdev.state == ZpciFsState.ZPCI_FS_DISABLED
    fwfn = host.fw.function(FID)
    assert fwfn.enabled and not fwfn.error
    set_pci(bridge, 1, CLP_SET_ENABLE_PCI_FN)
    assert bridge.handle("pcilg", (0x80000001 << 32 | CFG_LOAD4, 0)) == (0, 0x4D1408A8, 0)


def test_disabling_a_healthy_function_does_not_reset_the_host(
    phb: tuple[Host, S390PciHost, S390PCIBusDevice],
) -> None:
    host, bridge, pbdev = phb
    set_pci(bridge, 1, CLP_SET_ENABLE_PCI_FN)
    resets = list(host.fw.function(FID).function.resets)  # type: ignore[attr-defined]
    set_pci(bridge, 0x80000001, CLP_SET_DISABLE_PCI_FN)
    assert pbdev.resets == []
    assert host.fw.function(FID).function.resets == resets  # type: ignore[attr-defined]


def test_mpcifc_reset_block_and_reset_error_leave_the_error_state_in_steps(
    phb: tuple[Host, S390PciHost, S390PCIBusDevice],
) -> None:
    _, bridge, pbdev = phb
    set_pci(bridge, 1, CLP_SET_ENABLE_PCI_FN)
    req = 0x80000001 << 32
    assert bridge.handle("mpcifc", (req | ZPCI_MOD_FC_RESET_ERROR, b"")) == (
        1,
        ZPCI_PCI_ST_ALREADY_IN_RQ_STATE,
    )
    pbdev.state = ZpciFsState.ZPCI_FS_ERROR
    assert bridge.handle("mpcifc", (req | ZPCI_MOD_FC_RESET_BLOCK, b"")) == (0, 0)
    assert pbdev.state == ZpciFsState.ZPCI_FS_BLOCKED
    assert bridge.handle("mpcifc", (req | ZPCI_MOD_FC_RESET_ERROR, b"")) == (0, 0)
    assert pbdev.state is ZpciFsState.ZPCI_FS_ENABLED  # type: ignore[comparison-overlap]


def test_error_events_are_handed_out_one_by_one_with_the_guest_handle(
    phb: tuple[Host, S390PciHost, S390PCIBusDevice],
) -> None:
    _, bridge, _pbdev = phb
    assert bridge.handle("chsc_sei", ()) is None
    bridge.generate_error_event(0x3A, 0x80000001, FID, faddr=0x1000)
    bridge.generate_error_event(0x3D, 0x80000001, FID)
    nt, cc, ccdf, more = bridge.handle("chsc_sei", ())
    err = zpci_ccdf_err.from_buffer_copy(ccdf)
    assert (nt, cc, more) == (2, 1, True)
    assert (err.pec, err.fh, err.fid, err.faddr) == (0x3A, 0x80000001, FID, 0x1000)
    nt, cc, ccdf, more = bridge.handle("chsc_sei", ())
    assert zpci_ccdf_err.from_buffer_copy(ccdf).pec == 0x3D and not more
    assert bridge.handle("chsc_sei", ()) is None


def test_unknown_instruction_is_a_vmm_error(phb: tuple[Host, S390PciHost, S390PCIBusDevice]) -> None:
    with pytest.raises(ValueError):
        phb[1].handle("stpcifc", ())
