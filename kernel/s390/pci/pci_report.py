"""arch/s390/pci/pci_report.c: reporting the outcome of an operation on a zPCI function
to the platform (Linux 7.1-rc4 base; not changed by the v17 series).  ``pr_fmt`` is
"zpci: ".

Source read: Kingxukai/linux @ 0291023e, the version with the three-argument
``zpci_report_status(zdev, operation, status)`` that the base pci_event.c calls (a
later kernel passes the pdev in).  The report text ("report: ...", "status: ...",
"state: ...", "driver: ...", then the ``pci_msg`` debug records) goes to the machine in
an SCLP error-notification event (:func:`kernel.s390.char.sclp_pci.sclp_pci_report`),
where the firmware model records it.

Faithful to that version: the ``pci_get_slot()`` reference taken here is not
dropped (the later version fixed this by taking the pdev from its caller).
Left out: the debug view's timestamp/CPU columns (see :mod:`kernel.s390.kernel.debug`),
protected-virtualisation guests (``prot_virt_guest`` is false).
"""

from __future__ import annotations

import errno
import struct
import time
from typing import Final

from kernel.include.linux.pci import (
    pci_channel_io_frozen,
    pci_channel_io_normal,
    pci_channel_io_perm_failure,
    pci_channel_state_t,
)
from kernel.lib.printk import pr_err, pr_info
from kernel.pci.pci_driver import to_pci_driver
from kernel.pci.search import pci_get_slot
from kernel.s390.char.sclp_pci import sclp_pci_report
from kernel.s390.include.asm.pci import zpci_dev
from kernel.s390.include.asm.pci_debug import pci_debug_msg_id
from kernel.s390.include.asm.sclp import SCLP_ERRNOTIFY_AQ_INFO_LOG, zpci_report_error_header
from kernel.s390.kernel.debug import debug_dump

__all__ = ["ZPCI_ERR_LOG_ID_KERNEL_REPORT", "zpci_report_status"]


def pr_fmt(fmt: str) -> str:
    return "zpci: " + fmt


ZPCI_ERR_LOG_ID_KERNEL_REPORT: Final = 0x4714

#: PAGE_SIZE - sizeof(struct err_notify_sccb) (24 bytes)
ZPCI_REPORT_SIZE: Final = 4096 - 24
#: minus sizeof(struct zpci_report_error_data) (timestamp, err_log_id)
ZPCI_REPORT_DATA_SIZE: Final = ZPCI_REPORT_SIZE - 16


def zpci_state_str(state: pci_channel_state_t) -> str:
    if state == pci_channel_io_normal:
        return "normal"
    if state == pci_channel_io_frozen:
        return "frozen"
    if state == pci_channel_io_perm_failure:
        return "permanent-failure"
    return "invalid"


def zpci_report_status(zdev: zpci_dev | None, operation: str, status: str) -> int:
    """Report the status of an operation (such as recovery) on a PCI function to the
    platform through SCLP Write Event Data: operation, status, the pdev's error state
    and bound driver, and as much of the ``pci_msg`` debug log as fits.  Returns 0 or
    a negative errno."""
    driver = None
    pdev = None

    if zdev is None or zdev.zbus is None:
        return -errno.ENODEV

    # Protected virtualization hosts get nothing from us (prot_virt_guest is false)

    if zdev.zbus.bus is not None:
        pdev = pci_get_slot(zdev.zbus.bus, zdev.devfn)
    if pdev is not None:
        driver = to_pci_driver(pdev.dev.driver)

    buf = ""
    buf += f"report: {operation}\n"
    buf += f"status: {status}\n"
    buf += f"state: {zpci_state_str(pdev.error_state) if pdev is not None else 'n/a'}\n"
    buf += f"driver: {driver.name if driver is not None else 'n/a'}\n"
    buf += debug_dump(pci_debug_msg_id(), ZPCI_REPORT_DATA_SIZE - len(buf))
    log_data = buf.encode()[:ZPCI_REPORT_DATA_SIZE]

    data = struct.pack(">QQ", int(time.time()), ZPCI_ERR_LOG_ID_KERNEL_REPORT) + log_data
    report = zpci_report_error_header(
        version=1,
        action=SCLP_ERRNOTIFY_AQ_INFO_LOG,
        length=len(data),
        data=data,
    )

    ret = sclp_pci_report(report, zdev.fh, zdev.fid)
    if ret:
        pr_err("Reporting PCI status failed with code %d\n", ret)
    else:
        pr_info("Reported PCI device status\n")

    return ret
