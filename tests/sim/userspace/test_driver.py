"""sim/userspace/driver.py: the plain userspace driver, through the userspace entry only."""

from __future__ import annotations

import errno

import pytest

from sim.host import Host
from sim.pci.function import PciFunction
from sim.timeline import Timeline, use
from sim.userspace.driver import UserDriver


def test_recover_waits_drains_and_resets_under_its_own_actor() -> None:
    host = Host.boot({0x10: PciFunction(0x1AF4, 0x1041)})
    drv = UserDriver(host.bind_vfio_pci(0x10))
    t = Timeline()
    try:
        with use(t):
            drv.open()
            drv.register_err_eventfd()
            assert drv.probe_zpci_error()
            assert drv.err_irq_count() == 1
            assert drv.recover(timeout=0.0) == []  # nothing pending: no wait, no reset
            host.fw.inject_error(0x10, pec=0x3A)
            host.fw.wait_events_handled()
            records = drv.recover(timeout=5.0)
            drv.close()
    finally:
        host.shutdown()
    assert [(rec.pec, rec.fid) for rec in records] == [(0x3A, 0x10)]
    assert {s.actor for s in t.steps} == {"user-driver"}
    assert [s.request for s in t.steps if s.kind == "ioctl"] == [
        "VFIO_DEVICE_BIND_IOMMUFD",
        "VFIO_DEVICE_SET_IRQS",
        "VFIO_DEVICE_FEATURE(PROBE|ZPCI_ERROR)",
        "VFIO_DEVICE_GET_IRQ_INFO",
        "VFIO_DEVICE_GET_INFO",  # the zPCI base capability says which uAPI the records come through
        "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)",
        "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)",
        "VFIO_DEVICE_RESET",
    ]
    assert drv.fd == drv.efd == drv.iommufd == -1


def test_open_of_a_missing_node_raises_enoent() -> None:
    drv = UserDriver("/dev/vfio/devices/vfio9")
    with pytest.raises(OSError) as e:
        drv.open()
    assert e.value.errno == errno.ENOENT
    drv.close()
