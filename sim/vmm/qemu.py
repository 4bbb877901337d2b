"""A QEMU-like VMM for an s390x KVM guest with vfio-pci pass-through functions: the
userspace half of the cover letter's flow.

What it does follows QEMU's s390x vfio code (the v3 series "s390x/pci: Add PCI error
handling for vfio pci devices", with the v17 kernel semantics -- GET until -ENOMSG --
instead of that series' ``pending_errors`` count):

* :meth:`Qemu.plug` (``s390_pcihost_plug()`` of a vfio-pci device): open the device
  file, link the VM to it (``KVM_DEV_VFIO_FILE_ADD``) before the bind, bind to the
  iommufd, read the zPCI information, register the error eventfd, and PROBE
  ``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` (``s390_pci_setup_err_handler()``): on -ENOTTY
  the VMM says "Automated error recovery unavailable for device" and installs no
  handler;
* :meth:`Qemu.poll` (the main loop's fd handler, ``vfio_err_notifier_handler()``):
  when the error eventfd is readable, the handler (``s390_pci_err_handler()``)
  fetches records with GET until -ENOMSG, marks the function in error and injects one
  error event per record into the guest (PEC, the guest's fh and fid, and the
  record's other CCDF fields); then raises a channel report in the guest and serves
  the guest until it has handled the events.  Without a handler, or when GET fails
  with anything but -ENOMSG, the VMM stops the VM as QEMU does ("Unrecoverable error
  detected");
* while the guest runs, the guest's instructions are answered by
  :class:`sim.vmm.zpci.S390PciHost`; a CLP disable of a function in the error state
  becomes ``VFIO_DEVICE_RESET`` on the host (v3 5/5).

The guest is the ported kernel in its own process (:mod:`sim.guest`);
:meth:`Qemu.start_guest` starts its interpreter early so that it loads while the host
is set up, and :meth:`Qemu.boot_guest` boots it.  Guest kernel log lines go into the
run's timeline as actor ``guest``, exactly as the guest kernel prints them.  The
guest kernel's lockdep reports and WARNs go into the timeline's
:attr:`~sim.timeline.Timeline.reports` (and :attr:`Qemu.guest_reports`), and the
guest command during which they came raises
:class:`~sim.guest.process.GuestReported`: the VMM ends the run there, and the run
fails naming the report.
"""

from __future__ import annotations

import errno
from types import TracebackType
from typing import Any

from kernel.lib.printk import KERN_INFO
from kernel.s390.include.asm.kvm_host import kvm
from sim import timeline
from sim.guest.process import GuestError, GuestProcess, GuestReported
from sim.record import record_running
from sim.vmm.vfio import VfioPciDevice, record
from sim.vmm.zpci import GUEST_FACILITIES, S390PCIBusDevice, S390PciHost, ZpciFsState

__all__ = ["GuestError", "GuestReported", "Qemu"]


class Qemu:
    """One VM: its KVM, its zPCI host bridge, its guest process."""

    def __init__(self, *, guest_log_level: int = KERN_INFO, timeout: float = 20.0) -> None:
        self.kvm = kvm()
        self.phb = S390PciHost()
        self.guest_log_level = guest_log_level
        self.guest = GuestProcess(
            self.phb.handle, self._guest_log, timeout=timeout, on_report=self._guest_report
        )
        self.stopped: str | None = None
        self.guest_log: list[str] = []
        #: the guest kernel's lockdep reports and WARNs, ``(kind, text)``
        self.guest_reports: list[tuple[str, str]] = []

    # -- the guest ----------------------------------------------------------------------

    def _guest_log(
        self,
        level: int,
        text: str,
        function: str | None = None,
        source: str | None = None,
        running: list[tuple[str, str]] | None = None,
    ) -> None:
        self.guest_log.append(text)
        if level <= self.guest_log_level:
            tl = timeline.current()
            if tl is not None:
                record_running(
                    tl, running or (), "guest", "log", text, level=level, function=function, source=source
                )

    def _guest_report(self, kind: str, text: str) -> None:
        self.guest_reports.append((kind, text))
        tl = timeline.current()
        if tl is not None:
            tl.report("guest", kind, text)

    def start_guest(self) -> None:
        """Start the guest's interpreter; it loads the kernel in the background."""
        self.guest.start()
        record("note", "guest process started")

    def boot_guest(self, **config: bool) -> dict[str, Any]:
        """Boot the guest kernel on this VMM and register its NVMe-like driver for
        the plugged functions; returns the guest's view of its functions."""
        drivers = sorted({(p.vendor_id, p.device_id) for p in self.phb.devices})
        record("note", f"boot the guest kernel ({len(self.phb.devices)} zPCI function(s))")
        status: dict[str, Any] = self.guest.call("boot", list(GUEST_FACILITIES), config, drivers)
        return status

    def guest_status(self) -> dict[str, Any]:
        status: dict[str, Any] = self.guest.call("status")
        return status

    # -- plugging -------------------------------------------------------------------------

    def plug(self, path: str, fid: int, uid: int | None = None) -> S390PCIBusDevice:
        """Hand the host function behind ``path`` to the guest as function ``fid``."""
        vfio = VfioPciDevice(path, self.kvm)
        vfio.realize()
        pbdev = self.phb.add(vfio, fid, fid if uid is None else uid)
        self.setup_err_handler(pbdev)
        return pbdev

    def setup_err_handler(self, pbdev: S390PCIBusDevice) -> bool:
        """``s390_pci_setup_err_handler()``: PROBE the error feature."""
        ret = pbdev.vfio.probe_zpci_error()
        if ret != 0:
            if ret == -errno.ENOTTY:
                record("note", "Automated error recovery unavailable for device")
            else:
                record("note", f"Failed to probe for VFIO_DEVICE_FEATURE_ZPCI_ERROR (ret={ret})")
            return False
        pbdev.err_handler = True
        return True

    # -- errors ---------------------------------------------------------------------------

    def poll(self) -> int:
        """One turn of the main loop over the error eventfds; how many fired."""
        fired = 0
        for pbdev in self.phb.devices:
            if not pbdev.vfio.err_notifier_readable():
                continue
            record(
                "irq",
                f"the error eventfd of fid 0x{pbdev.fid:x} is readable",
                fid=pbdev.fid,
            )
            if pbdev.vfio.err_notifier_test_and_clear():
                fired += 1
                self.vfio_err_notifier_handler(pbdev)
        return fired

    def vfio_err_notifier_handler(self, pbdev: S390PCIBusDevice) -> None:
        if pbdev.err_handler and self.s390_pci_err_handler(pbdev):
            return
        self.stopped = "internal-error"
        record(
            "note",
            f"vfio_err_notifier_handler({pbdev.vfio.path}) Unrecoverable error detected. "
            "Please collect any data possible and then kill the guest",
        )

    def s390_pci_err_handler(self, pbdev: S390PCIBusDevice) -> bool:
        """Fetch every pending record (GET until -ENOMSG), inject each into the guest,
        and let the guest handle them.  False when GET fails otherwise."""
        injected = 0
        while True:
            ret, err = pbdev.vfio.get_zpci_error()
            if ret == -errno.ENOMSG:
                break
            if ret or err is None:
                return False
            pbdev.state = ZpciFsState.ZPCI_FS_ERROR
            self.phb.generate_error_event(
                err.pec,
                pbdev.fh,
                pbdev.fid,
                ett=err.ett,
                mvn=err.mvn,
                dmaas=err.dmaas,
                q=err.q,
                rw=err.rw,
                faddr=err.faddr,
            )
            injected += 1
        if injected:
            self.raise_guest_crw()
        return True

    def raise_guest_crw(self) -> None:
        """A channel report in the guest; serve it until its events are handled."""
        record("irq", "channel report (machine check) to the guest")
        if not self.guest.call("crw"):
            raise GuestError("guest: did not handle its events in time")

    # -- the end ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop the guest (killing it if need be) and close the device files."""
        if self.guest.alive():
            record("note", "shut down: stop the guest, close the device files")
        try:
            self.guest.stop()
        finally:
            for pbdev in self.phb.devices:
                pbdev.vfio.close()

    def __enter__(self) -> Qemu:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is not None:
            self.guest.kill()
        self.shutdown()
