"""kernel/pci/pci_driver.py: registering PCI drivers, binding and unbinding, the
driver_override/bind path and the error-recovery uevents."""

from __future__ import annotations

import errno

import pytest

from kernel.include.linux.pci import (
    PCI_ANY_ID,
    PCI_ERS_RESULT_CAN_RECOVER,
    PCI_ERS_RESULT_DISCONNECT,
    PCI_ERS_RESULT_NEED_RESET,
    PCI_ERS_RESULT_NO_AER_DRIVER,
    PCI_ERS_RESULT_NONE,
    PCI_ERS_RESULT_RECOVERED,
    pci_dev,
    pci_device_id,
    pci_driver,
    pci_ers_result_t,
)
from kernel.lib import kobject
from kernel.lib.device import device_lock_assert
from kernel.lib.kref import kref_read
from kernel.lib.printk import dmesg
from kernel.pci.pci_driver import (
    bind_store,
    driver_override_store,
    drivers_probe_store,
    pci_register_driver,
    pci_uevent_ers,
    pci_unregister_driver,
    to_pci_driver,
    unbind_store,
)
from sim.pci.function import PciFunction
from sim.pci.hostbridge import PciHostBridge


class Recorder:
    def __init__(self, name: str, ids: list[pci_device_id] | None, rc: int = 0) -> None:
        self.events: list[tuple[str, str]] = []
        self.rc = rc
        self.drv = pci_driver(name=name, id_table=ids, probe=self.probe, remove=self.remove)

    def probe(self, pdev: pci_dev, id: pci_device_id | None) -> int:
        device_lock_assert(pdev.dev)  # called under device_lock
        self.events.append(("probe", pdev.dev.init_name))
        return self.rc

    def remove(self, pdev: pci_dev) -> None:
        device_lock_assert(pdev.dev)
        self.events.append(("remove", pdev.dev.init_name))


def one_device(vendor: int = 0x1014, device: int = 0x044B) -> pci_dev:
    hb = PciHostBridge()
    hb.add_function(0, PciFunction(vendor, device))
    return hb.scan().devices[0]


def test_register_binds_matching_device_and_unregister_unbinds() -> None:
    pdev = one_device()
    refs = kref_read(pdev.dev.kref)
    rec = Recorder("mlx", [pci_device_id(vendor=0x1014, device=0x044B)])
    assert pci_register_driver(rec.drv) == 0
    assert rec.events == [("probe", "0000:00:00.0")]
    assert pdev.driver is rec.drv
    assert to_pci_driver(pdev.dev.driver) is rec.drv
    assert kref_read(pdev.dev.kref) == refs + 1  # probe holds a reference

    pci_unregister_driver(rec.drv)
    assert rec.events[-1] == ("remove", "0000:00:00.0")
    assert pdev.driver is None and pdev.dev.driver is None
    assert kref_read(pdev.dev.kref) == refs


def test_device_scanned_after_registration_is_bound() -> None:
    rec = Recorder("any", [pci_device_id(vendor=0x1014, device=PCI_ANY_ID)])
    pci_register_driver(rec.drv)
    pdev = one_device()
    assert pdev.driver is rec.drv


def test_non_matching_driver_does_not_bind() -> None:
    pdev = one_device()
    rec = Recorder("other", [pci_device_id(vendor=0x8086, device=PCI_ANY_ID)])
    pci_register_driver(rec.drv)
    assert rec.events == [] and pdev.driver is None


def test_failing_probe_leaves_device_unbound_and_logs() -> None:
    pdev = one_device()
    rec = Recorder("bad", [pci_device_id(vendor=0x1014, device=PCI_ANY_ID)], rc=-errno.EIO)
    pci_register_driver(rec.drv)
    assert pdev.driver is None and pdev.dev.driver is None
    assert "pci 0000:00:00.0: probe with driver bad failed with error -5" in [line.text for line in dmesg()]


def test_positive_probe_return_is_success_with_warning() -> None:
    pdev = one_device()
    rec = Recorder("odd", [pci_device_id(vendor=0x1014, device=PCI_ANY_ID)], rc=1)
    pci_register_driver(rec.drv)
    assert pdev.driver is rec.drv
    texts = [line.text for line in dmesg()]
    assert "odd 0000:00:00.0: Driver probe function unexpectedly returned 1" in texts


def test_driver_override_unbind_and_probe_hand_device_to_other_driver() -> None:
    """The sequence user space runs to give a device to vfio-pci."""
    pdev = one_device()
    host = Recorder("mlx", [pci_device_id(vendor=0x1014, device=PCI_ANY_ID)])
    vfio = Recorder("vfio-test", [pci_device_id(vendor=PCI_ANY_ID, device=PCI_ANY_ID, override_only=1)])
    pci_register_driver(host.drv)
    pci_register_driver(vfio.drv)
    assert pdev.driver is host.drv and vfio.events == []

    assert driver_override_store(pdev.dev, "vfio-test\n", 10) == 10
    assert pdev.driver_override == "vfio-test"
    assert host.drv.driver is not None and vfio.drv.driver is not None
    assert unbind_store(host.drv.driver, "0000:00:00.0\n", 13) == 13
    assert host.events[-1] == ("remove", "0000:00:00.0")
    assert drivers_probe_store("0000:00:00.0", 12) == 12
    assert pdev.driver is vfio.drv
    assert vfio.events == [("probe", "0000:00:00.0")]


def test_bind_store_refuses_device_of_other_driver_and_unknown_names() -> None:
    pdev = one_device()
    host = Recorder("mlx", [pci_device_id(vendor=0x1014, device=PCI_ANY_ID)])
    vfio = Recorder("vfio-test", [pci_device_id(vendor=PCI_ANY_ID, device=PCI_ANY_ID, override_only=1)])
    pci_register_driver(host.drv)
    pci_register_driver(vfio.drv)
    assert vfio.drv.driver is not None and host.drv.driver is not None
    # vfio-pci's table matches only through driver_override.
    assert bind_store(vfio.drv.driver, "0000:00:00.0", 12) == -errno.ENODEV
    pdev.driver_override = "vfio-test"
    assert bind_store(vfio.drv.driver, "0000:00:00.0", 12) == -errno.EBUSY  # still bound
    assert unbind_store(vfio.drv.driver, "0000:00:00.0", 12) == -errno.ENODEV  # not its device
    assert bind_store(vfio.drv.driver, "0000:00:09.0", 12) == -errno.ENODEV
    assert unbind_store(host.drv.driver, "0000:00:00.0", 12) == 12
    assert bind_store(vfio.drv.driver, "0000:00:00.0", 12) == 12
    assert pdev.driver is vfio.drv


def test_empty_driver_override_clears_it() -> None:
    pdev = one_device()
    driver_override_store(pdev.dev, "vfio-test", 8)
    assert driver_override_store(pdev.dev, "\n", 1) == 1
    assert pdev.driver_override is None


@pytest.mark.parametrize(
    ("result", "env"),
    [
        (PCI_ERS_RESULT_NONE, ("ERROR_EVENT=BEGIN_RECOVERY", "DEVICE_ONLINE=0")),
        (PCI_ERS_RESULT_CAN_RECOVER, ("ERROR_EVENT=BEGIN_RECOVERY", "DEVICE_ONLINE=0")),
        (PCI_ERS_RESULT_NEED_RESET, ("ERROR_EVENT=BEGIN_RECOVERY", "DEVICE_ONLINE=0")),
        (PCI_ERS_RESULT_RECOVERED, ("ERROR_EVENT=SUCCESSFUL_RECOVERY", "DEVICE_ONLINE=1")),
        (PCI_ERS_RESULT_DISCONNECT, ("ERROR_EVENT=FAILED_RECOVERY", "DEVICE_ONLINE=0")),
    ],
)
def test_pci_uevent_ers_sends_change_uevent(result: pci_ers_result_t, env: tuple[str, ...]) -> None:
    pdev = one_device()
    kobject.uevents.clear()
    pci_uevent_ers(pdev, result)
    assert len(kobject.uevents) == 1
    ev = kobject.uevents[0]
    assert ev.action == "change"
    assert ev.env == env
    assert ev.devpath.endswith("/0000:00:00.0")


def test_pci_uevent_ers_ignores_other_results() -> None:
    pdev = one_device()
    kobject.uevents.clear()
    pci_uevent_ers(pdev, PCI_ERS_RESULT_NO_AER_DRIVER)
    assert kobject.uevents == []


def test_registering_a_second_driver_of_the_same_name_is_ebusy() -> None:
    a = Recorder("twin", None)
    b = Recorder("twin", None)
    assert pci_register_driver(a.drv) == 0
    assert pci_register_driver(b.drv) == -errno.EBUSY
    pci_unregister_driver(a.drv)
