"""kernel/pci/probe.py, search.py, bus.py and remove.py: scanning a root bus of
function models into pci_devs, references, and removal."""

from __future__ import annotations

from kernel.include.linux.pci import PCI_DEVFN, pci_dev_is_added
from kernel.lib.kref import kref_read
from kernel.lib.printk import dmesg
from kernel.pci.probe import pci_dev_put, pci_root_buses, pci_scan_single_device
from kernel.pci.remove import pci_stop_and_remove_bus_device_locked
from kernel.pci.search import pci_find_bus, pci_get_slot
from sim.pci.function import EXP_CAP_OFFSET, MSIX_CAP_OFFSET, PM_CAP_OFFSET, PciFunction
from sim.pci.hostbridge import PciHostBridge
from uapi.linux.pci_regs import PCI_EXP_DEVCAP_FLR, PCI_EXP_TYPE_RC_END


def test_scan_creates_pci_dev_with_name_ids_and_capabilities() -> None:
    hb = PciHostBridge(domain=0x12)
    hb.add_function(PCI_DEVFN(3, 0), PciFunction(0x1014, 0x044B, class_code=0x020000, revision=2, msix=True))
    bus = hb.scan()

    assert [d.dev.init_name for d in bus.devices] == ["0012:00:03.0"]
    dev = bus.devices[0]
    assert (dev.vendor, dev.device, dev.class_, dev.revision) == (0x1014, 0x044B, 0x020000, 2)
    assert dev.multifunction is False
    assert dev.pcie_cap == EXP_CAP_OFFSET
    assert dev.devcap & PCI_EXP_DEVCAP_FLR
    assert dev.pm_cap == PM_CAP_OFFSET
    assert dev.msix_cap == MSIX_CAP_OFFSET
    assert dev.msi_cap == 0
    assert dev.cfg_size == 4096
    assert dev.pin == 1
    assert dev.dev.parent is bus.bridge
    assert pci_dev_is_added(dev)
    texts = [line.text for line in dmesg()]
    assert "PCI host bridge to bus 0012:00" in texts
    assert "pci 0012:00:03.0: [1014:044b] type 00 class 0x020000 PCIe Endpoint" in texts


def test_scan_finds_functions_of_a_multifunction_device_only() -> None:
    hb = PciHostBridge()
    for fn in range(3):
        hb.add_function(PCI_DEVFN(0, fn), PciFunction(0x1014, 0x1000 + fn, multifunction=True))
    # Function 1 of a single-function device is not looked for.
    hb.add_function(PCI_DEVFN(1, 0), PciFunction(0x1014, 0x2000))
    hb.add_function(PCI_DEVFN(1, 1), PciFunction(0x1014, 0x2001))
    bus = hb.scan()
    assert [d.dev.init_name for d in bus.devices] == [
        "0000:00:00.0",
        "0000:00:00.1",
        "0000:00:00.2",
        "0000:00:01.0",
    ]
    assert [d.multifunction for d in bus.devices] == [True, True, True, False]


def test_conventional_function_has_no_pcie_cap_and_256_byte_config() -> None:
    hb = PciHostBridge()
    hb.add_function(0, PciFunction(0x1014, 0x04ED, pcie=False, pm=False))
    dev = hb.scan().devices[0]
    assert (dev.pcie_cap, dev.devcap, dev.pm_cap, dev.cfg_size) == (0, 0, 0, 256)
    assert "pci 0000:00:00.0: [1014:04ed] type 00 class 0x020000 conventional PCI endpoint" in [
        line.text for line in dmesg()
    ]


def test_pcie_port_type_comes_from_the_capability() -> None:
    hb = PciHostBridge()
    hb.add_function(0, PciFunction(0x1014, 0x044B, pcie_type=PCI_EXP_TYPE_RC_END))
    dev = hb.scan().devices[0]
    assert dev.pcie_flags_reg >> 4 & 0xF == PCI_EXP_TYPE_RC_END
    assert "pci 0000:00:00.0: [1014:044b] type 00 class 0x020000 PCIe Root Complex Integrated Endpoint" in [
        line.text for line in dmesg()
    ]


def test_inaccessible_function_is_not_found() -> None:
    hb = PciHostBridge()
    fn = PciFunction(0x1014, 0x044B)
    fn.set_accessible(False)
    hb.add_function(0, fn)
    assert hb.scan().devices == []


def test_pci_get_slot_takes_a_reference_and_put_drops_it() -> None:
    hb = PciHostBridge()
    hb.add_function(PCI_DEVFN(2, 0), PciFunction(0x1014, 0x044B))
    bus = hb.scan()
    dev = bus.devices[0]
    before = kref_read(dev.dev.kref)

    got = pci_get_slot(bus, PCI_DEVFN(2, 0))
    assert got is dev
    assert kref_read(dev.dev.kref) == before + 1
    pci_dev_put(got)
    assert kref_read(dev.dev.kref) == before
    assert pci_get_slot(bus, PCI_DEVFN(3, 0)) is None


def test_scan_single_device_returns_existing_device_without_reference() -> None:
    hb = PciHostBridge()
    hb.add_function(0, PciFunction(0x1014, 0x044B))
    bus = hb.scan()
    dev = bus.devices[0]
    before = kref_read(dev.dev.kref)
    assert pci_scan_single_device(bus, 0) is dev
    assert kref_read(dev.dev.kref) == before
    assert len(bus.devices) == 1


def test_find_bus_by_domain_and_number() -> None:
    a, b = PciHostBridge(domain=1), PciHostBridge(domain=2)
    bus_a, bus_b = a.scan(), b.scan()
    assert pci_find_bus(1, 0) is bus_a
    assert pci_find_bus(2, 0) is bus_b
    assert pci_find_bus(3, 0) is None
    assert pci_root_buses == [bus_a, bus_b]


def test_second_root_bus_with_same_number_is_refused() -> None:
    PciHostBridge(domain=5).scan()
    dup = PciHostBridge(domain=5)
    try:
        dup.scan()
    except RuntimeError as e:
        assert "exists already" in str(e)
    else:
        raise AssertionError("duplicate root bus was created")


def test_remove_device_drops_it_from_bus_and_releases_it() -> None:
    hb = PciHostBridge()
    hb.add_function(0, PciFunction(0x1014, 0x044B))
    bus = hb.scan()
    dev = bus.devices[0]
    bus_refs = kref_read(bus.dev.kref)
    pci_stop_and_remove_bus_device_locked(dev)
    assert bus.devices == []
    assert kref_read(dev.dev.kref) == 0
    # The release dropped the device's reference on its bus.
    assert kref_read(bus.dev.kref) == bus_refs - 1
    assert "pci 0000:00:00.0: device released" in [line.text for line in dmesg()]


def test_remove_root_bus_forgets_it() -> None:
    hb = PciHostBridge(domain=7)
    hb.add_function(0, PciFunction(0x1014, 0x044B))
    hb.scan()
    hb.remove()
    assert pci_find_bus(7, 0) is None
    assert pci_root_buses == []
