"""passthrough-kvm: the cover letter's flow -- an error on a function passed through to a
KVM guest, recovered by the guest's driver with the host's help.

The host (fid 0x10, an NVMe-like PCIe function) binds the function to vfio-pci; the
VMM (:class:`sim.vmm.qemu.Qemu`, actor ``qemu``) links it to its VM, opens it,
registers the error eventfd and probes ``VFIO_DEVICE_FEATURE_ZPCI_ERROR``, then boots
the guest -- the same ported kernel, in its own process -- whose NVMe-like driver
binds to the function it sees.

Then the firmware reports an error (PEC 0x3a).  The host logs the event, stores the
record, vfio-pci's ``error_detected`` signals the eventfd, and the host leaves the
recovery to userspace (status "in progress").  The VMM wakes on the eventfd, GETs the
record (PEC 0x3a) and then -ENOMSG, and injects the error into the guest.  The guest
kernel logs its own event line; its driver asks for a reset; the guest's s390 recovery
does a hot reset -- CLP disable and enable of the function, which the VMM intercepts:
disabling a function in the error state becomes ``VFIO_DEVICE_RESET`` on the host,
which resets the function (its config space is unreadable, so the state save and FLR
are refused and the per-function slot's hot reset does it) and ``reset_done`` puts
back the state vfio-pci saved at open.  The guest's driver sets up its controller
again and the guest says "The device is ready to resume operations".  The function
ends enabled and readable on the host, and a second error (PEC 0x3d) recovers the
same way.  At the end the guest process is gone.

The errors can be chosen (``zpcisim run passthrough-kvm --errors N --pec HEX --fid
HEX``): each round then brings N errors before the VMM wakes.  One eventfd read counts
them, the VMM GETs the queued ones (at most four; the rest are dropped and logged) and
injects each into the guest, whose driver recovers once per event; only the first
reset meets the function in the error state and becomes ``VFIO_DEVICE_RESET``.  A PEC
that concerns the measurement block reaches neither the VMM nor the guest.  A
permanent failure (0x40, 0x3b) is stored and handed to the guest all the same; the
guest's driver gives up, nobody resets the function, and the run ends after that
round.
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import (
    pci_channel_io_normal,
    pci_channel_io_perm_failure,
    pci_channel_state_t,
    pci_dev,
    pci_name,
)
from kernel.pci.access import pci_read_config_dword
from sim.drivers.nvme_like import CONTROLLER_CONFIG
from sim.host import Host
from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import (
    Mediated,
    bind_vfio_pci,
    full_queue_line,
    full_queue_lines,
    kernel_series,
    mediated,
    pecs_text,
)
from sim.timeline import Step, acting_as
from sim.vmm.qemu import Qemu
from sim.zpci.firmware import PERM_PECS, FirmwareFunction
from uapi.linux.pci_regs import PCI_BASE_ADDRESS_0

FID: Final = 0x10
VENDOR: Final = 0x144D
DEVICE: Final = 0xA808
#: where the host's firmware put BAR 0 before vfio-pci opened the function: the
#: open-time state ``reset_done`` must bring back after a reset
BAR0: Final = 0xC0000000


@scenario(
    "passthrough-kvm",
    "the cover letter: error on a function passed to a KVM guest, mediated recovery, guest drives the reset",
    errors=Errors(pecs=(0x3A, 0x3D), count=1, fid=FID, rounds=(None, None)),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    count = r.errors.count
    qemu = Qemu()
    qemu.start_guest()  # the guest's interpreter loads the kernel while the host boots
    r.keep("qemu", qemu)  # tests check the guest's process is gone
    try:
        fn = PciFunction(VENDOR, DEVICE, class_code=0x010802)
        host = r.boot({fid: fn})
        fn.config_write(PCI_BASE_ADDRESS_0, 4, BAR0)
        path = bind_vfio_pci(r, host, fid)
    except BaseException:
        qemu.guest.kill()
        raise
    r.on_exit(qemu.shutdown)
    gone: list[bool] = []
    r.on_exit(lambda: gone.append(not qemu.guest.alive()))

    with acting_as("qemu"):
        pbdev = qemu.plug(path, fid)
        status = qemu.boot_guest()
    guest_fn = status["functions"]
    r.expect(
        len(guest_fn) == 1
        and guest_fn[0]["fid"] == fid
        and guest_fn[0]["enabled"]
        and guest_fn[0].get("driver") == "nvme-like"
        and guest_fn[0].get("controller_config") == CONTROLLER_CONFIG,
        "the guest sees fid 0x10 enabled, with its NVMe-like driver bound",
    )
    r.expect(
        r.find("controller enabled", actor="guest", kind="log") is not None,
        "the guest's driver set up its controller",
    )

    # the state right after the host's reset, before the guest touches the function
    after_reset: list[int] = []

    def watch(step: Step) -> None:
        if step.actor == "qemu" and step.kind == "ioctl" and step.text.startswith("VFIO_DEVICE_RESET"):
            bar0 = fn.config_read(PCI_BASE_ADDRESS_0, 4)
            after_reset.append(bar0)
            r.note(f"BAR 0 of fid 0x{fid:x} reads 0x{bar0:08x} after the reset (0x{BAR0:08x} at open)")

    r.timeline.subscribe(watch)

    resumed = 0  # the guest driver's resume calls so far: one per record it was given
    permanent = False
    for n in range(2):
        pecs = [r.errors.pec(n * count + k) for k in range(count)]
        pec = pecs[0]
        out = mediated(pecs)
        start = r.timeline.steps[-1].seq
        for p in pecs:
            host.fw.inject_error(fid, pec=p)
            host.fw.wait_events_handled()
        # Checked only now, so that on a kernel without the series (zpcisim compare)
        # the run still shows what the host does with the error before it stops.
        r.expect(pbdev.err_handler, "the VMM's PROBE of VFIO_DEVICE_FEATURE_ZPCI_ERROR succeeds")
        r.expect(pbdev.vfio.err_eventfd >= 0, "the VMM registered its error eventfd")
        with acting_as("qemu"):
            fired = qemu.poll()
        if not out.signalled:
            _measurement_block(r, qemu, host.fw.function(fid), pecs, fired, start)
            continue
        r.expect(fired == 1, f"the VMM's error eventfd fired for error 0x{pec:x}")
        r.expect(qemu.stopped is None, "the VMM did not stop the VM")
        if count > 1:
            _fetched(r, host.pdev(fid), pecs, out, start)
        if out.perm_failed:
            _permanent(r, qemu, host, pecs, start)
            permanent = True
            break
        r.expect_order(
            ("firmware", "event", f"error event PEC 0x{pec:x}"),
            ("host", "log", f"Event 0x{pec:x} reports an error for PCI function 0x{fid:x}"),
            ("host", "irq", "eventfd_signal"),
            ("host", "log", "Leaving recovery of pass-through device to user-space"),
            ("firmware", "clp", "report: recovery, status: in progress"),
            ("qemu", "irq", "read eventfd"),
            ("qemu", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pec:x}"),
            ("qemu", "event", f"inject error event into the guest: PEC 0x{pec:x}"),
            ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
            ("qemu", "irq", "channel report (machine check) to the guest"),
            ("guest", "log", f"Event 0x{pec:x} reports an error for PCI function 0x{fid:x}"),
            ("guest", "log", "controller needs a reset"),
            ("guest", "log", "Initiating reset"),
            ("qemu", "clp", f"guest CLP disable fid 0x{fid:x} (ZPCI_FS_ERROR)"),
            ("host", "log", "Device config space inaccessible; unable to save state"),
            ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{fid:x}"),
            ("firmware", "reset", f"fid 0x{fid:x} reset by the hardware: hot reset"),
            ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{fid:x}"),
            ("qemu", "ioctl", "VFIO_DEVICE_RESET = 0"),
            ("qemu", "clp", f"guest CLP enable fid 0x{fid:x}"),
            ("guest", "log", "restarting the controller after slot reset"),
            ("guest", "log", "The device is ready to resume operations"),
            after=start,
        )
        r.expect(pbdev.resets[n:] == [0], f"VFIO_DEVICE_RESET returned 0 for error 0x{pec:x}")
        r.expect(
            after_reset[n:] == [BAR0],
            f"reset_done put back the open-time state (error 0x{pec:x})"
            if kernel_series() == "v17"
            else f"the open-time state is back without reset_done: nothing changed it (error 0x{pec:x})",
        )
        fwfn = host.fw.function(fid)
        r.expect(fwfn.enabled and not fwfn.error, f"the function is enabled, not in error (0x{pec:x})")
        pdev = host.pdev(fid)
        _, id_ = pci_read_config_dword(pdev, 0)
        r.expect(id_ == DEVICE << 16 | VENDOR, f"the host reads the vendor/device id again (0x{pec:x})")
        if n == 0:
            # As in the C: only the host's own reset path (zpci_event_do_reset) sets
            # error_state back to normal; after mediated recovery it stays frozen.
            # Said of the run it is in: a kernel without the series gives up on the
            # function and nobody resets it (zpcisim compare).
            state = pci_channel_state_t(pdev.error_state).name
            if pbdev.resets[n:]:
                r.note(f"{pci_name(pdev)} error_state is {state} after the user-space driven reset")
            else:
                r.note(f"{pci_name(pdev)} error_state is {state}: nobody reset the function")
        gstat = qemu.guest_status()
        g = gstat["functions"][0]
        r.expect(
            g["enabled"] and g["error_state"] == int(pci_channel_io_normal),
            f"the guest's function is enabled and normal again (0x{pec:x})",
        )
        r.expect(
            g.get("controller_config") == CONTROLLER_CONFIG,
            f"the guest reads its controller configuration back through the VMM (0x{pec:x})",
        )
        names = [c[0] for c in gstat["driver_calls"]]
        resumed += len(out.stored)
        r.expect(names.count("resume") == resumed, f"the guest's driver resumed (0x{pec:x})")

    if not permanent:
        r.expect(fn.config_read(PCI_BASE_ADDRESS_0, 4) == BAR0, "the host function keeps its open-time BAR")
    qemu.shutdown()
    r.expect(not qemu.guest.alive(), "the guest process is gone")


def _measurement_block(
    r: Run, qemu: Qemu, fwfn: FirmwareFunction, pecs: list[int], fired: int, start: int
) -> None:
    """A round of errors that concern the measurement block only: the host logs the
    event and does nothing else; the VMM and the guest hear nothing."""
    what = pecs_text(pecs)
    r.expect(
        fired == 0, f"the VMM's error eventfd does not fire (error {what} concerns the measurement block)"
    )
    r.expect(
        r.find("inject error event", after=start) is None, f"nothing is injected into the guest ({what})"
    )
    r.expect(fwfn.enabled and not fwfn.error, f"the function stays enabled, not in error ({what})")
    g = qemu.guest_status()["functions"][0]
    r.expect(
        g["enabled"] and g["error_state"] == int(pci_channel_io_normal),
        f"the guest's function stays enabled and normal ({what})",
    )


def _fetched(r: Run, pdev: pci_dev, pecs: list[int], out: Mediated, start: int) -> None:
    """Several errors before the VMM wakes: one eventfd read counts them, the VMM GETs
    the queued records in order and injects each; the rest were dropped, and logged."""
    what = pecs_text(pecs)
    full = [s for s in r.find_all(full_queue_line(pdev), actor="host", kind="log") if s.seq > start]
    r.expect(
        len(full) == full_queue_lines(0, out.dropped), f"{out.dropped} error(s) logged as not queued ({what})"
    )
    steps: list[str | tuple[str, str, str]] = [("qemu", "irq", f"read eventfd: counter {out.signalled}")]
    for pec in out.stored:
        steps.append(("qemu", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pec:x}"))
        steps.append(("qemu", "event", f"inject error event into the guest: PEC 0x{pec:x}"))
    steps.append(("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"))
    steps += [("guest", "log", f"Event 0x{pec:x} reports an error") for pec in out.stored]
    r.expect_order(*steps, after=start)
    resets = [s for s in r.find_all("VFIO_DEVICE_RESET", actor="qemu", kind="ioctl") if s.seq > start]
    r.expect(
        len(resets) == (0 if out.perm_failed else 1),
        f"one VFIO_DEVICE_RESET: the guest resets the function in the error state once ({what})"
        if not out.perm_failed
        else f"no VFIO_DEVICE_RESET ({what})",
    )


def _permanent(r: Run, qemu: Qemu, host: Host, pecs: list[int], start: int) -> None:
    """A round with a permanent-failure PEC: the host stores the record and signals
    the VMM, which hands it to the guest; the guest's driver gives up, nobody resets
    the function, and the run ends after the round."""
    fid = r.errors.fid
    pec = next(p for p in pecs if p in PERM_PECS)
    name = pci_name(host.pdev(fid))
    r.expect_order(
        ("firmware", "event", f"error event PEC 0x{pecs[0]:x}"),
        ("host", "log", f"Event 0x{pecs[0]:x} reports an error for PCI function 0x{fid:x}"),
        ("host", "irq", "eventfd_signal"),
        ("qemu", "irq", "read eventfd"),
        ("qemu", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pecs[0]:x}"),
        ("qemu", "event", f"inject error event into the guest: PEC 0x{pecs[0]:x}"),
        ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("qemu", "irq", "channel report (machine check) to the guest"),
        ("guest", "log", f"Event 0x{pec:x} reports an error for PCI function 0x{fid:x}"),
        ("guest", "log", f"nvme-like {name}: permanent failure detected, giving up on the controller"),
        after=start,
    )
    if all(p in PERM_PECS for p in pecs):
        r.expect(
            r.find("Leaving recovery", after=start) is None, "a permanent failure is not left to user-space"
        )
    r.expect(
        r.find("VFIO_DEVICE_RESET", after=start) is None, "nobody resets a function that failed for good"
    )
    fwfn = host.fw.function(fid)
    r.expect(fwfn.perm_failed, f"the firmware marks fid 0x{fid:x} permanently failed")
    r.expect(
        host.pdev(fid).error_state == pci_channel_io_perm_failure,
        "the host's function is in pci_channel_io_perm_failure",
    )
    g = qemu.guest_status()["functions"][0]
    r.expect(
        g["error_state"] == int(pci_channel_io_perm_failure),
        "the guest's function is in pci_channel_io_perm_failure",
    )
    r.note(f"fid 0x{fid:x} failed for good: the run ends after this round", actor="qemu")
