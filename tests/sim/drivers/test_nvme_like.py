"""sim/drivers/nvme_like.py: the host drivers' error handlers and their log lines."""

from __future__ import annotations

from kernel.include.linux.pci import PCI_ERS_RESULT_CAN_RECOVER
from kernel.lib.printk import KERN_INFO, dmesg
from kernel.pci.pci_driver import pci_register_driver
from sim.drivers.nvme_like import CONTROLLER_CONFIG, NvmeLikeDriver, PlainDriver
from sim.host import Host
from sim.pci.function import PciFunction


def test_need_reset_path_restarts_the_controller() -> None:
    host = Host.boot({0x10: PciFunction(0x144D, 0xA808)})
    try:
        drv = NvmeLikeDriver(0x144D, 0xA808)
        assert pci_register_driver(drv.driver) == 0
        pdev = host.pdev(0x10)
        host.fw.inject_error(0x10, pec=0x3A)
        host.fw.wait_events_handled()
        assert drv.names() == ["error_detected", "slot_reset", "resume"]
        assert drv.calls[0] == ("error_detected", "0000:00:00.0", "frozen")
        assert drv.controller_config(pdev) == CONTROLLER_CONFIG
        texts = [line.text for line in dmesg(KERN_INFO)]
        assert "nvme-like 0000:00:00.0: restarting the controller after slot reset" in texts
    finally:
        host.shutdown()


def test_can_recover_path_goes_through_mmio_enabled() -> None:
    host = Host.boot({0x10: PciFunction(0x144D, 0xA808)})
    try:
        drv = NvmeLikeDriver(0x144D, 0xA808, frozen_result=PCI_ERS_RESULT_CAN_RECOVER)
        assert pci_register_driver(drv.driver) == 0
        host.fw.inject_error(0x10, pec=0x3A)
        host.fw.wait_events_handled()
        assert drv.names() == ["error_detected", "mmio_enabled", "resume"]
        assert not host.fw.function(0x10).error
    finally:
        host.shutdown()


def test_driver_without_handlers_leaves_the_function_failed() -> None:
    host = Host.boot({0x11: PciFunction(0x1AF4, 0x1000)})
    try:
        drv = PlainDriver(0x1AF4, 0x1000)
        assert pci_register_driver(drv.driver) == 0
        assert drv.driver.err_handler is None
        host.fw.inject_error(0x11, pec=0x3A)
        host.fw.wait_events_handled()
        texts = [line.text for line in dmesg(KERN_INFO)]
        assert (
            "zpci: 0000:00:00.0: The plain-nic driver bound to the device does not support error recovery"
            in texts
        )
        assert host.fw.function(0x11).error
    finally:
        host.shutdown()
