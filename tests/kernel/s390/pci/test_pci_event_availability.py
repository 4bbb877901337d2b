"""kernel/s390/pci/pci_event.py: availability events (function configured, deconfigured,
reserved) on the firmware model."""

from __future__ import annotations

from collections.abc import Callable

from kernel.s390.include.asm.pci import (
    ZPCI_FN_STATE_CONFIGURED,
    ZPCI_FN_STATE_STANDBY,
    zdev_enabled,
    zpci_dev,
)
from kernel.s390.pci.pci import get_zdev_by_fid
from kernel.s390.pci.pci_bus import zpci_zdev_put
from sim.pci.function import PciFunction
from sim.zpci.firmware import RESERVED, STANDBY, ZpciFirmware

Machine = Callable[..., ZpciFirmware]


def zdev_of(fid: int) -> zpci_dev | None:
    zdev = get_zdev_by_fid(fid)
    if zdev is not None:
        zpci_zdev_put(zdev)
    return zdev


def standby_and_reserved(fw: ZpciFirmware) -> None:
    fw.add_function(0x10, PciFunction(0x1AF4, 0x1041))
    fw.add_function(0x30, PciFunction(0x1AF4, 0x1041), state=STANDBY)
    fw.add_function(0x40, PciFunction(0x1AF4, 0x1042), state=RESERVED)


def test_boot_knows_standby_functions_but_not_reserved_ones(zmachine: Machine) -> None:
    zmachine(standby_and_reserved)
    z = zdev_of(0x30)
    assert z is not None and z.state == ZPCI_FN_STATE_STANDBY and not zdev_enabled(z)
    assert zdev_of(0x40) is None


def test_0301_configures_and_scans_a_standby_function(zmachine: Machine) -> None:
    fw = zmachine(standby_and_reserved)
    fw.raise_availability(0x30, 0x0301)
    assert fw.wait_events_handled()
    z = zdev_of(0x30)
    assert z is not None and z.state == ZPCI_FN_STATE_CONFIGURED and zdev_enabled(z)
    assert z.zbus is not None and z.zbus.bus is not None and len(z.zbus.bus.devices) == 1


def test_0301_for_a_new_fid_creates_the_zdev(zmachine: Machine) -> None:
    fw = zmachine(standby_and_reserved)
    fw.raise_availability(0x40, 0x0301)  # reserved -> configured: new to the kernel
    assert fw.wait_events_handled()
    z = zdev_of(0x40)
    assert z is not None and z.state == ZPCI_FN_STATE_CONFIGURED and zdev_enabled(z)


def test_0304_hard_deconfigure_removes_the_pci_dev_with_permanent_failure(zmachine: Machine) -> None:
    fw = zmachine(standby_and_reserved)
    z = zdev_of(0x10)
    assert z is not None and z.zbus is not None and z.zbus.bus is not None
    pdev = z.zbus.bus.devices[0]
    fw.raise_availability(0x10, 0x0304)
    assert fw.wait_events_handled()
    assert z.state == ZPCI_FN_STATE_STANDBY and not zdev_enabled(z)
    assert z.zbus.bus.devices == []
    assert int(pdev.error_state) == 3  # pci_channel_io_perm_failure


def test_0303_deconfiguration_request_deconfigures_through_sclp(zmachine: Machine) -> None:
    fw = zmachine(standby_and_reserved)
    fw.raise_availability(0x10, 0x0303)
    assert fw.wait_events_handled()
    z = zdev_of(0x10)
    assert z is not None and z.state == ZPCI_FN_STATE_STANDBY
    assert fw.function(0x10).state == STANDBY
    assert ("sclp", (0x001B0001, 0x10)) in fw.trace


def test_0308_reserves_and_forgets_the_function(zmachine: Machine) -> None:
    fw = zmachine(standby_and_reserved)
    fw.raise_availability(0x30, 0x0308)
    assert fw.wait_events_handled()
    assert zdev_of(0x30) is None
