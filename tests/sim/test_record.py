"""sim/record.py: recording the kernel, the firmware and the programs' ioctls."""

from __future__ import annotations

import ctypes
import errno
import sys
from pathlib import Path

import pytest

import uapi.linux.vfio as V
from kernel.lib import printk
from kernel.lib.printk import LogLine, dmesg, klog_subscribe, klog_unsubscribe, pr_debug, pr_info
from kernel.lib.trace import trace_event
from sim.host import Host
from sim.pci.function import PciFunction
from sim.record import ioctl_name, ioctl_text, kernel_functions_at_step, record_running, recording
from sim.timeline import Step, Timeline, acting_as, use
from sim.userspace import syscalls
from sim.userspace.zpci_err import reader_for


def feature(flags: int) -> V.vfio_device_feature:
    return V.vfio_device_feature(argsz=8, flags=flags)


def test_ioctl_names_come_from_the_uapi_numbers() -> None:
    assert ioctl_name(V.VFIO_DEVICE_RESET) == "VFIO_DEVICE_RESET"
    assert ioctl_name(V.VFIO_DEVICE_BIND_IOMMUFD) == "VFIO_DEVICE_BIND_IOMMUFD"
    get = V.VFIO_DEVICE_FEATURE_GET | V.VFIO_DEVICE_FEATURE_ZPCI_ERROR
    assert ioctl_name(V.VFIO_DEVICE_FEATURE, feature(get)) == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)"
    probe = V.VFIO_DEVICE_FEATURE_PROBE | V.VFIO_DEVICE_FEATURE_GET | V.VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
    name = ioctl_name(V.VFIO_DEVICE_FEATURE, bytes(feature(probe)))
    assert name == "VFIO_DEVICE_FEATURE(GET|PROBE|LOW_POWER_EXIT)"
    assert ioctl_name(0x1234) == "ioctl(0x1234)"


def test_ioctl_text_shows_the_errno_name() -> None:
    text, _ = ioctl_text(V.VFIO_DEVICE_RESET, 0, -errno.EINVAL)
    assert text == "VFIO_DEVICE_RESET = -EINVAL"


def test_kernel_log_is_recorded_at_info_and_debug_only_when_verbose() -> None:
    t = Timeline()
    with recording(t):
        pr_info("an info line %d\n", 1)
        pr_debug("a debug line\n")
    pr_info("after the recording\n")
    assert [(s.actor, s.kind, s.text) for s in t.steps] == [("host", "log", "an info line 1")]
    v = Timeline()
    with recording(v, verbose=True):
        pr_debug("a debug line\n")
    assert [s.text for s in v.steps] == ["a debug line"]


def test_eventfd_signal_trace_is_an_irq_step_naming_the_function_and_line_that_emitted_it() -> None:
    t = Timeline()
    with recording(t):
        line = sys._getframe().f_lineno + 1
        trace_event("eventfd_signal", ctx=3)
        trace_event("something_else")
    assert [(s.actor, s.kind, s.fields) for s in t.steps] == [
        (
            "host",
            "irq",
            {
                "ctx": 3,
                "function": sys._getframe().f_code.co_name,
                "source": f"tests/sim/test_record.py:{line}",
            },
        )
    ]


def _kernel_line(source: str, n: int = 1) -> str:
    """The ``n`` lines of the repository's file at ``path:line``, joined."""
    path, line = source.rsplit(":", 1)
    lines = (Path(__file__).resolve().parents[2] / path).read_text().splitlines()
    return " ".join(lines[int(line) - 1 : int(line) - 1 + n])


def test_log_steps_carry_the_c_function_and_the_file_line_that_printed_them() -> None:
    fn = PciFunction(0x1AF4, 0x1041)
    host = Host.boot({0x10: fn})
    t = Timeline()
    try:
        with recording(t, host.fw):
            host.fw.inject_error(0x10, pec=0x3A)
            host.fw.wait_events_handled()
    finally:
        host.shutdown()
    step = next(s for s in t.steps if s.kind == "log" and "reports an error" in s.text)
    assert step.fields["function"] == "__zpci_event_error"
    assert step.fields["source"].startswith("kernel/s390/pci/pci_event.py:")
    call = _kernel_line(step.fields["source"], 3)  # the call starts on that line: pr_err(zdev, "...")
    assert call.lstrip().startswith("pr_err(") and "reports an error for PCI function" in call
    assert step.as_json()["function"] == "__zpci_event_error"


def test_log_lines_say_where_they_come_from_only_while_someone_listens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(printk, "_subscribers", [])
    pr_info("nobody listens\n")
    assert (dmesg()[-1].text, dmesg()[-1].function, dmesg()[-1].source) == ("nobody listens", None, None)
    seen: list[LogLine] = []
    klog_subscribe(seen.append)
    try:
        line = sys._getframe().f_lineno + 1
        pr_info("someone listens\n")
    finally:
        klog_unsubscribe(seen.append)
    assert (seen[0].function, seen[0].source) == (
        "test_log_lines_say_where_they_come_from_only_while_someone_listens",
        f"tests/sim/test_record.py:{line}",
    )


def test_firmware_events_clp_and_resets_are_recorded() -> None:
    fn = PciFunction(0x1AF4, 0x1041)
    host = Host.boot({0x10: fn})
    t = Timeline()
    try:
        with recording(t, host.fw):
            host.fw.inject_error(0x10, pec=0x40)
            host.fw.wait_events_handled()
    finally:
        host.shutdown()
    fw_steps = [(s.kind, s.text) for s in t.steps if s.actor == "firmware"]
    assert fw_steps[0] == ("event", "error event PEC 0x40 for fid 0x10 (fh 0x80010001)")
    assert not fn.reset_listeners and not host.fw.listeners


def test_ioctls_are_recorded_under_the_current_actor_only_with_a_current_timeline() -> None:
    host = Host.boot({0x10: PciFunction(0x1AF4, 0x1041)})
    path = host.bind_vfio_pci(0x10)
    t = Timeline()
    try:
        ifd = syscalls.open("/dev/iommu")
        fd = syscalls.open(path)
        bind = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=ifd)
        syscalls.ioctl(fd, V.VFIO_DEVICE_BIND_IOMMUFD, bind)  # no timeline: not recorded
        reader = reader_for(fd)  # GET_INFO: whichever uAPI the kernel has; not recorded
        with use(t), acting_as("qemu"):
            assert reader.get() is None  # ENOMSG
            syscalls.ioctl(fd, V.VFIO_DEVICE_RESET, 0)
        syscalls.close(fd)
        syscalls.close(ifd)
    finally:
        host.shutdown()
    assert [(s.actor, s.kind, s.request, s.ret, s.text) for s in t.steps] == [
        (
            "qemu",
            "ioctl",
            "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)",
            -errno.ENOMSG,
            "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG",
        ),
        ("qemu", "ioctl", "VFIO_DEVICE_RESET", 0, "VFIO_DEVICE_RESET = 0"),
    ]
    # the errno is followed to where it was made; a success names the request's handler
    enomsg, reset = t.steps
    assert enomsg.fields["function"] == "zpci_get_pending_error"
    assert enomsg.fields["source"].startswith("kernel/s390/pci/pci_event.py:")
    assert _kernel_line(enomsg.fields["source"]).strip() == "return -errno.ENOMSG"
    assert reset.fields["function"] == "vfio_pci_ioctl_reset"
    assert reset.fields["source"].startswith("kernel/vfio/pci/vfio_pci_core.py:")


def test_record_running_hands_its_functions_to_that_step_s_subscribers_only() -> None:
    t = Timeline()
    seen: dict[int, set[tuple[str, str]]] = {}

    def sub(step: Step) -> None:
        seen[step.seq] = kernel_functions_at_step()
        if step.seq == 1:
            t.record("host", "note", "a subscriber records a step of its own")

    t.subscribe(sub)
    record_running(t, [("kernel/s390/pci/pci_event.py", "zpci_event_do_reset")], "guest", "log", "a line")
    assert ("kernel/s390/pci/pci_event.py", "zpci_event_do_reset") in seen[1]
    assert ("kernel/s390/pci/pci_event.py", "zpci_event_do_reset") not in seen[2]
    assert [(s.actor, s.kind, s.text) for s in t.steps] == [
        ("guest", "log", "a line"),
        ("host", "note", "a subscriber records a step of its own"),
    ]
