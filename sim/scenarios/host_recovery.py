"""host-recovery: functions bound to host drivers recover in the host, as before the
series.

fid 0x10 is an NVMe-like function driven by :class:`sim.drivers.nvme_like.NvmeLikeDriver`.
A first error (PEC 0x3a): the driver asks for a reset, the platform disables and
re-enables the function (a hot reset), the driver restores its state, and the host
logs "The device is ready to resume operations".  A second error, with the driver
answering CAN_RECOVER: the host unblocks load/store (MPCIFC Reset Block), the
driver checks the controller, DMA is unblocked (Reset Error), and the function
resumes without a reset.  fid 0x11 is bound to a driver without error handlers:
its error cannot be recovered, and the function stays in the error state.

The errors can be chosen (``zpcisim run host-recovery --errors N --pec HEX --fid
HEX``): each of the three rounds brings N errors, one after the other, PECs taken in
turn; ``--fid`` is the NVMe-like function's.  Each error recovers as its round's
first does; a PEC that concerns the measurement block (0x2a-0x2c) changes nothing
and no driver hears of it; a permanent-failure PEC (0x40, 0x3b) is reported to the
driver as ``pci_channel_io_perm_failure`` -- the NVMe-like driver gives up, and its
function gets no second round.
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import PCI_ERS_RESULT_CAN_RECOVER, pci_channel_io_perm_failure, pci_name
from kernel.pci.access import pci_read_config_word
from kernel.pci.pci_driver import pci_register_driver
from sim.drivers.nvme_like import CONTROLLER_CONFIG, NvmeLikeDriver, PlainDriver
from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import pecs_text
from sim.zpci.firmware import FMB_PECS, PERM_PECS
from uapi.linux.pci_regs import PCI_COMMAND, PCI_COMMAND_MASTER

NVME: Final = 0x10
NIC: Final = 0x11


@scenario(
    "host-recovery",
    "a function bound to a host driver recovers in the host, as before the series",
    errors=Errors(pecs=(0x3A,), count=1, fid=NVME, fixed_fids=(NIC,), rounds=(None, None, NIC)),
)
def run(r: Run) -> None:
    fid, count = r.errors.fid, r.errors.count
    rounds = [[r.errors.pec(k * count + n) for n in range(count)] for k in range(3)]
    host = r.boot(
        {
            fid: PciFunction(0x144D, 0xA808, class_code=0x010802),
            NIC: PciFunction(0x1AF4, 0x1000),
        }
    )
    nvme = NvmeLikeDriver(0x144D, 0xA808)
    plain = PlainDriver(0x1AF4, 0x1000)
    r.expect(pci_register_driver(nvme.driver) == 0, "the NVMe-like driver registers")
    r.expect(pci_register_driver(plain.driver) == 0, "the driver without error handlers registers")
    pdev = host.pdev(fid)
    name = pci_name(pdev)
    r.expect(nvme.bound == [pdev], f"the NVMe-like driver binds fid 0x{fid:x}")
    calls: list[str] = []  # what the NVMe-like driver should have been called for
    perm = False

    def error(target: int, pec: int) -> tuple[int, bool]:
        """Raise one error; the last step before it, and whether a driver hears of it."""
        start = r.timeline.steps[-1].seq
        host.fw.inject_error(target, pec=pec)
        host.fw.wait_events_handled()
        dev = pci_name(host.pdev(target))
        r.expect_order(
            ("firmware", "event", f"error event PEC 0x{pec:x} for fid 0x{target:x}"),
            ("host", "log", f"zpci: {dev}: Event 0x{pec:x} reports an error for PCI function 0x{target:x}"),
            after=start,
        )
        if pec in FMB_PECS:
            r.expect(
                r.find("error detected", after=start) is None
                and r.find("Initiating reset", after=start) is None,
                f"PEC 0x{pec:x} concerns the measurement block: no driver hears of it, no reset",
            )
            return start, False
        return start, True

    def gives_up(pec: int, start: int) -> None:
        nonlocal perm
        perm = True
        calls.append("error_detected")
        r.expect_step(
            f"nvme-like {name}: permanent failure detected, giving up on the controller",
            actor="host",
            kind="log",
            after=start,
        )
        r.expect(r.find("Initiating reset", after=start) is None, f"no reset after PEC 0x{pec:x}")

    # 1: the driver needs a reset
    for pec in rounds[0]:
        start, heard = error(fid, pec)
        if not heard:
            continue
        if perm or pec in PERM_PECS:
            gives_up(pec, start)
            continue
        calls += ["error_detected", "slot_reset", "resume"]
        r.expect_order(
            ("host", "log", f"nvme-like {name}: frozen state error detected, controller needs a reset"),
            ("host", "log", f"zpci: {name}: Initiating reset"),
            ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{fid:x}"),
            ("firmware", "reset", f"fid 0x{fid:x} reset by the hardware: hot reset"),
            ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{fid:x}"),
            ("host", "log", f"nvme-like {name}: restarting the controller after slot reset"),
            ("host", "log", f"zpci: {name}: The device is ready to resume operations"),
            ("host", "log", f"nvme-like {name}: resuming I/O"),
            after=start,
        )
        r.expect(
            r.find("Leaving recovery", after=start) is None, "the host does not leave recovery to user-space"
        )
        _, cmd = pci_read_config_word(pdev, PCI_COMMAND)
        r.expect(cmd & PCI_COMMAND_MASTER, "the saved Command register (bus master) is restored")
        r.expect(nvme.controller_config(pdev) == CONTROLLER_CONFIG, "the controller is programmed again")

    # 2: the driver can recover without a reset
    nvme.frozen_result = PCI_ERS_RESULT_CAN_RECOVER
    if perm:
        r.note(f"fid 0x{fid:x} failed for good: no second round")
    for pec in [] if perm else rounds[1]:
        start, heard = error(fid, pec)
        if not heard:
            continue
        if perm or pec in PERM_PECS:
            gives_up(pec, start)
            continue
        calls += ["error_detected", "mmio_enabled", "resume"]
        r.expect_order(
            ("host", "log", "frozen state error detected, trying to recover without a reset"),
            ("host", "log", f"zpci: {name}: Unblocking device access for examination"),
            ("firmware", "clp", f"MPCIFC Reset Block fid 0x{fid:x}: cc 0"),
            ("host", "log", f"nvme-like {name}: MMIO enabled, controller reachable (CC 0x00460001)"),
            ("firmware", "clp", f"MPCIFC Reset Error fid 0x{fid:x}: cc 0"),
            ("host", "log", "The device is ready to resume operations"),
            ("host", "log", "resuming I/O"),
            after=start,
        )
        r.expect(r.find("Initiating reset", after=start) is None, "no reset the second time")
    fn = host.fw.function(fid)
    if perm:
        r.expect(fn.perm_failed, f"the firmware marks fid 0x{fid:x} permanently failed")
    else:
        r.expect(fn.enabled and not fn.error, f"fid 0x{fid:x} ends enabled and out of the error state")

    # 3: a driver without error handlers
    nic = host.pdev(NIC)
    nic_failed = False
    for pec in rounds[2]:
        start, heard = error(NIC, pec)
        if not heard:
            continue
        unsupported = (
            f"zpci: {pci_name(nic)}: The plain-nic driver bound to the device does not support error recovery"
        )
        if nic_failed or pec in PERM_PECS:
            # nothing to tell a driver without error handlers, nothing to try
            r.expect(r.find(unsupported, after=start) is None, f"PEC 0x{pec:x}: no recovery is tried")
        else:
            r.expect_step(unsupported, actor="host", kind="log", after=start)
        nic_failed = True
    what = pecs_text(rounds[2])
    if nic_failed:
        r.expect(host.fw.function(NIC).error, f"fid 0x{NIC:x} stays in the error state")
        r.expect(nic.error_state == pci_channel_io_perm_failure, f"fid 0x{NIC:x} is marked perm_failure")
    else:
        r.expect(not host.fw.function(NIC).error, f"fid 0x{NIC:x} is not in error (error {what})")
    said = "/".join(dict.fromkeys(calls)) or "nothing"
    r.expect(nvme.names() == calls, f"the NVMe-like driver saw {said}, in that order ({len(calls)} calls)")
