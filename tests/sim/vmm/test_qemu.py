"""sim/vmm/qemu.py: plugging a function and the error eventfd, without a guest."""

from __future__ import annotations

from kernel.lib.printk import dmesg
from sim.host import Host
from sim.pci.function import PciFunction
from sim.timeline import Timeline, acting_as, use
from sim.vmm.qemu import Qemu

FID = 0x10


def test_plug_without_the_error_feature_installs_no_handler_and_an_error_stops_the_vm() -> None:
    host = Host.boot({FID: PciFunction(0x144D, 0xA808)}, CONFIG_VFIO_PCI_ZDEV_KVM=False)
    tl = Timeline()
    q = Qemu()
    try:
        with use(tl), acting_as("qemu"):
            pbdev = q.plug(host.bind_vfio_pci(FID), FID)
            assert not pbdev.err_handler
            assert pbdev.vfio.err_eventfd >= 0
            assert q.poll() == 0
            host.fw.inject_error(FID, pec=0x3A)
            host.fw.wait_events_handled()
            assert q.poll() == 1
        texts = [s.text for s in tl.steps if s.actor == "qemu"]
        assert "VFIO_DEVICE_FEATURE(PROBE|ZPCI_ERROR) = -ENOTTY" in texts
        assert "Automated error recovery unavailable for device" in texts
        assert q.stopped == "internal-error"
        assert any("Unrecoverable error detected" in t for t in texts)
        assert not any("GET|ZPCI_ERROR" in t for t in texts)
        assert q.phb.events == type(q.phb.events)()
    finally:
        q.shutdown()
        host.shutdown()
    assert any("Event 0x3a reports an error" in line.text for line in dmesg())


def test_plug_links_the_vm_before_the_bind_and_registers_the_error_eventfd() -> None:
    host = Host.boot({FID: PciFunction(0x144D, 0xA808)})
    tl = Timeline()
    q = Qemu()
    try:
        with use(tl), acting_as("qemu"):
            pbdev = q.plug(host.bind_vfio_pci(FID), FID)
        assert pbdev.err_handler and pbdev.vfio.pci_aer
        order = [s.request for s in tl.steps if s.kind == "ioctl"]
        assert order[:2] == ["KVM_DEV_VFIO_FILE_ADD", "VFIO_DEVICE_BIND_IOMMUFD"]
        assert "VFIO_DEVICE_SET_IRQS" in order
        assert pbdev.vfio.zpci_base is not None and pbdev.vfio.zpci_base.pchid == 0x2C
        assert (pbdev.vendor_id, pbdev.device_id) == (0x144D, 0xA808)
    finally:
        q.shutdown()
        host.shutdown()
