"""kernel/s390/pci/pci_clp.py against the firmware model: the CLP commands and the
condition/response codes the kernel turns into its return values."""

from __future__ import annotations

import errno
from collections.abc import Iterator

import pytest

from kernel.s390.include.asm.pci import (
    PCIE_SPEED_5_0GT,
    ZPCI_FN_STATE_CONFIGURED,
    ZPCI_FN_STATE_RESERVED,
    ZPCI_FN_STATE_STANDBY,
    zdev_enabled,
    zpci_dev,
)
from kernel.s390.include.asm.pci_clp import CLP_RC_SETPCIFN_ALRDY, CLP_RC_SETPCIFN_FH
from kernel.s390.machine import machine_install, machine_remove
from kernel.s390.pci import pci_clp
from kernel.s390.pci.pci_clp import (
    clp_disable_fh,
    clp_enable_fh,
    clp_get_state,
    clp_query_pci_fn,
    clp_refresh_fh,
)
from sim.pci.function import PciFunction
from sim.zpci.firmware import STANDBY, ZpciFirmware


@pytest.fixture
def fw() -> Iterator[ZpciFirmware]:
    f = ZpciFirmware()
    f.add_function(0x10, PciFunction(0x1014, 0x04ED), pchid=0x2C, uid=0x1234, util_str=b"ISM")
    f.add_function(0x20, PciFunction(0x15B3, 0x1016), state=STANDBY)
    machine_install(f)
    yield f
    machine_remove()


def new_zdev(fw: ZpciFirmware, fid: int) -> zpci_dev:
    zdev = zpci_dev()
    zdev.fid = fid
    zdev.fh = fw.fh(fid)
    return zdev


def test_query_pci_fn_stores_the_function_properties(fw: ZpciFirmware) -> None:
    zdev = new_zdev(fw, 0x10)
    assert clp_query_pci_fn(zdev) == 0
    assert (zdev.pchid, zdev.uid, zdev.pfgid, zdev.util_str_avail) == (0x2C, 0x1234, 1, 1)
    assert zdev.util_str.rstrip(b"\0") == b"ISM"
    assert zdev.max_bus_speed == PCIE_SPEED_5_0GT  # function group version 1
    assert zdev.start_dma == 0x100000000 and zdev.end_dma == 0x1FFFFFFFF


def test_query_pci_fn_with_an_unknown_handle_is_eio(fw: ZpciFirmware) -> None:
    zdev = zpci_dev()
    zdev.fh = 0x12345
    assert clp_query_pci_fn(zdev) == -errno.EIO


def test_query_pci_fn_without_a_machine_is_eio() -> None:
    zdev = zpci_dev()
    assert clp_query_pci_fn(zdev) == -errno.EIO  # the CLP instruction takes the exception path


def test_enable_returns_an_enabled_handle_and_disable_a_disabled_one(fw: ZpciFirmware) -> None:
    zdev = new_zdev(fw, 0x10)
    rc, fh = clp_enable_fh(zdev, 1)
    assert rc == 0 and fh & 0x80000000 and fh == fw.fh(0x10)
    zdev.fh = fh
    assert zdev_enabled(zdev)
    rc, fh2 = clp_disable_fh(zdev)
    assert rc == 0 and not fh2 & 0x80000000 and fh2 == fw.fh(0x10)


def test_enabling_an_enabled_function_answers_already_in_state(fw: ZpciFirmware) -> None:
    zdev = new_zdev(fw, 0x10)
    _, zdev.fh = clp_enable_fh(zdev, 1)
    assert clp_enable_fh(zdev, 1) == (CLP_RC_SETPCIFN_ALRDY, 0)


def test_disable_of_a_disabled_function_does_nothing(fw: ZpciFirmware) -> None:
    zdev = new_zdev(fw, 0x10)
    assert clp_disable_fh(zdev) == (0, zdev.fh)
    assert ("set_pci_fn", (zdev.fh, 1)) not in fw.trace


def test_set_pci_fn_with_a_stale_handle_answers_invalid_handle(fw: ZpciFirmware) -> None:
    zdev = new_zdev(fw, 0x10)
    stale = zdev.fh
    assert clp_enable_fh(zdev, 1)[0] == 0
    zdev.fh = stale
    assert clp_enable_fh(zdev, 1) == (CLP_RC_SETPCIFN_FH, 0)


def test_set_pci_fn_retries_while_busy(fw: ZpciFirmware) -> None:
    fw.set_busy(0x10, 2)
    zdev = new_zdev(fw, 0x10)
    rc, fh = clp_enable_fh(zdev, 1)
    assert rc == 0 and fh & 0x80000000
    assert sum(1 for name, _ in fw.trace if name == "set_pci_fn") == 3


def test_refresh_fh_reads_the_current_handle_from_list_pci(fw: ZpciFirmware) -> None:
    assert clp_refresh_fh(0x20) == (0, fw.fh(0x20))
    assert clp_refresh_fh(0x99) == (-errno.ENODEV, 0)


def test_get_state_reports_configured_standby_and_unlisted_as_reserved(fw: ZpciFirmware) -> None:
    assert clp_get_state(0x10) == (0, ZPCI_FN_STATE_CONFIGURED)
    assert clp_get_state(0x20) == (0, ZPCI_FN_STATE_STANDBY)
    assert clp_get_state(0x99) == (0, ZPCI_FN_STATE_RESERVED)


def test_list_pci_takes_over_the_uid_checking_flag(fw: ZpciFirmware) -> None:
    fw.uid_checking = True
    clp_refresh_fh(0x10)
    assert pci_clp.zpci_unique_uid is True


def test_list_pci_pages_with_the_resume_token() -> None:
    f = ZpciFirmware()
    for fid in range(300):  # more than one 4 KiB block holds (252 entries)
        f.add_function(0x1000 + fid, PciFunction(0x1AF4, 0x1000))
    machine_install(f)
    try:
        assert clp_refresh_fh(0x1000 + 299) == (0, f.fh(0x1000 + 299))
        assert sum(1 for name, a in f.trace if name == "clp" and a == (2,)) == 2
    finally:
        machine_remove()
