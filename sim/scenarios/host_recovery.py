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
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import PCI_ERS_RESULT_CAN_RECOVER, pci_channel_io_perm_failure
from kernel.pci.access import pci_read_config_word
from kernel.pci.pci_driver import pci_register_driver
from sim.drivers.nvme_like import CONTROLLER_CONFIG, NvmeLikeDriver, PlainDriver
from sim.pci.function import PciFunction
from sim.scenarios import Run, scenario
from uapi.linux.pci_regs import PCI_COMMAND, PCI_COMMAND_MASTER

NVME: Final = 0x10
NIC: Final = 0x11


@scenario("host-recovery", "a function bound to a host driver recovers in the host, as before the series")
def run(r: Run) -> None:
    host = r.boot(
        {
            NVME: PciFunction(0x144D, 0xA808, class_code=0x010802),
            NIC: PciFunction(0x1AF4, 0x1000),
        }
    )
    nvme = NvmeLikeDriver(0x144D, 0xA808)
    plain = PlainDriver(0x1AF4, 0x1000)
    r.expect(pci_register_driver(nvme.driver) == 0, "the NVMe-like driver registers")
    r.expect(pci_register_driver(plain.driver) == 0, "the driver without error handlers registers")
    pdev = host.pdev(NVME)
    r.expect(nvme.bound == [pdev], "the NVMe-like driver binds fid 0x10")

    # 1: the driver needs a reset
    start = r.timeline.steps[-1].seq
    host.fw.inject_error(NVME, pec=0x3A)
    host.fw.wait_events_handled()
    r.expect_order(
        ("firmware", "event", "error event PEC 0x3a for fid 0x10"),
        ("host", "log", "Event 0x3a reports an error for PCI function 0x10"),
        ("host", "log", "nvme-like 0000:00:00.0: frozen state error detected, controller needs a reset"),
        ("host", "log", "zpci: 0000:00:00.0: Initiating reset"),
        ("firmware", "clp", "CLP Set PCI Function disable fid 0x10"),
        ("firmware", "reset", "fid 0x10 reset by the hardware: hot reset"),
        ("firmware", "clp", "CLP Set PCI Function enable fid 0x10"),
        ("host", "log", "nvme-like 0000:00:00.0: restarting the controller after slot reset"),
        ("host", "log", "zpci: 0000:00:00.0: The device is ready to resume operations"),
        ("host", "log", "nvme-like 0000:00:00.0: resuming I/O"),
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
    start = r.timeline.steps[-1].seq
    host.fw.inject_error(NVME, pec=0x3A)
    host.fw.wait_events_handled()
    r.expect_order(
        ("host", "log", "Event 0x3a reports an error for PCI function 0x10"),
        ("host", "log", "frozen state error detected, trying to recover without a reset"),
        ("host", "log", "zpci: 0000:00:00.0: Unblocking device access for examination"),
        ("firmware", "clp", "MPCIFC Reset Block fid 0x10: cc 0"),
        ("host", "log", "nvme-like 0000:00:00.0: MMIO enabled, controller reachable (CC 0x00460001)"),
        ("firmware", "clp", "MPCIFC Reset Error fid 0x10: cc 0"),
        ("host", "log", "The device is ready to resume operations"),
        ("host", "log", "resuming I/O"),
        after=start,
    )
    r.expect(r.find("Initiating reset", after=start) is None, "no reset the second time")
    fn = host.fw.function(NVME)
    r.expect(fn.enabled and not fn.error, "fid 0x10 ends enabled and out of the error state")

    # 3: a driver without error handlers
    start = r.timeline.steps[-1].seq
    host.fw.inject_error(NIC, pec=0x3A)
    host.fw.wait_events_handled()
    r.expect_step(
        "zpci: 0001:00:00.0: The plain-nic driver bound to the device does not support error recovery",
        actor="host",
        kind="log",
        after=start,
    )
    r.expect(host.fw.function(NIC).error, "fid 0x11 stays in the error state")
    r.expect(host.pdev(NIC).error_state == pci_channel_io_perm_failure, "fid 0x11 is marked perm_failure")
    r.expect(
        nvme.names()
        == ["error_detected", "slot_reset", "resume", "error_detected", "mmio_enabled", "resume"],
        "the NVMe-like driver saw detected/slot_reset/resume, then detected/mmio_enabled/resume",
    )
