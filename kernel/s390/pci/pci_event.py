"""arch/s390/pci/pci_event.c: zPCI error and availability events (Linux 7.1-rc4 with
the v17 series).

Exact base, equal to the pre-image of v17 4/7 (blob 839bd91c056e): legoater/linux @
25f192f99a70, arch/s390/pci/pci_event.c, with that tree's older series reverted.  ``pr_fmt`` is
"zpci: ".

v17 4/7 changes this file: it moves ``struct zpci_ccdf_err`` to asm/pci.h (naming the
6-bit field ``reserved2``), removes ``is_passed_through()`` (which asked whether a KVM
guest owned the function) and the pass-through early exits, adds
``zpci_store_pci_error``/``zpci_start_mediated_recovery``/
``zpci_stop_mediated_recovery`` and passes the ccdf to the recovery and io-failure
paths.  Whether userspace recovers the function (vfio-pci has it open) is now decided
once per event, from the result of storing the error record.  v17 5/7 adds
``zpci_get_pending_error``, through which vfio-pci hands the records to userspace.

The CCDFs come from firmware: ``zpci_event_error(data)``/``zpci_event_availability(data)``
take the bytes of the SEI area's content-code-dependent field, as the C takes a
pointer to it, and lay the big-endian packed structure over them.  They run on the
kernel's ``kmcheck`` thread (:mod:`kernel.s390.cio.chsc`).

Debug-feature calls go to the ``pci_msg``/``pci_error`` rings of
:mod:`kernel.s390.include.asm.pci_debug`.
"""

from __future__ import annotations

import ctypes
import errno

from kernel.include.linux.pci import (
    PCI_ERS_RESULT_CAN_RECOVER,
    PCI_ERS_RESULT_DISCONNECT,
    PCI_ERS_RESULT_NEED_RESET,
    PCI_ERS_RESULT_NONE,
    PCI_ERS_RESULT_RECOVERED,
    pci_channel_io_frozen,
    pci_channel_io_normal,
    pci_channel_io_perm_failure,
    pci_channel_state_t,
    pci_dev,
    pci_driver,
    pci_ers_result_t,
    pci_name,
)
from kernel.lib.cleanup import guard
from kernel.lib.context_analysis import context_unsafe
from kernel.lib.device import device_lock, device_unlock
from kernel.lib.errno import IS_ERR
from kernel.lib.mutex import lockdep_assert_held, mutex, mutex_lock, mutex_unlock
from kernel.lib.printk import pr_debug, pr_err, pr_info
from kernel.pci.pci import pci_dev_lock, pci_dev_unlock
from kernel.pci.pci_driver import pci_dev_put, pci_uevent_ers, to_pci_driver
from kernel.pci.search import pci_get_slot
from kernel.s390.include.asm.pci import (
    ZPCI_ERR_PENDING_MAX,
    ZPCI_FN_STATE_CONFIGURED,
    ZPCI_FN_STATE_RESERVED,
    ZPCI_FN_STATE_STANDBY,
    to_zpci,
    zdev_enabled,
    zpci_ccdf_err,
    zpci_ccdf_pending,
    zpci_dev,
)
from kernel.s390.include.asm.pci_debug import zpci_dbg, zpci_err, zpci_err_hex
from kernel.s390.pci.pci import (
    get_zdev_by_fid,
    zpci_add_device,
    zpci_clear_error_state,
    zpci_create_device,
    zpci_deconfigure_device,
    zpci_device_reserved,
    zpci_disable_device,
    zpci_hot_reset_device,
    zpci_is_enabled,
    zpci_remove_reserved_devices,
    zpci_reset_load_store_blocked,
    zpci_scan_configured_device,
    zpci_scan_devices,
    zpci_update_fh,
)
from kernel.s390.pci.pci_bus import zpci_bus_remove_device, zpci_zdev_get, zpci_zdev_put
from kernel.s390.pci.pci_clp import clp_get_state, clp_refresh_fh
from kernel.s390.pci.pci_report import zpci_report_status

__all__ = [
    "zpci_ccdf_avail",
    "zpci_ccdf_err",
    "zpci_event_availability",
    "zpci_event_error",
    "zpci_get_pending_error",
    "zpci_start_mediated_recovery",
    "zpci_stop_mediated_recovery",
]


def pr_fmt(fmt: str) -> str:
    return "zpci: " + fmt


class zpci_ccdf_avail(ctypes.BigEndianStructure):
    """Content Code Description for PCI Function Availability (32 bytes)."""

    _pack_ = 1
    _fields_ = [
        ("reserved1", ctypes.c_uint32),
        ("fh", ctypes.c_uint32),  # function handle
        ("fid", ctypes.c_uint32),  # function id
        ("reserved2", ctypes.c_uint32),
        ("reserved3", ctypes.c_uint32),
        ("reserved4", ctypes.c_uint32),
        ("reserved5", ctypes.c_uint32),
        ("reserved6", ctypes.c_uint16),
        ("pec", ctypes.c_uint16),  # PCI event code
    ]


def ers_result_indicates_abort(ers_res: pci_ers_result_t) -> bool:
    if ers_res in (
        PCI_ERS_RESULT_CAN_RECOVER,
        PCI_ERS_RESULT_RECOVERED,
        PCI_ERS_RESULT_NEED_RESET,
        PCI_ERS_RESULT_NONE,
    ):
        return False
    return True


def is_driver_supported(driver: pci_driver | None) -> bool:
    if driver is None or driver.err_handler is None:
        return False
    if driver.err_handler.error_detected is None:
        return False
    return True


def zpci_store_pci_error(pdev: pci_dev, ccdf: zpci_ccdf_err) -> int:
    """Queue the error record for userspace.  -EINVAL when the function is not under
    mediated recovery (nothing stored, nothing logged), -ENOMEM when the queue is
    full (the record is dropped), 0 when stored."""
    zdev = to_zpci(pdev)

    with guard(mutex)(zdev.pending_errs_lock):
        if not zdev.pending_errs.mediated_recovery:
            return -errno.EINVAL

        if zdev.pending_errs.count >= ZPCI_ERR_PENDING_MAX:
            pr_err(
                "%s: Maximum number (%d) of pending error events queued\n",
                pci_name(pdev),
                ZPCI_ERR_PENDING_MAX,
            )
            return -errno.ENOMEM

        i = zdev.pending_errs.tail % ZPCI_ERR_PENDING_MAX
        ctypes.memmove(
            ctypes.addressof(zdev.pending_errs.err[i]), ctypes.addressof(ccdf), ctypes.sizeof(zpci_ccdf_err)
        )
        zdev.pending_errs.tail += 1  # a u8: wraps at 256
        zdev.pending_errs.count += 1
        return 0


def zpci_get_pending_error(zdev: zpci_dev, ccdf: zpci_ccdf_err) -> int:
    """Take the oldest queued record into ``ccdf``: 0, or -ENOMSG when none is
    queued (EXPORT_SYMBOL_GPL: vfio-pci's VFIO_DEVICE_FEATURE_ZPCI_ERROR).  Looks at
    the queue only, not at whether mediated recovery is on."""
    head = 0

    with guard(mutex)(zdev.pending_errs_lock):
        if not zdev.pending_errs.count:
            return -errno.ENOMSG

        head = zdev.pending_errs.head % ZPCI_ERR_PENDING_MAX
        ctypes.memmove(
            ctypes.addressof(ccdf),
            ctypes.addressof(zdev.pending_errs.err[head]),
            ctypes.sizeof(zpci_ccdf_err),
        )
        zdev.pending_errs.head += 1  # a u8: wraps at 256
        zdev.pending_errs.count -= 1
        return 0


def zpci_start_mediated_recovery(zdev: zpci_dev) -> None:
    """From now on, errors of this function are stored for userspace, which drives
    its recovery (EXPORT_SYMBOL_GPL: called by vfio-pci when the device is opened)."""
    with guard(mutex)(zdev.pending_errs_lock):
        zdev.pending_errs.mediated_recovery = True


def zpci_stop_mediated_recovery(zdev: zpci_dev) -> None:
    """Back to host recovery; records userspace did not fetch are counted in the log
    and dropped (EXPORT_SYMBOL_GPL: called by vfio-pci when the device is closed)."""
    with guard(mutex)(zdev.pending_errs_lock):
        zdev.pending_errs.mediated_recovery = False
        if zdev.pending_errs.count:
            pr_info(
                "Unhandled PCI error events count=%d for PCI function 0x%x\n",
                zdev.pending_errs.count,
                zdev.fid,
            )
        ctypes.memset(ctypes.addressof(zdev.pending_errs), 0, ctypes.sizeof(zpci_ccdf_pending))


def zpci_event_notify_error_detected(pdev: pci_dev, driver: pci_driver) -> pci_ers_result_t:
    assert driver.err_handler is not None and driver.err_handler.error_detected is not None
    ers_res = driver.err_handler.error_detected(pdev, pdev.error_state)
    pci_uevent_ers(pdev, ers_res)
    if ers_result_indicates_abort(ers_res):
        pr_info("%s: Automatic recovery failed after initial reporting\n", pci_name(pdev))
    elif ers_res == PCI_ERS_RESULT_NEED_RESET:
        pr_debug("%s: Driver needs reset to recover\n", pci_name(pdev))

    return ers_res


def zpci_event_do_error_state_clear(pdev: pci_dev, driver: pci_driver) -> pci_ers_result_t:
    zdev = to_zpci(pdev)
    assert driver.err_handler is not None

    # The underlying device may have been disabled by the event
    if not zdev_enabled(zdev):
        return PCI_ERS_RESULT_NEED_RESET

    pr_info("%s: Unblocking device access for examination\n", pci_name(pdev))
    rc = zpci_reset_load_store_blocked(zdev)
    if rc:
        pr_err("%s: Unblocking device access failed\n", pci_name(pdev))
        # Let's try a full reset instead
        return PCI_ERS_RESULT_NEED_RESET

    if driver.err_handler.mmio_enabled is not None:
        ers_res = driver.err_handler.mmio_enabled(pdev)
    else:
        ers_res = PCI_ERS_RESULT_NONE

    if ers_result_indicates_abort(ers_res):
        pr_info("%s: Automatic recovery failed after MMIO re-enable\n", pci_name(pdev))
        return ers_res
    elif ers_res == PCI_ERS_RESULT_NEED_RESET:
        pr_debug("%s: Driver needs reset to recover\n", pci_name(pdev))
        return ers_res

    pr_debug("%s: Unblocking DMA\n", pci_name(pdev))
    rc = zpci_clear_error_state(zdev)
    if not rc:
        pdev.error_state = pci_channel_io_normal
    else:
        pr_err("%s: Unblocking DMA failed\n", pci_name(pdev))
        # Let's try a full reset instead
        return PCI_ERS_RESULT_NEED_RESET

    return ers_res


def zpci_event_do_reset(pdev: pci_dev, driver: pci_driver) -> pci_ers_result_t:
    ers_res = PCI_ERS_RESULT_DISCONNECT
    assert driver.err_handler is not None

    pr_info("%s: Initiating reset\n", pci_name(pdev))
    if zpci_hot_reset_device(to_zpci(pdev)):
        pr_err("%s: The reset request failed\n", pci_name(pdev))
        return ers_res
    pdev.error_state = pci_channel_io_normal

    if driver.err_handler.slot_reset is not None:
        ers_res = driver.err_handler.slot_reset(pdev)
    else:
        ers_res = PCI_ERS_RESULT_NONE

    if ers_result_indicates_abort(ers_res):
        pr_info("%s: Automatic recovery failed after slot reset\n", pci_name(pdev))
        return ers_res

    return ers_res


def zpci_event_attempt_error_recovery(pdev: pci_dev, ccdf: zpci_ccdf_err) -> pci_ers_result_t:
    """Try to recover the given PCI function, in the error state, following
    Documentation/PCI/pci-error-recovery.rst -- simplified in that recovery is always
    per function and the platform decides which functions of a multi-function device
    are affected."""
    ers_res = PCI_ERS_RESULT_DISCONNECT
    zdev = to_zpci(pdev)
    mediated_recovery = False
    status_str = "success"

    # Ensure that the PCI function is not removed concurrently, no driver is unbound
    # or probed and that userspace can't access its configuration space while we
    # perform recovery.
    device_lock(pdev.dev)
    try:
        if pdev.error_state == pci_channel_io_perm_failure:
            ers_res = PCI_ERS_RESULT_DISCONNECT
            return ers_res  # goto out_unlock
        pdev.error_state = pci_channel_io_frozen

        driver = to_pci_driver(pdev.dev.driver)
        if not is_driver_supported(driver):
            if driver is None:
                pr_info("%s: Cannot be recovered because no driver is bound to the device\n", pci_name(pdev))
                status_str = "failed (no driver)"
            else:
                pr_info(
                    "%s: The %s driver bound to the device does not support error recovery\n",
                    pci_name(pdev),
                    driver.name,
                )
                status_str = "failed (no driver support)"
            return ers_res  # goto out_unlock
        assert driver is not None and driver.err_handler is not None

        # Decided once, here: a full queue (-ENOMEM) still means userspace owns
        # the recovery.  The flag may go stale once the lock is dropped (userspace
        # closing the device); the record is then wiped by the close.
        rc = zpci_store_pci_error(pdev, ccdf)
        if not rc or rc == -errno.ENOMEM:
            mediated_recovery = True

        ers_res = zpci_event_notify_error_detected(pdev, driver)
        if ers_result_indicates_abort(ers_res):
            status_str = "failed (abort on detection)"
            return ers_res  # goto out_unlock

        if mediated_recovery:
            pr_info("%s: Leaving recovery of pass-through device to user-space\n", pci_name(pdev))
            ers_res = PCI_ERS_RESULT_RECOVERED
            status_str = "in progress"
            return ers_res  # goto out_unlock

        if ers_res != PCI_ERS_RESULT_NEED_RESET:
            ers_res = zpci_event_do_error_state_clear(pdev, driver)
            if ers_result_indicates_abort(ers_res):
                status_str = "failed (abort on MMIO enable)"
                return ers_res  # goto out_unlock

        if ers_res == PCI_ERS_RESULT_NEED_RESET:
            ers_res = zpci_event_do_reset(pdev, driver)

        # ers_res can be PCI_ERS_RESULT_NONE either because the driver decided to
        # return it, abstaining from the vote on how to recover, or because it did not
        # implement the callback.  Both mean: if nothing else causes a disconnect, we
        # recovered.
        if ers_res == PCI_ERS_RESULT_NONE:
            ers_res = PCI_ERS_RESULT_RECOVERED

        if ers_res != PCI_ERS_RESULT_RECOVERED:
            pci_uevent_ers(pdev, PCI_ERS_RESULT_DISCONNECT)
            pr_err("%s: Automatic recovery failed; operator intervention is required\n", pci_name(pdev))
            status_str = "failed (driver can't recover)"
            return ers_res  # goto out_unlock

        pr_info("%s: The device is ready to resume operations\n", pci_name(pdev))
        if driver.err_handler.resume is not None:
            driver.err_handler.resume(pdev)
        pci_uevent_ers(pdev, PCI_ERS_RESULT_RECOVERED)
        return ers_res
    finally:
        # out_unlock:
        device_unlock(pdev.dev)
        zpci_report_status(zdev, "recovery", status_str)


def zpci_event_io_failure(pdev: pci_dev, es: pci_channel_state_t, ccdf: zpci_ccdf_err) -> None:
    """Report the PCI channel failure state ``es`` to the driver (and, under mediated
    recovery, store the record for userspace)."""
    pci_dev_lock(pdev)
    pdev.error_state = es

    zpci_store_pci_error(pdev, ccdf)
    driver = to_pci_driver(pdev.dev.driver)
    if driver is not None and driver.err_handler is not None and driver.err_handler.error_detected:
        driver.err_handler.error_detected(pdev, pdev.error_state)

    pci_dev_unlock(pdev)


def __zpci_event_error(ccdf: zpci_ccdf_err) -> None:
    zdev = get_zdev_by_fid(ccdf.fid)
    pdev = None

    zpci_dbg(3, "err fid:%x, fh:%x, pec:%x\n", ccdf.fid, ccdf.fh, ccdf.pec)
    zpci_err("error CCDF:\n")
    zpci_err_hex(bytes(ccdf))

    try:
        if zdev is not None:
            mutex_lock(zdev.state_lock)
            rc, fh = clp_refresh_fh(zdev.fid)
            if rc:
                return  # goto no_pdev
            if not fh or ccdf.fh != fh:
                # Ignore events with stale handles
                zpci_dbg(3, "err fid:%x, fh:%x (stale %x)\n", ccdf.fid, fh, ccdf.fh)
                return  # goto no_pdev
            zpci_update_fh(zdev, ccdf.fh)
            if zdev.zbus is not None and zdev.zbus.bus is not None:
                pdev = pci_get_slot(zdev.zbus.bus, zdev.devfn)

        pr_err(
            "%s: Event 0x%x reports an error for PCI function 0x%x\n",
            pci_name(pdev) if pdev is not None else "n/a",
            ccdf.pec,
            ccdf.fid,
        )

        if pdev is None:
            return  # goto no_pdev

        if ccdf.pec in (0x002A, 0x002B, 0x002C):  # Error event concerns FMB
            pass
        elif ccdf.pec in (0x0040, 0x003B):  # Service Action or Error Recovery Failed
            zpci_event_io_failure(pdev, pci_channel_io_perm_failure, ccdf)
        else:  # PCI function left in the error state attempt to recover
            ers_res = zpci_event_attempt_error_recovery(pdev, ccdf)
            if ers_res != PCI_ERS_RESULT_RECOVERED:
                zpci_event_io_failure(pdev, pci_channel_io_perm_failure, ccdf)
        pci_dev_put(pdev)
    finally:
        # no_pdev:
        if zdev is not None:
            mutex_unlock(zdev.state_lock)
        zpci_zdev_put(zdev)


def zpci_event_error(data: bytes | bytearray) -> None:
    """``void zpci_event_error(void *data)``: ``data`` is the error CCDF."""
    if zpci_is_enabled():
        __zpci_event_error(zpci_ccdf_err.from_buffer_copy(bytes(data)[: ctypes.sizeof(zpci_ccdf_err)]))


def zpci_event_hard_deconfigured(zdev: zpci_dev, fh: int) -> None:
    zpci_update_fh(zdev, fh)
    # Give the driver a hint that the function is already unusable.
    zpci_bus_remove_device(zdev, True)
    # Even though the device is already gone we still need to free zPCI resources as
    # part of the disable.
    if zdev_enabled(zdev):
        zpci_disable_device(zdev)
    zdev.state = ZPCI_FN_STATE_STANDBY


def zpci_event_reappear(zdev: zpci_dev) -> None:
    lockdep_assert_held(zdev.state_lock)
    # The zdev is in the reserved state: it was presumed to go away but references
    # remain.  The platform announced it again, so bring the lingering zdev back to
    # standby -- safe because we hold a temporary reference -- and account for the
    # re-appearance by taking a reference.
    zdev.state = ZPCI_FN_STATE_STANDBY
    zpci_zdev_get(zdev)
    zpci_dbg(1, "rea fid:%x, fh:%x\n", zdev.fid, zdev.fh)


def __zpci_event_availability(ccdf: zpci_ccdf_avail) -> None:
    zdev = get_zdev_by_fid(ccdf.fid)
    existing_zdev = zdev is not None

    zpci_dbg(3, "avl fid:%x, fh:%x, pec:%x\n", ccdf.fid, ccdf.fh, ccdf.pec)

    if existing_zdev:
        assert zdev is not None
        mutex_lock(zdev.state_lock)

    pec = ccdf.pec
    if pec == 0x0301:  # Reserved|Standby -> Configured
        handled = True
        if zdev is None:
            new = zpci_create_device(ccdf.fid, ccdf.fh, ZPCI_FN_STATE_CONFIGURED)
            if IS_ERR(new):
                handled = False
            else:
                assert isinstance(new, zpci_dev)
                if zpci_add_device(new):
                    handled = False  # kfree(zdev)
                else:
                    zdev = new
        else:
            if zdev.state == ZPCI_FN_STATE_RESERVED:
                zpci_event_reappear(zdev)
            # the configuration request may be stale
            elif zdev.state != ZPCI_FN_STATE_STANDBY:
                handled = False
            if handled:
                zdev.state = ZPCI_FN_STATE_CONFIGURED
        if handled:
            assert zdev is not None
            if existing_zdev:
                zpci_scan_configured_device(zdev, ccdf.fh)
            else:
                # a zdev this thread just added: the C enables it without
                # zdev->state_lock; its events are handled by this thread, after this
                with context_unsafe():
                    zpci_scan_configured_device(zdev, ccdf.fh)
    elif pec == 0x0302:  # Reserved -> Standby
        if zdev is None:
            new = zpci_create_device(ccdf.fid, ccdf.fh, ZPCI_FN_STATE_STANDBY)
            if not IS_ERR(new):
                assert isinstance(new, zpci_dev)
                zpci_add_device(new)  # on failure: kfree(zdev)
        else:
            if zdev.state == ZPCI_FN_STATE_RESERVED:
                zpci_event_reappear(zdev)
            zpci_update_fh(zdev, ccdf.fh)
    elif pec == 0x0303:  # Deconfiguration requested
        if zdev is not None:
            # The event may have been queued before we configured the device.
            if zdev.state == ZPCI_FN_STATE_CONFIGURED:
                zpci_update_fh(zdev, ccdf.fh)
                zpci_deconfigure_device(zdev)
    elif pec == 0x0304:  # Configured -> Standby|Reserved
        if zdev is not None:
            # The event may have been queued before we configured the device.
            if zdev.state == ZPCI_FN_STATE_CONFIGURED:
                zpci_event_hard_deconfigured(zdev, ccdf.fh)
            # The 0x0304 event may immediately reserve the device
            rc, state = clp_get_state(zdev.fid)
            if not rc and state == ZPCI_FN_STATE_RESERVED:
                zpci_device_reserved(zdev)
    elif pec == 0x0306:  # 0x308 or 0x302 for multiple devices
        zpci_remove_reserved_devices()
        zpci_scan_devices()
    elif pec == 0x0308:  # Standby -> Reserved
        if zdev is not None:
            zpci_device_reserved(zdev)
    if existing_zdev:
        assert zdev is not None
        mutex_unlock(zdev.state_lock)
        zpci_zdev_put(zdev)


def zpci_event_availability(data: bytes | bytearray) -> None:
    """``void zpci_event_availability(void *data)``: ``data`` is the availability CCDF."""
    if zpci_is_enabled():
        ccdf = zpci_ccdf_avail.from_buffer_copy(bytes(data)[: ctypes.sizeof(zpci_ccdf_avail)])
        __zpci_event_availability(ccdf)
