"""drivers/pci/slot.c (kernel/pci/slot.py), 7.1-rc4 with the v17 series.

Since v17 1/7 every slot of an s390 kernel (the default configuration here) is per
function; the tests of the device-number matching that other architectures keep
take the ``not_s390`` fixture."""

from __future__ import annotations

import errno

from kernel.include.linux.pci import PCI_SLOT_ALL_DEVICES, PCI_SLOT_PLACEHOLDER, pci_bus, pci_dev, pci_slot
from kernel.include.linux.pci_hotplug import hotplug_slot, hotplug_slot_ops
from kernel.lib import lockdep
from kernel.lib.errno import IS_ERR, PTR_ERR
from kernel.lib.kobject import kobject, kobject_get_path, kset_find_obj
from kernel.lib.kref import kref_read
from kernel.lib.printk import KERN_DEBUG, dmesg
from kernel.pci.slot import (
    address_read_file,
    pci_create_slot,
    pci_destroy_slot,
    pci_dev_assign_slot,
    pci_slot_attr_show,
    pci_slot_attr_store,
    pci_slot_attribute,
    pci_slot_default_attrs,
    pci_slot_enabled_per_func,
    pci_slots_kset,
)
from kernel.s390.include.asm.pci import zpci_bus


def make_bus(devfns: tuple[int, ...] = (), domain: int = 0, number: int = 0) -> pci_bus:
    """A root bus as the s390 code builds it (the zpci_bus in sysdata carries the
    domain), with functions at ``devfns``."""
    bus = pci_bus(sysdata=zpci_bus(domain_nr=domain), number=number, domain_nr=domain)
    bus.dev.init_name = f"{domain:04x}:{number:02x}"
    for devfn in devfns:
        dev = pci_dev(bus=bus, devfn=devfn, multifunction=len(devfns) > 1)
        dev.dev.init_name = f"{domain:04x}:{number:02x}:{devfn >> 3:02x}.{devfn & 7}"
        bus.devices.append(dev)
    return bus


def make_hotplug() -> hotplug_slot:
    return hotplug_slot(ops=hotplug_slot_ops())


def create(bus: pci_bus, nr: int, name: str, hotplug: hotplug_slot | None = None) -> pci_slot:
    slot = pci_create_slot(bus, nr, name, hotplug)
    assert not IS_ERR(slot)
    assert isinstance(slot, pci_slot)
    return slot


def refcount(slot: pci_slot) -> int:
    return kref_read(slot.kobj.kref)


def bus_line(bus: pci_bus, msg: str) -> tuple[int, str]:
    """A dev_dbg(&bus->dev, ...) line as the log ring holds it: its level and text."""
    return (KERN_DEBUG, f"{bus.dev.dev_driver_string()} {bus.dev.dev_name()}: {msg}")


def texts() -> list[tuple[int, str]]:
    """Every log line with its level, so a line printed at another level fails."""
    return [(line.level, line.text) for line in dmesg()]


# --- pci_create_slot: placeholder, reuse, -EBUSY, rename, names ---


def test_placeholder_slot_stores_0xffff_and_matches_no_device() -> None:
    bus = make_bus((0x00, 0x08, 0xF8))

    slot = create(bus, PCI_SLOT_PLACEHOLDER, "U78.001-P1-C3")

    assert slot.number == 0xFFFF
    assert slot.bus is bus
    assert bus.slots == [slot]
    assert all(dev.slot is None for dev in bus.devices)
    assert refcount(slot) == 1
    # %02x of the int -1
    assert texts() == [bus_line(bus, "dev ffffffff, created physical slot U78.001-P1-C3")]


def test_placeholders_are_never_looked_up_so_each_call_makes_a_new_slot() -> None:
    bus = make_bus()

    first = create(bus, -1, "C3")
    second = create(bus, -1, "C3")

    assert first is not second
    assert (first.kobj.name, second.kobj.name) == ("C3", "C3-1")
    assert bus.slots == [second, first]  # list_add: newest first


def test_existing_number_returns_same_slot_with_a_reference_and_no_rename() -> None:
    bus = make_bus((0x18,))
    slot = create(bus, 3, "firmware")

    again = create(bus, 3, "other-name")

    assert again is slot
    assert refcount(slot) == 2
    assert slot.kobj.name == "firmware"  # only hotplug drivers rename
    assert bus.slots == [slot]
    # the second call creates nothing and says nothing
    assert texts() == [bus_line(bus, "dev 03, created physical slot firmware")]


def test_claimed_slot_returns_ebusy_to_a_second_hotplug_driver() -> None:
    bus = make_bus()
    first = make_hotplug()
    slot = create(bus, 5, "slot5", first)
    slot.hotplug = first  # what __pci_hp_initialize() does next

    ret = pci_create_slot(bus, 5, "slot5-again", make_hotplug())

    assert IS_ERR(ret) and PTR_ERR(ret) == -errno.EBUSY
    assert refcount(slot) == 1  # the look-up's reference was dropped
    assert slot.kobj.name == "slot5"
    assert slot.hotplug is first


def test_hotplug_driver_renames_an_unclaimed_existing_slot() -> None:
    bus = make_bus()
    slot = create(bus, 2, "firmware-name")

    again = create(bus, 2, "hotplug-name", make_hotplug())

    assert again is slot
    assert slot.kobj.name == "hotplug-name"
    assert refcount(slot) == 2
    assert kset_find_obj(pci_slots_kset, "firmware-name") is None


def test_rename_to_a_taken_name_gets_a_suffix() -> None:
    bus = make_bus()
    create(bus, 1, "taken")
    slot = create(bus, 2, "mine")

    create(bus, 2, "taken", make_hotplug())

    assert slot.kobj.name == "taken-1"


def test_rename_to_the_same_name_keeps_it() -> None:
    bus = make_bus()
    slot = create(bus, 2, "same")

    create(bus, 2, "same", make_hotplug())

    assert slot.kobj.name == "same"


def test_duplicate_names_become_name_dash_n_across_buses() -> None:
    """Broken firmware giving several slots one name: the first keeps it, the later
    ones are name-1, name-2, ... (the kset of all slots is global)."""
    bus_a, bus_b = make_bus(number=0), make_bus(number=1)
    names = [create(bus_a if i % 2 else bus_b, i, "N").kobj.name for i in range(1, 13)]

    assert names == ["N", *(f"N-{i}" for i in range(1, 12))]


def test_released_name_can_be_used_again() -> None:
    bus = make_bus()
    slot = create(bus, 1, "again")
    pci_destroy_slot(slot)

    assert create(bus, 2, "again").kobj.name == "again"


def test_slot_kobject_sits_in_bus_pci_slots() -> None:
    bus = make_bus()
    slot = create(bus, 1, "0000001a")

    assert kobject_get_path(slot.kobj) == "/bus/pci/slots/0000001a"
    assert kset_find_obj(pci_slots_kset, "0000001a") is slot.kobj


def test_new_slot_takes_a_reference_on_the_bus_and_release_drops_it() -> None:
    bus = make_bus()
    before = kref_read(bus.dev.kref)

    slot = create(bus, 1, "s")
    assert kref_read(bus.dev.kref) == before + 1

    pci_destroy_slot(slot)
    assert kref_read(bus.dev.kref) == before


# --- which devices get dev->slot ---


def test_slot_covers_every_function_of_its_device_number(not_s390: None) -> None:
    bus = make_bus((0x08, 0x09, 0x0F, 0x10, 0x00))

    slot = create(bus, 1, "dev1")

    assert [dev.devfn for dev in bus.devices if dev.slot is slot] == [0x08, 0x09, 0x0F]
    assert [dev.devfn for dev in bus.devices if dev.slot is None] == [0x10, 0x00]


def test_all_devices_slot_covers_the_whole_bus(not_s390: None) -> None:
    bus = make_bus((0x00, 0x08, 0xF8))

    slot = create(bus, PCI_SLOT_ALL_DEVICES, "pcie-slot")

    assert all(dev.slot is slot for dev in bus.devices)


def test_reuse_does_not_reassign_devices() -> None:
    bus = make_bus((0x08,))
    create(bus, 1, "s")
    bus.devices[0].slot = None

    create(bus, 1, "s")

    assert bus.devices[0].slot is None


def test_assign_slot_gives_a_later_device_its_slot(not_s390: None) -> None:
    bus = make_bus()
    slot = create(bus, 4, "s4")
    dev = pci_dev(bus=bus, devfn=0x21)  # device 4, function 1
    bus.devices.append(dev)

    pci_dev_assign_slot(dev)

    assert dev.slot is slot


def test_assign_slot_leaves_a_device_without_matching_slot_alone() -> None:
    bus = make_bus()
    create(bus, 4, "s4")
    dev = pci_dev(bus=bus, devfn=0x28)
    bus.devices.append(dev)

    pci_dev_assign_slot(dev)

    assert dev.slot is None


def test_assign_slot_last_match_wins_and_the_list_is_newest_first(not_s390: None) -> None:
    """Two slots cover device 2: the slot list is walked newest first and the last
    match is kept, so the OLDER slot wins."""
    bus = make_bus()
    numbered = create(bus, 2, "numbered")
    bus_wide = create(bus, PCI_SLOT_ALL_DEVICES, "bus-wide")
    dev = pci_dev(bus=bus, devfn=0x10)
    bus.devices.append(dev)

    pci_dev_assign_slot(dev)

    assert bus.slots == [bus_wide, numbered]
    assert dev.slot is numbered


def test_assign_slot_last_match_wins_other_order(not_s390: None) -> None:
    bus = make_bus()
    bus_wide = create(bus, PCI_SLOT_ALL_DEVICES, "bus-wide")
    create(bus, 2, "numbered")
    dev = pci_dev(bus=bus, devfn=0x10)
    bus.devices.append(dev)

    pci_dev_assign_slot(dev)

    assert dev.slot is bus_wide


# --- address file ---


def test_address_of_placeholder_slot_is_domain_and_bus() -> None:
    bus = make_bus(domain=0x12, number=0x34)

    assert address_read_file(create(bus, -1, "p")) == "0012:34\n"


def test_address_of_all_devices_slot_reports_device_00() -> None:
    bus = make_bus(domain=0x12, number=0x34)

    assert address_read_file(create(bus, PCI_SLOT_ALL_DEVICES, "b")) == "0012:34:00\n"


def test_address_of_numbered_slot() -> None:
    bus = make_bus(domain=0x12, number=0x34)

    assert address_read_file(create(bus, 0x1F, "n")) == "0012:34:1f\n"


def test_attribute_show_dispatches_and_missing_callbacks_give_eio() -> None:
    bus = make_bus(domain=1)
    slot = create(bus, 7, "s")
    (address,) = pci_slot_default_attrs
    no_show = pci_slot_attribute("x", 0o200)

    assert address.name == "address"
    assert pci_slot_attr_show(slot.kobj, address) == "0001:00:07\n"
    assert pci_slot_attr_show(slot.kobj, no_show) == -errno.EIO
    assert pci_slot_attr_store(slot.kobj, address, "1", 1) == -errno.EIO


def test_attribute_show_of_a_kobject_that_is_not_a_slot_is_a_type_error() -> None:
    import pytest

    with pytest.raises(TypeError):
        pci_slot_attr_show(kobject(name="stray"), pci_slot_default_attrs[0])


# --- release ---


def test_destroy_drops_one_reference_and_logs_the_new_count(not_s390: None) -> None:
    bus = make_bus((0x18,))
    slot = create(bus, 3, "s3")
    create(bus, 3, "s3")

    pci_destroy_slot(slot)

    assert refcount(slot) == 1
    assert bus.slots == [slot]
    assert bus.devices[0].slot is slot
    assert texts()[-1] == bus_line(bus, "dev 03, dec refcount to 1")


def test_last_destroy_releases_the_slot_and_clears_dev_slot(not_s390: None) -> None:
    bus = make_bus((0x18, 0x19, 0x20))
    other = create(bus, 4, "s4")
    slot = create(bus, 3, "s3")

    pci_destroy_slot(slot)

    assert bus.slots == [other]
    assert [dev.slot for dev in bus.devices] == [None, None, other]
    assert kset_find_obj(pci_slots_kset, "s3") is None
    assert texts()[-2:] == [
        bus_line(bus, "dev 03, dec refcount to 0"),
        bus_line(bus, "dev 03, released physical slot s3"),
    ]


def test_release_of_all_devices_slot_clears_every_device(not_s390: None) -> None:
    bus = make_bus((0x00, 0x08))
    slot = create(bus, PCI_SLOT_ALL_DEVICES, "b")

    pci_destroy_slot(slot)

    assert all(dev.slot is None for dev in bus.devices)
    assert texts()[-1] == bus_line(bus, "dev feff, released physical slot b")


# --- locks ---


def test_slot_mutex_is_taken_before_bus_sem_and_lockdep_stays_clean() -> None:
    bus = make_bus((0x08,))
    slot = create(bus, 1, "s")
    pci_destroy_slot(slot)

    edges = {(e.held, e.taken) for e in lockdep.lockdep_edges()}
    assert ("pci_slot_mutex", "pci_bus_sem") in edges
    assert ("pci_bus_sem", "pci_slot_mutex") not in edges
    assert lockdep.reports == []


# --- v17 1/7: per-function slots on s390 ---


def test_per_function_slots_each_cover_their_own_function() -> None:
    """s390 registers one slot per function with the FULL devfn as slot number; each
    of the eight functions of a multifunction device gets its own slot."""
    bus = make_bus(tuple(range(8)))

    slots = [create(bus, devfn, "%08x" % (0x100 + devfn), make_hotplug()) for devfn in range(8)]

    assert all(slot.per_func_slot for slot in slots)
    assert [dev.slot for dev in bus.devices] == slots
    assert [address_read_file(s) for s in slots] == [f"0000:00:{devfn:02x}\n" for devfn in range(8)]


def test_releasing_a_per_function_slot_clears_only_its_function() -> None:
    bus = make_bus(tuple(range(8)))
    slots = [create(bus, devfn, "%08x" % (0x100 + devfn)) for devfn in range(8)]

    pci_destroy_slot(slots[3])
    assert [dev.slot for dev in bus.devices] == [*slots[:3], None, *slots[4:]]

    pci_destroy_slot(slots[0])
    assert [dev.slot for dev in bus.devices] == [None, *slots[1:3], None, *slots[4:]]
    assert len(bus.slots) == 6


def test_later_probed_function_gets_its_own_per_function_slot() -> None:
    bus = make_bus()
    slots = [create(bus, devfn, f"{devfn:08x}") for devfn in range(8)]
    dev = pci_dev(bus=bus, devfn=5)
    bus.devices.append(dev)

    pci_dev_assign_slot(dev)

    assert dev.slot is slots[5]


def test_devfn_0xfe_is_an_ordinary_per_function_slot() -> None:
    """0xfe no longer collides with PCI_SLOT_ALL_DEVICES (0xfeff)."""
    bus = make_bus((0x00, 0x08, 0xFE))

    slot = create(bus, 0xFE, "000000fe", make_hotplug())

    assert [dev.slot for dev in bus.devices] == [None, None, slot]
    assert address_read_file(slot) == "0000:00:fe\n"


def test_devfn_0xff_is_not_a_placeholder() -> None:
    """0xff no longer reads as the placeholder (0xffff)."""
    bus = make_bus((0xFF,))

    slot = create(bus, 0xFF, "000000ff")

    assert address_read_file(slot) == "0000:00:ff\n"
    assert bus.devices[0].slot is slot
    assert create(bus, 0xFF, "x") is slot


def test_other_architectures_keep_slots_per_device_number(not_s390: None) -> None:
    """With CONFIG_S390=n a slot is not per function: slot 0 covers devfn 0..7."""
    bus = make_bus(tuple(range(8)))

    slot = create(bus, 0, "00000100")

    assert not slot.per_func_slot
    assert [dev.slot for dev in bus.devices] == [slot] * 8

def test_slots_are_per_function_on_s390() -> None:
    """v17 1/7: pci_slot_enabled_per_func() is a C bool, true on s390."""
    assert pci_slot_enabled_per_func() is True


def test_slots_are_not_per_function_elsewhere(not_s390: None) -> None:
    """... and false (not just falsy) everywhere else."""
    assert pci_slot_enabled_per_func() is False
