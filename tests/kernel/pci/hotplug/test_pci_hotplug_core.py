"""drivers/pci/hotplug/pci_hotplug_core.c (kernel/pci/hotplug/pci_hotplug_core.py)."""

from __future__ import annotations

import errno

import pytest

from kernel.include.linux.pci import pci_bus, pci_dev, pci_slot
from kernel.include.linux.pci_hotplug import hotplug_slot, hotplug_slot_name, hotplug_slot_ops
from kernel.lib import bug, kobject
from kernel.lib.kref import kref_read
from kernel.lib.printk import dmesg
from kernel.pci.hotplug import pci_hotplug_core
from kernel.pci.hotplug.pci_hotplug_core import (
    __pci_hp_register,
    hotplug_slot_attr_attention,
    hotplug_slot_attr_latch,
    hotplug_slot_attr_power,
    hotplug_slot_attr_presence,
    hotplug_slot_attr_test,
    hotplug_slot_files,
    pci_hp_add,
    pci_hp_del,
    pci_hp_deregister,
    pci_hp_initialize,
    pci_hp_register,
)
from kernel.pci.slot import address_read_file, pci_create_slot, pci_destroy_slot, pci_slot_attr_show
from kernel.s390.include.asm.pci import zpci_bus

#: what pci_hp_register() passes as THIS_MODULE/KBUILD_MODNAME for this module
KBUILD_MODNAME = "s390_pci_hpc"


def make_bus(devfns: tuple[int, ...] = ()) -> pci_bus:
    bus = pci_bus(sysdata=zpci_bus(domain_nr=0), number=0)
    bus.dev.init_name = "0000:00"
    for devfn in devfns:
        dev = pci_dev(bus=bus, devfn=devfn, multifunction=len(devfns) > 1)
        dev.dev.init_name = f"0000:00:{devfn >> 3:02x}.{devfn & 7}"
        bus.devices.append(dev)
    return bus


class Driver:
    """A hotplug driver's callbacks, recording the calls."""

    def __init__(self, rc: int = 0, power: int = 1, adapter: int = 1) -> None:
        self.calls: list[tuple[str, object]] = []
        self.rc = rc
        self.power = power
        self.adapter = adapter

    def enable_slot(self, slot: hotplug_slot) -> int:
        self.calls.append(("enable_slot", slot))
        return self.rc

    def disable_slot(self, slot: hotplug_slot) -> int:
        self.calls.append(("disable_slot", slot))
        return self.rc

    def get_power_status(self, slot: hotplug_slot) -> tuple[int, int]:
        return self.rc, self.power

    def get_adapter_status(self, slot: hotplug_slot) -> tuple[int, int]:
        return self.rc, self.adapter

    def set_attention_status(self, slot: hotplug_slot, value: int) -> int:
        self.calls.append(("set_attention_status", value))
        return self.rc

    def hardware_test(self, slot: hotplug_slot, value: int) -> int:
        self.calls.append(("hardware_test", value))
        return self.rc

    def s390_ops(self) -> hotplug_slot_ops:
        """The callbacks s390_pci_hpc sets (enable, disable, reset, power, adapter)."""
        return hotplug_slot_ops(
            enable_slot=self.enable_slot,
            disable_slot=self.disable_slot,
            get_power_status=self.get_power_status,
            get_adapter_status=self.get_adapter_status,
        )


def registered(bus: pci_bus, devnr: int, name: str, ops: hotplug_slot_ops | None = None) -> hotplug_slot:
    slot = hotplug_slot(ops=ops if ops is not None else Driver().s390_ops())
    assert pci_hp_register(slot, bus, devnr, name) == 0
    return slot


# --- registration checks ---


def test_register_without_slot_is_enodev() -> None:
    bus = make_bus()

    assert pci_hp_register(None, bus, 0, "x") == -errno.ENODEV
    assert bus.slots == []


def test_register_without_ops_is_einval() -> None:
    bus = make_bus()

    assert pci_hp_register(hotplug_slot(), bus, 0, "x") == -errno.EINVAL
    assert bus.slots == []


def test_register_links_hotplug_and_pci_slot_and_names_the_module() -> None:
    bus = make_bus((0x08,))
    slot = hotplug_slot(ops=Driver().s390_ops())

    assert pci_hp_register(slot, bus, 0x08, "00000011") == 0  # s390: the devfn

    pslot = slot.pci_slot
    assert pslot is not None and pslot.hotplug is slot
    assert pslot.number == 0x08 and pslot.per_func_slot
    assert bus.devices[0].slot is pslot
    assert hotplug_slot_name(slot) == "00000011"
    assert (slot.owner, slot.mod_name) == ("s390_pci_hpc", "s390_pci_hpc")


def test_register_sends_kobj_add_for_the_slot_directory() -> None:
    bus = make_bus()

    registered(bus, 1, "00000011")

    assert [(e.action, e.devpath) for e in kobject.uevents] == [("add", "/bus/pci/slots/00000011")]


def test_initialize_alone_creates_the_slot_without_uevent() -> None:
    bus = make_bus()
    slot = hotplug_slot(ops=hotplug_slot_ops())

    assert pci_hp_initialize(slot, bus, 2, "s") == 0

    assert slot.pci_slot is not None and slot.pci_slot.hotplug is slot
    assert kobject.uevents == []
    assert pci_hp_add(slot) == 0
    assert [e.action for e in kobject.uevents] == ["add"]


def test_second_driver_on_a_claimed_number_gets_ebusy_and_changes_nothing() -> None:
    bus = make_bus()
    first = registered(bus, 4, "first")
    second = hotplug_slot(ops=hotplug_slot_ops())

    assert pci_hp_register(second, bus, 4, "second") == -errno.EBUSY

    assert second.pci_slot is None
    assert first.pci_slot is not None and first.pci_slot.hotplug is first
    assert kref_read(first.pci_slot.kobj.kref) == 1
    assert hotplug_slot_name(first) == "first"


def test_hotplug_driver_takes_over_a_firmware_slot_and_renames_it() -> None:
    bus = make_bus()
    fw = pci_create_slot(bus, 2, "firmware", None)
    assert isinstance(fw, pci_slot)

    slot = registered(bus, 2, "hotplug")

    assert slot.pci_slot is fw
    assert hotplug_slot_name(slot) == "hotplug"
    assert kref_read(fw.kobj.kref) == 2


def test_deregister_unlinks_and_releases_the_slot() -> None:
    bus = make_bus((0x08, 0x09))
    slot = registered(bus, 1, "00000011")
    pslot = slot.pci_slot
    assert pslot is not None

    pci_hp_deregister(slot)

    assert slot.pci_slot is None and pslot.hotplug is None
    assert bus.slots == []
    assert [dev.slot for dev in bus.devices] == [None, None]
    # the last put announces the removal the driver never sent
    assert [(e.action, e.devpath) for e in kobject.uevents] == [
        ("add", "/bus/pci/slots/00000011"),
        ("remove", "/bus/pci/slots/00000011"),
    ]


def test_deregister_of_a_taken_over_firmware_slot_leaves_the_firmware_reference() -> None:
    bus = make_bus()
    fw = pci_create_slot(bus, 2, "firmware", None)
    assert isinstance(fw, pci_slot)
    slot = registered(bus, 2, "hotplug")

    pci_hp_deregister(slot)

    assert bus.slots == [fw]
    assert fw.hotplug is None
    assert kref_read(fw.kobj.kref) == 1
    pci_destroy_slot(fw)
    assert bus.slots == []


def test_pci_hp_add_and_del_of_null_warn() -> None:
    assert pci_hp_add(None) == -errno.EINVAL
    pci_hp_del(None)

    assert len(bug.warnings) == 2
    bug.warnings.clear()


def test_register_full_module_arguments() -> None:
    bus = make_bus()
    slot = hotplug_slot(ops=hotplug_slot_ops())

    assert __pci_hp_register(slot, bus, 3, "s", "rpaphp", "rpaphp") == 0
    assert (slot.owner, slot.mod_name) == ("rpaphp", "rpaphp")


# --- v17 1/7: per-function slots through the hotplug core ---


def test_s390_style_registration_gives_every_function_its_own_hotplug_slot() -> None:
    """s390_pci_hpc registers each function with pci_hp_register(&zdev->hotplug_slot,
    bus, zdev->devfn, "%08x" of the fid); since v17 1/7 each function's
    dev->slot->hotplug is its own, so a slot reset reaches the right function."""
    bus = make_bus(tuple(range(8)))

    slots = [registered(bus, devfn, f"{0x1000 + devfn:08x}") for devfn in range(8)]

    assert [dev.slot.hotplug if dev.slot else None for dev in bus.devices] == slots
    assert [address_read_file(s.pci_slot) for s in slots if s.pci_slot] == [
        f"0000:00:{devfn:02x}\n" for devfn in range(8)
    ]


def test_deregistering_function_0_leaves_the_other_functions_their_slots() -> None:
    bus = make_bus(tuple(range(8)))
    slots = [registered(bus, devfn, f"{0x1000 + devfn:08x}") for devfn in range(8)]

    pci_hp_deregister(slots[0])

    assert bus.devices[0].slot is None
    assert [dev.slot for dev in bus.devices[1:]] == [s.pci_slot for s in slots[1:]]


# --- slot files ---


def test_files_follow_the_ops() -> None:
    drv = Driver()

    assert hotplug_slot_files(hotplug_slot(ops=drv.s390_ops())) == [
        hotplug_slot_attr_power,
        hotplug_slot_attr_presence,
    ]
    assert hotplug_slot_files(hotplug_slot(ops=hotplug_slot_ops())) == []
    full = hotplug_slot_ops(
        enable_slot=drv.enable_slot,
        set_attention_status=drv.set_attention_status,
        get_latch_status=drv.get_power_status,
        get_adapter_status=drv.get_adapter_status,
        hardware_test=drv.hardware_test,
    )
    assert [a.name for a in hotplug_slot_files(hotplug_slot(ops=full))] == [
        "power",
        "attention",
        "latch",
        "adapter",
        "test",
    ]
    assert hotplug_slot_attr_latch.store is None and hotplug_slot_attr_test.show is None


def test_power_file_reads_the_drivers_power_status() -> None:
    bus = make_bus()
    drv = Driver(power=1)
    slot = registered(bus, 1, "s", drv.s390_ops())
    assert slot.pci_slot is not None

    assert pci_slot_attr_show(slot.pci_slot.kobj, hotplug_slot_attr_power) == "1\n"
    assert pci_slot_attr_show(slot.pci_slot.kobj, hotplug_slot_attr_presence) == "1\n"


def test_power_file_read_error_is_returned() -> None:
    bus = make_bus()
    drv = Driver()
    slot = registered(bus, 1, "s", drv.s390_ops())
    assert slot.pci_slot is not None
    drv.rc = -errno.EIO

    assert pci_slot_attr_show(slot.pci_slot.kobj, hotplug_slot_attr_power) == -errno.EIO


@pytest.mark.parametrize(
    ("buf", "call"), [("1\n", "enable_slot"), ("0\n", "disable_slot"), ("257", "enable_slot")]
)
def test_power_write_enables_or_disables_the_slot(buf: str, call: str) -> None:
    bus = make_bus()
    drv = Driver()
    slot = registered(bus, 1, "s", drv.s390_ops())
    assert slot.pci_slot is not None and hotplug_slot_attr_power.store is not None

    assert hotplug_slot_attr_power.store(slot.pci_slot, buf, len(buf)) == len(buf)
    assert drv.calls == [(call, slot)]


def test_power_write_of_another_value_is_einval_with_log_line() -> None:
    bus = make_bus()
    drv = Driver()
    slot = registered(bus, 1, "s", drv.s390_ops())
    assert slot.pci_slot is not None and hotplug_slot_attr_power.store is not None

    assert hotplug_slot_attr_power.store(slot.pci_slot, "2\n", 2) == -errno.EINVAL
    assert drv.calls == []
    assert dmesg()[-1].text == "pci_hotplug: Illegal value specified for power"


def test_power_write_returns_the_drivers_error() -> None:
    bus = make_bus()
    drv = Driver(rc=-errno.EBUSY)
    slot = registered(bus, 1, "s", drv.s390_ops())
    assert slot.pci_slot is not None and hotplug_slot_attr_power.store is not None

    assert hotplug_slot_attr_power.store(slot.pci_slot, "1", 1) == -errno.EBUSY


def test_power_write_debug_line_only_with_debug_parameter() -> None:
    bus = make_bus()
    slot = registered(bus, 1, "s")
    assert slot.pci_slot is not None and hotplug_slot_attr_power.store is not None

    hotplug_slot_attr_power.store(slot.pci_slot, "1", 1)
    assert not any("power =" in line.text for line in dmesg())

    pci_hotplug_core.debug = True
    hotplug_slot_attr_power.store(slot.pci_slot, "abc", 3)  # no digits: 0
    assert dmesg()[-1].text == "pci_hotplug: power_write_file: power = 0"


def test_attention_and_test_files_pass_the_value_on() -> None:
    bus = make_bus()
    drv = Driver()
    ops = hotplug_slot_ops(set_attention_status=drv.set_attention_status, hardware_test=drv.hardware_test)
    slot = registered(bus, 1, "s", ops)
    assert slot.pci_slot is not None
    assert hotplug_slot_attr_attention.store is not None and hotplug_slot_attr_test.store is not None

    assert hotplug_slot_attr_attention.store(slot.pci_slot, " 3", 2) == 2
    assert hotplug_slot_attr_test.store(slot.pci_slot, "42\n", 3) == 3
    assert drv.calls == [("set_attention_status", 3), ("hardware_test", 42)]
