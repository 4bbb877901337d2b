"""kernel/s390/pci/pci_event.py: error events, end to end on the firmware model -- each
PEC class, host recovery with a driver that has error handlers, the failure paths,
mediated recovery (v17 4/7: the error records stored for userspace), stale handles,
unknown functions and the lock order."""

from __future__ import annotations

import ctypes
import errno
import threading
from collections.abc import Callable

import pytest

from kernel.include.linux.pci import (
    PCI_ERS_RESULT_CAN_RECOVER,
    PCI_ERS_RESULT_DISCONNECT,
    PCI_ERS_RESULT_NEED_RESET,
    PCI_ERS_RESULT_RECOVERED,
    pci_channel_io_frozen,
    pci_channel_io_normal,
    pci_channel_io_perm_failure,
)
from kernel.lib import lockdep
from kernel.lib.kobject import uevents
from kernel.lib.mutex import Mutex, mutex_lock, mutex_unlock
from kernel.lib.printk import KERN_DEBUG, KERN_ERR, KERN_INFO, dmesg
from kernel.pci.pci_driver import pci_register_driver
from kernel.s390.include.asm.kvm_host import kvm
from kernel.s390.include.asm.pci import zpci_ccdf_err
from kernel.s390.include.asm.pci_debug import pci_debug_msg_id
from kernel.s390.kernel.debug import debug_entries
from kernel.s390.pci.pci_event import (
    zpci_start_mediated_recovery,
    zpci_stop_mediated_recovery,
    zpci_store_pci_error,
)
from kernel.s390.pci.pci_kvm_hook import zpci_kvm_hook
from sim.drivers.recording import RecordingDriver
from sim.host import pdev_of, zdev_of
from sim.pci.function import PciFunction
from sim.zpci.firmware import ZpciFirmware

VENDOR, DEVICE = 0x1AF4, 0x1041
NAME = "0000:00:00.0"

Machine = Callable[..., ZpciFirmware]


def bind(**kw: object) -> RecordingDriver:
    drv = RecordingDriver("rec", VENDOR, DEVICE, **kw)  # type: ignore[arg-type]
    assert pci_register_driver(drv.driver) == 0
    return drv


def log() -> list[tuple[int, str]]:
    """The zpci log lines with their levels, so a line printed at the wrong level fails."""
    return [(line.level, line.text) for line in dmesg() if line.module.startswith("s390")]


def uevent_envs() -> list[tuple[str, ...]]:
    return [u.env for u in uevents if u.action == "change"]


def inject(fw: ZpciFirmware, fid: int = 0x10, pec: int = 0x3A, **kw: int) -> list[tuple[int, str]]:
    """Inject an error and return the zpci log lines it caused, with their levels."""
    before = len(log())
    fw.inject_error(fid, pec, **kw)
    assert fw.wait_events_handled()
    return log()[before:]


BEGIN = ("ERROR_EVENT=BEGIN_RECOVERY", "DEVICE_ONLINE=0")
SUCCESS = ("ERROR_EVENT=SUCCESSFUL_RECOVERY", "DEVICE_ONLINE=1")
FAILED = ("ERROR_EVENT=FAILED_RECOVERY", "DEVICE_ONLINE=0")


def test_boot_scans_the_configured_function_into_a_pci_dev(zmachine: Machine) -> None:
    fw = zmachine()
    pdev = pdev_of(0x10)
    assert (pdev.vendor, pdev.device) == (VENDOR, DEVICE)
    zdev = zdev_of(0x10)
    assert zdev.fh == fw.fh(0x10) and zdev.fh & 0x80000000
    assert zdev.hotplug_slot.pci_slot is not None


@pytest.mark.parametrize("pec", [0x2A, 0x2B, 0x2C])
def test_fmb_events_are_logged_and_ignored(zmachine: Machine, pec: int) -> None:
    fw = zmachine()
    drv = bind()
    lines = inject(fw, pec=pec)
    assert lines == [(KERN_ERR, f"zpci: {NAME}: Event 0x{pec:x} reports an error for PCI function 0x10")]
    assert drv.calls == []
    assert pdev_of(0x10).error_state == pci_channel_io_normal
    assert uevent_envs() == []
    assert fw.reports == []


@pytest.mark.parametrize("pec", [0x40, 0x3B])
def test_service_action_events_report_permanent_failure_to_the_driver(zmachine: Machine, pec: int) -> None:
    fw = zmachine()
    drv = bind()
    lines = inject(fw, pec=pec)
    assert lines == [(KERN_ERR, f"zpci: {NAME}: Event 0x{pec:x} reports an error for PCI function 0x10")]
    assert drv.calls == [
        ("error_detected", NAME, pci_channel_io_perm_failure, pci_channel_io_perm_failure, False)
    ]
    assert pdev_of(0x10).error_state == pci_channel_io_perm_failure
    assert uevent_envs() == []  # zpci_event_io_failure() sends none
    assert fw.reports == []  # and reports nothing to the platform


def test_other_pec_recovers_with_can_recover_driver(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    lines = inject(fw, pec=0x3A)
    assert lines == [
        (KERN_ERR, f"zpci: {NAME}: Event 0x3a reports an error for PCI function 0x10"),
        (KERN_INFO, f"zpci: {NAME}: Unblocking device access for examination"),
        (KERN_DEBUG, f"zpci: {NAME}: Unblocking DMA"),
        (KERN_INFO, f"zpci: {NAME}: The device is ready to resume operations"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    # error_detected sees the frozen function with config space blocked; resume sees it
    # back to normal
    assert drv.calls == [
        ("error_detected", NAME, pci_channel_io_frozen, pci_channel_io_frozen, False),
        ("resume", NAME, None, pci_channel_io_normal, True),
    ]
    assert uevent_envs() == [BEGIN, SUCCESS]
    assert pdev_of(0x10).error_state == pci_channel_io_normal
    f = fw.function(0x10)
    assert not f.error and not f.blocked and f.function.accessible
    assert [r.text.splitlines()[:4] for r in fw.reports] == [
        ["report: recovery", "status: success", "state: normal", "driver: rec"]
    ]


def test_mmio_enabled_runs_with_load_store_unblocked(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(mmio_enabled=PCI_ERS_RESULT_RECOVERED)
    inject(fw)
    assert drv.names() == ["error_detected", "mmio_enabled", "resume"]
    assert drv.calls[1] == ("mmio_enabled", NAME, None, pci_channel_io_frozen, True)
    assert uevent_envs() == [BEGIN, SUCCESS]


def test_need_reset_hot_resets_then_calls_slot_reset_and_resume(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_NEED_RESET, slot_reset=PCI_ERS_RESULT_RECOVERED)
    old_fh = fw.fh(0x10)
    lines = inject(fw)
    assert lines == [
        (KERN_ERR, f"zpci: {NAME}: Event 0x3a reports an error for PCI function 0x10"),
        (KERN_DEBUG, f"zpci: {NAME}: Driver needs reset to recover"),
        (KERN_INFO, f"zpci: {NAME}: Initiating reset"),
        (KERN_INFO, f"zpci: {NAME}: The device is ready to resume operations"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    assert drv.names() == ["error_detected", "slot_reset", "resume"]
    assert drv.calls[1] == ("slot_reset", NAME, None, pci_channel_io_normal, True)
    assert uevent_envs() == [BEGIN, SUCCESS]
    # the hot reset disabled and re-enabled the function: new handle, function reset
    zdev = zdev_of(0x10)
    assert zdev.fh == fw.fh(0x10) != old_fh and zdev.fh & 0x80000000
    assert fw.function(0x10).function.resets == ["hot"]  # type: ignore[attr-defined]
    set_fn = [(n, a[1]) for n, a in fw.trace if n == "set_pci_fn"]
    assert set_fn[-2:] == [("set_pci_fn", 1), ("set_pci_fn", 0)]  # disable, enable


def test_mmio_enabled_need_reset_takes_the_reset_path(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(mmio_enabled=PCI_ERS_RESULT_NEED_RESET)
    inject(fw)
    assert drv.names() == ["error_detected", "mmio_enabled", "slot_reset", "resume"]


def test_no_driver_fails_and_reports_permanent_failure(zmachine: Machine) -> None:
    fw = zmachine()
    lines = inject(fw)
    assert lines == [
        (KERN_ERR, f"zpci: {NAME}: Event 0x3a reports an error for PCI function 0x10"),
        (KERN_INFO, f"zpci: {NAME}: Cannot be recovered because no driver is bound to the device"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    assert pdev_of(0x10).error_state == pci_channel_io_perm_failure
    assert uevent_envs() == []
    assert fw.reports[0].text.splitlines()[:4] == [
        "report: recovery", "status: failed (no driver)", "state: frozen", "driver: n/a",
    ]


def test_driver_without_error_handlers_fails(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(err_handler=False)
    lines = inject(fw)
    assert lines[1] == (
        KERN_INFO, f"zpci: {NAME}: The rec driver bound to the device does not support error recovery"
    )
    assert drv.calls == []
    assert fw.reports[0].text.splitlines()[1] == "status: failed (no driver support)"
    assert pdev_of(0x10).error_state == pci_channel_io_perm_failure


def test_disconnect_on_detection_aborts(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_DISCONNECT)
    lines = inject(fw)
    assert lines == [
        (KERN_ERR, f"zpci: {NAME}: Event 0x3a reports an error for PCI function 0x10"),
        (KERN_INFO, f"zpci: {NAME}: Automatic recovery failed after initial reporting"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    # the io-failure report follows the failed recovery
    assert [(c[0], c[2]) for c in drv.calls] == [
        ("error_detected", pci_channel_io_frozen),
        ("error_detected", pci_channel_io_perm_failure),
    ]
    assert uevent_envs() == [FAILED]
    assert fw.reports[0].text.splitlines()[1] == "status: failed (abort on detection)"


def test_driver_that_cannot_recover_after_slot_reset(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_NEED_RESET, slot_reset=PCI_ERS_RESULT_DISCONNECT)
    lines = inject(fw, pec=0x3A)
    assert lines[-3:] == [
        (KERN_INFO, f"zpci: {NAME}: Automatic recovery failed after slot reset"),
        (KERN_ERR, f"zpci: {NAME}: Automatic recovery failed; operator intervention is required"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    assert drv.names() == ["error_detected", "slot_reset", "error_detected"]
    assert uevent_envs() == [BEGIN, FAILED]
    assert fw.reports[0].text.splitlines()[1] == "status: failed (driver can't recover)"
    assert pdev_of(0x10).error_state == pci_channel_io_perm_failure


def test_kvm_attached_function_without_mediated_recovery_recovers_in_the_host(zmachine: Machine) -> None:
    """v17 4/7: a KVM attachment (kzdev) alone no longer stops host recovery; what
    counts is whether userspace has the function open (mediated recovery)."""
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    zdev = zdev_of(0x10)
    guest = kvm()
    assert zpci_kvm_hook.kvm_register is not None
    assert zpci_kvm_hook.kvm_register(zdev, guest) == 0

    lines = inject(fw)

    assert lines[-1] == (KERN_INFO, "zpci: Reported PCI device status")
    assert (KERN_INFO, f"zpci: {NAME}: The device is ready to resume operations") in lines
    assert drv.names() == ["error_detected", "resume"]
    assert fw.reports[0].text.splitlines()[1] == "status: success"
    assert zpci_kvm_hook.kvm_unregister is not None
    zpci_kvm_hook.kvm_unregister(zdev)


def test_io_failure_stores_the_record_and_tells_the_driver_even_for_a_kvm_guest(
    zmachine: Machine,
) -> None:
    """v17 4/7: PEC 0x40 under mediated recovery: the record is queued and the
    driver's error_detected is called (the base skipped it for KVM guests)."""
    fw = zmachine()
    drv = bind()
    zdev = zdev_of(0x10)
    guest = kvm()
    assert zpci_kvm_hook.kvm_register is not None
    assert zpci_kvm_hook.kvm_register(zdev, guest) == 0
    zpci_start_mediated_recovery(zdev)

    inject(fw, pec=0x40)

    assert drv.names() == ["error_detected"]
    assert pdev_of(0x10).error_state == pci_channel_io_perm_failure
    assert (zdev.pending_errs.count, zdev.pending_errs.head, zdev.pending_errs.tail) == (1, 0, 1)
    rec = zdev.pending_errs.err[0]
    assert (rec.fid, rec.fh, rec.pec) == (0x10, fw.fh(0x10), 0x40)
    zpci_stop_mediated_recovery(zdev)
    assert zpci_kvm_hook.kvm_unregister is not None
    zpci_kvm_hook.kvm_unregister(zdev)


def test_mediated_recovery_stores_the_record_and_leaves_recovery_to_userspace(zmachine: Machine) -> None:
    """v17 4/7: the driver is told (error_detected), the record is queued, the host
    does no state clear and no reset; status "in progress"."""
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)

    lines = inject(fw, pec=0x3A, faddr=0x1234000, mvn=5)

    assert lines == [
        (KERN_ERR, f"zpci: {NAME}: Event 0x3a reports an error for PCI function 0x10"),
        (KERN_INFO, f"zpci: {NAME}: Leaving recovery of pass-through device to user-space"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    assert drv.names() == ["error_detected"]
    assert uevent_envs() == [BEGIN]
    assert fw.reports[0].text.splitlines()[1] == "status: in progress"
    assert pdev_of(0x10).error_state == pci_channel_io_frozen
    assert fw.function(0x10).error  # the host did not clear the error state
    assert zdev.pending_errs.count == 1
    rec = zdev.pending_errs.err[0]
    assert (rec.fid, rec.pec, rec.faddr, rec.mvn) == (0x10, 0x3A, 0x1234000, 5)


def test_a_full_queue_still_counts_as_mediated(zmachine: Machine) -> None:
    """v17 4/7 (the v16 -> v17 fix): the fifth error finds the queue full, is logged
    and dropped, and recovery is still left to userspace."""
    fw = zmachine()
    bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    for n in range(4):
        inject(fw, pec=0x3A, faddr=n)

    lines = inject(fw, pec=0x3A, faddr=4)

    assert lines == [
        (KERN_ERR, f"zpci: {NAME}: Event 0x3a reports an error for PCI function 0x10"),
        (KERN_ERR, f"zpci: {NAME}: Maximum number (4) of pending error events queued"),
        (KERN_INFO, f"zpci: {NAME}: Leaving recovery of pass-through device to user-space"),
        (KERN_INFO, "zpci: Reported PCI device status"),
    ]
    assert [fw.reports[n].text.splitlines()[1] for n in range(5)] == ["status: in progress"] * 5
    assert zdev.pending_errs.count == 4
    assert [zdev.pending_errs.err[i].faddr for i in range(4)] == [0, 1, 2, 3]


def test_store_pci_error_outside_mediated_recovery_is_einval_and_silent(zmachine: Machine) -> None:
    zmachine()
    pdev = pdev_of(0x10)
    before = len(dmesg())

    assert zpci_store_pci_error(pdev, zpci_ccdf_err(fid=0x10, pec=0x3A)) == -errno.EINVAL

    assert zdev_of(0x10).pending_errs.count == 0
    assert len(dmesg()) == before


def test_store_pci_error_queues_fifo_and_the_u8_counters_wrap(zmachine: Machine) -> None:
    zmachine()
    pdev, zdev = pdev_of(0x10), zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    zdev.pending_errs.head = zdev.pending_errs.tail = 254  # as after 254 records

    assert [zpci_store_pci_error(pdev, zpci_ccdf_err(pec=pec)) for pec in (1, 2, 3, 4)] == [0] * 4
    assert zpci_store_pci_error(pdev, zpci_ccdf_err(pec=5)) == -errno.ENOMEM

    p = zdev.pending_errs
    assert (p.count, p.head, p.tail) == (4, 254, 2)  # tail wrapped 255 -> 0
    assert [p.err[i % 4].pec for i in (254, 255, 256, 257)] == [1, 2, 3, 4]


def test_stop_mediated_recovery_logs_unhandled_records_and_clears_the_queue(zmachine: Machine) -> None:
    zmachine()
    pdev, zdev = pdev_of(0x10), zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    zpci_store_pci_error(pdev, zpci_ccdf_err(pec=0x3A))
    zpci_store_pci_error(pdev, zpci_ccdf_err(pec=0x3A))

    zpci_stop_mediated_recovery(zdev)

    assert log()[-1] == (KERN_INFO, "zpci: Unhandled PCI error events count=2 for PCI function 0x10")
    assert bytes(zdev.pending_errs) == bytes(ctypes.sizeof(zdev.pending_errs))
    assert zpci_store_pci_error(pdev, zpci_ccdf_err(pec=0x3A)) == -errno.EINVAL


def test_stop_with_an_empty_queue_logs_nothing(zmachine: Machine) -> None:
    zmachine()
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    before = len(dmesg())
    zpci_stop_mediated_recovery(zdev)
    assert len(dmesg()) == before

def takes_pending_errs_lock(fn: Callable[[], object]) -> bool:
    """Does ``fn`` take zdev->pending_errs_lock?  Lockdep records the dependency on
    an outer lock the test holds around the call."""
    outer = Mutex("test_outer")
    mutex_lock(outer)
    try:
        fn()
    finally:
        mutex_unlock(outer)
    return ("test_outer", "zdev->pending_errs_lock") in {(e.held, e.taken) for e in lockdep.lockdep_edges()}


def test_store_start_and_stop_hold_pending_errs_lock(zmachine: Machine) -> None:
    """v17 4/7: every access to the queue and the flag is under pending_errs_lock."""
    zmachine()
    pdev, zdev = pdev_of(0x10), zdev_of(0x10)
    assert takes_pending_errs_lock(lambda: zpci_start_mediated_recovery(zdev))
    lockdep.lockdep_reset()
    assert takes_pending_errs_lock(lambda: zpci_store_pci_error(pdev, zpci_ccdf_err(pec=0x3A)))
    lockdep.lockdep_reset()
    assert takes_pending_errs_lock(lambda: zpci_stop_mediated_recovery(zdev))


def test_queue_full_and_unhandled_records_are_logged_at_err_and_info(zmachine: Machine) -> None:
    """The levels of the two lines v17 4/7 adds: the dropped record is an error
    (pr_err), the records left at stop are information (pr_info)."""
    zmachine()
    pdev, zdev = pdev_of(0x10), zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    n = len(log())
    rcs = [zpci_store_pci_error(pdev, zpci_ccdf_err(pec=0x3A)) for _ in range(6)]
    assert rcs == [0, 0, 0, 0, -errno.ENOMEM, -errno.ENOMEM]
    zpci_stop_mediated_recovery(zdev)
    assert log()[n:] == [
        (KERN_ERR, f"zpci: {NAME}: Maximum number (4) of pending error events queued"),
        (KERN_ERR, f"zpci: {NAME}: Maximum number (4) of pending error events queued"),
        (KERN_INFO, "zpci: Unhandled PCI error events count=4 for PCI function 0x10"),
    ]


def test_mediated_recovery_is_left_to_userspace_at_info_level_on_every_error(zmachine: Machine) -> None:
    """The second error after the first was left to userspace goes the same way,
    and so does one after a stop and a new start (a close and a new open)."""
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    leaving = (KERN_INFO, f"zpci: {NAME}: Leaving recovery of pass-through device to user-space")
    n = len(log())
    inject(fw, pec=0x3A, faddr=1)
    inject(fw, pec=0x3A, faddr=2)
    assert [x for x in log()[n:] if x[1].endswith("user-space")] == [leaving, leaving]
    assert (zdev.pending_errs.count, zdev.pending_errs.head, zdev.pending_errs.tail) == (2, 0, 2)

    zpci_stop_mediated_recovery(zdev)
    zpci_start_mediated_recovery(zdev)
    n = len(log())
    inject(fw, pec=0x3A, faddr=3)
    assert [x for x in log()[n:] if x[1].endswith("user-space")] == [leaving]
    assert (zdev.pending_errs.count, zdev.pending_errs.head, zdev.pending_errs.tail) == (1, 0, 1)
    assert zdev.pending_errs.err[0].faddr == 3
    assert drv.names() == ["error_detected"] * 3


def test_store_pci_error_checks_the_flag_before_the_room_left(zmachine: Machine) -> None:
    """Outside mediated recovery a full queue is not reported: -EINVAL, nothing
    logged (the flag is checked first)."""
    zmachine()
    pdev, zdev = pdev_of(0x10), zdev_of(0x10)
    zdev.pending_errs.count = 4
    n = len(log())
    assert zpci_store_pci_error(pdev, zpci_ccdf_err(pec=0x3A)) == -errno.EINVAL
    assert log()[n:] == []
    assert zdev.pending_errs.count == 4

def test_the_record_is_queued_before_the_driver_is_told(zmachine: Machine) -> None:
    """Store, then notify: when error_detected runs, on the recovery path and on
    the permanent-failure path (zpci_event_io_failure), the record is queued."""
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    seen: list[int] = []
    handlers = drv.driver.err_handler
    assert handlers is not None and handlers.error_detected is not None
    told = handlers.error_detected

    def error_detected(pdev: object, state: object) -> object:
        seen.append(zdev.pending_errs.count)
        return told(pdev, state)  # type: ignore[arg-type]

    handlers.error_detected = error_detected  # type: ignore[assignment]
    inject(fw, pec=0x3A)
    inject(fw, pec=0x40)
    assert seen == [1, 2]


def test_a_driver_that_disconnects_aborts_even_under_mediated_recovery(zmachine: Machine) -> None:
    """The abort check comes before the hand-over to userspace: error_detected
    answering DISCONNECT ends recovery as an abort, without the "Leaving recovery"
    line; the abort then reports permanent failure (zpci_event_io_failure), which
    stores the record a second time."""
    fw = zmachine()
    bind(error_detected=PCI_ERS_RESULT_DISCONNECT)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)

    lines = inject(fw, pec=0x3A)

    assert not any(text.endswith("to user-space") for _, text in lines)
    assert fw.reports[0].text.splitlines()[1] == "status: failed (abort on detection)"
    assert zdev.pending_errs.count == 2

def test_permanent_failure_tells_the_driver_under_the_device_lock(zmachine: Machine) -> None:
    """zpci_event_io_failure() stores the record, then calls error_detected with the
    device lock held (pci_dev_lock), as the recovery path does."""
    fw = zmachine()
    drv = bind(error_detected=PCI_ERS_RESULT_CAN_RECOVER)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    seen: list[tuple[int, object]] = []
    handlers = drv.driver.err_handler
    assert handlers is not None and handlers.error_detected is not None
    told = handlers.error_detected

    def error_detected(pdev: object, state: object) -> object:
        seen.append((zdev.pending_errs.count, pdev.dev.mutex.owner))  # type: ignore[attr-defined]
        return told(pdev, state)  # type: ignore[arg-type]

    handlers.error_detected = error_detected  # type: ignore[assignment]
    inject(fw, pec=0x40)
    assert len(seen) == 1
    count, owner = seen[0]
    assert count == 1
    assert owner is not None and owner is not threading.current_thread()  # the event thread holds it


@pytest.mark.parametrize(
    "handlers",
    [{"error_detected": None}, {"err_handler": False}],
    ids=["without-error_detected", "without-error-handlers"],
)
def test_permanent_failure_with_a_driver_that_cannot_be_told_only_stores(
    zmachine: Machine, handlers: dict[str, object]
) -> None:
    """A driver with error handlers but no error_detected, or with no error handlers
    at all, is not called on the permanent-failure path; the record is still stored
    for userspace."""
    fw = zmachine()
    drv = bind(**handlers)
    zdev = zdev_of(0x10)
    zpci_start_mediated_recovery(zdev)
    inject(fw, pec=0x40)
    assert drv.calls == []
    assert zdev.pending_errs.count == 1
    assert zdev.pending_errs.err[0].pec == 0x40
    assert pdev_of(0x10).dev.mutex.owner is None  # the event path got to its unlock


def test_event_with_a_stale_handle_is_ignored(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind()
    stale = fw.fh(0x10) ^ 0x00FF0000
    lines = inject(fw, fh=stale)
    assert lines == []
    assert drv.calls == []
    msgs = [e.text for e in debug_entries(pci_debug_msg_id())]
    assert f"err fid:10, fh:{fw.fh(0x10):x} (stale {stale:x})" in msgs


def test_event_for_an_unknown_fid_only_logs(zmachine: Machine) -> None:
    fw = zmachine()
    drv = bind()
    lines = inject(fw, fid=0x99)
    assert lines == [(KERN_ERR, "zpci: n/a: Event 0x3a reports an error for PCI function 0x99")]
    assert drv.calls == [] and fw.reports == [] and uevent_envs() == []


def test_error_event_is_written_to_the_debug_feature(zmachine: Machine) -> None:
    fw = zmachine()
    bind()
    inject(fw, pec=0x3A)
    msgs = [e.text for e in debug_entries(pci_debug_msg_id())]
    fh = fw.fh(0x10)  # the handle in the event: recovery did not change it
    assert f"err fid:10, fh:{fh:x}, pec:3a" in msgs


def test_lock_order_state_lock_device_lock_pending_errs_lock(zmachine: Machine) -> None:
    """v17 4/7: the event path takes pending_errs_lock under the device lock (held
    by zpci_event_attempt_error_recovery() and, through pci_dev_lock(), by
    zpci_event_io_failure()); kzdev_lock is no longer taken."""
    fw = zmachine()
    bind(error_detected=PCI_ERS_RESULT_DISCONNECT)
    inject(fw)
    edges = {(e.held, e.taken) for e in lockdep.lockdep_edges()}
    assert ("zdev->state_lock", "&dev->mutex") in edges
    assert ("&dev->mutex", "zdev->pending_errs_lock") in edges
    assert ("zdev->state_lock", "zdev->pending_errs_lock") in edges
    assert ("zdev->state_lock", "pci_lock") in edges  # pci_dev_lock() in zpci_event_io_failure()
    assert not any("zdev->kzdev_lock" in edge for edge in edges)
    assert lockdep.reports == []


def test_events_are_handled_on_the_kmcheck_thread(zmachine: Machine) -> None:
    fw = zmachine()
    seen: list[str] = []

    class Drv(RecordingDriver):
        def error_detected(self, pdev, state):  # type: ignore[no-untyped-def]
            seen.append(threading.current_thread().name)
            return super().error_detected(pdev, state)

    d = Drv("rec", VENDOR, DEVICE)
    pci_register_driver(d.driver)
    inject(fw)
    assert seen == ["kmcheck"]


def test_multifunction_devices_share_a_domain_and_recover_per_function(zmachine: Machine) -> None:
    def build(fw: ZpciFirmware) -> None:
        fw.add_function(0x20, PciFunction(VENDOR, DEVICE, multifunction=True), pchid=0x100, devfn=0)
        fw.add_function(0x21, PciFunction(VENDOR, DEVICE, multifunction=True), pchid=0x100, devfn=1)

    fw = zmachine(build)
    drv = bind()
    p0, p1 = pdev_of(0x20), pdev_of(0x21)
    assert p0.bus is p1.bus and (p0.devfn, p1.devfn) == (0, 1)
    inject(fw, fid=0x21)
    assert [c[1] for c in drv.calls] == ["0000:00:00.1", "0000:00:00.1"]
    assert p0.error_state == pci_channel_io_normal
