"""drivers/s390/char/sclp_pci.c: PCI I/O adapter configuration and error reports through
the SCLP (Linux 7.1-rc4; not changed by the v17 series).  ``pr_fmt`` is "sclp_cmd: ".

The SCLP request itself (``sclp_sync_request()``; ``sclp_add_request()`` and the
completion for the report) is the call into the installed machine
(:mod:`kernel.s390.machine`), which returns the SCCB response code.  Left out: the
event-type registration (``sclp_register(&sclp_pci_event)`` and the receive-mask
check): the modelled SCLP always accepts error-notification events;
``SCLP_HAS_PCI_RECONFIG`` is true.  With no machine installed the request fails as
an SCLP request that cannot be started does (-EIO).
"""

from __future__ import annotations

import errno
from typing import Final

from kernel.lib.init import static_init
from kernel.lib.mutex import DEFINE_MUTEX, mutex_init, mutex_lock, mutex_unlock
from kernel.lib.printk import pr_warn
from kernel.s390.include.asm.sclp import (
    SCLP_ERRNOTIFY_AQ_INFO_LOG,
    SCLP_ERRNOTIFY_AQ_REPAIR,
    zpci_report_error_header,
)
from kernel.s390.machine import machine

__all__ = [
    "SCLP_ATYPE_PCI",
    "SCLP_CMDW_CONFIGURE_PCI",
    "SCLP_CMDW_DECONFIGURE_PCI",
    "sclp_pci_configure",
    "sclp_pci_deconfigure",
    "sclp_pci_report",
]


def pr_fmt(fmt: str) -> str:
    return "sclp_cmd: " + fmt


SCLP_CMDW_CONFIGURE_PCI: Final = 0x001A0001
SCLP_CMDW_DECONFIGURE_PCI: Final = 0x001B0001

SCLP_ATYPE_PCI: Final = 2

#: PAGE_SIZE - sizeof(struct err_notify_sccb): sccb header 8 + evbuf header 6 + 10
_ERR_NOTIFY_SCCB_SIZE: Final = 8 + 6 + 1 + 1 + 4 + 4
_PAGE_SIZE: Final = 4096

sclp_pci_mutex = DEFINE_MUTEX("sclp_pci_mutex")


@static_init
def sclp_pci_static_init() -> None:
    mutex_init(sclp_pci_mutex)


def do_pci_configure(cmd: int, fid: int) -> int:
    m = machine()
    if m is None:
        return -errno.EIO  # sclp_sync_request() could not start the request
    response_code = m.sclp_pci_cfg(cmd, fid)
    if response_code in (0x0020, 0x0120):
        rc = 0
    else:
        pr_warn("configure PCI I/O adapter failed: cmd=0x%08x  response=0x%04x\n", cmd, response_code)
        rc = -errno.EIO
    return rc


def sclp_pci_configure(fid: int) -> int:
    return do_pci_configure(SCLP_CMDW_CONFIGURE_PCI, fid)


def sclp_pci_deconfigure(fid: int) -> int:
    return do_pci_configure(SCLP_CMDW_DECONFIGURE_PCI, fid)


def sclp_pci_check_report(report: zpci_report_error_header) -> int:
    if report.version != 1:
        return -errno.EINVAL

    if report.action != SCLP_ERRNOTIFY_AQ_REPAIR and report.action != SCLP_ERRNOTIFY_AQ_INFO_LOG:
        return -errno.EINVAL

    if report.length > (_PAGE_SIZE - _ERR_NOTIFY_SCCB_SIZE):
        return -errno.EINVAL

    return 0


def sclp_pci_report(report: zpci_report_error_header, fh: int, fid: int) -> int:
    ret = sclp_pci_check_report(report)
    if ret:
        return ret

    mutex_lock(sclp_pci_mutex)
    try:
        m = machine()
        if m is None:
            return -errno.EIO  # sclp_add_request() fails: no SCLP to talk to
        response_code = m.sclp_errnotify(report.action, SCLP_ATYPE_PCI, fh, fid, report.data[: report.length])
        if response_code != 0x0020:
            pr_warn("request failed with response code 0x%x\n", response_code)
            ret = -errno.EIO
    finally:
        # out_unlock:
        mutex_unlock(sclp_pci_mutex)
    return ret
