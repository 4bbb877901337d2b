"""drivers/pci/hotplug/rpaphp_slot.c (kernel/pci/hotplug/rpaphp_slot.py), with v17 1/7
(``int slotno = PCI_SLOT_PLACEHOLDER;``).  rpaphp is a pSeries (PowerPC) driver, so
these tests run on a kernel built without CONFIG_S390."""

from __future__ import annotations

import errno

import pytest

from kernel.include.linux.pci import PCI_DEVFN, pci_bus, pci_dev
from kernel.include.linux.pci_hotplug import hotplug_slot, hotplug_slot_ops
from kernel.lib.bug import KernelBug
from kernel.lib.kref import kref_read
from kernel.lib.printk import KERN_DEBUG, KERN_ERR, KERN_INFO, dmesg
from kernel.pci.hotplug.pci_hotplug_core import pci_hp_register
from kernel.pci.hotplug.rpaphp_slot import (
    alloc_slot_struct,
    dealloc_slot_struct,
    device_node,
    for_each_child_of_node_scoped,
    of_node_full_name,
    of_property_read_u32,
    pci_dn,
    rpaphp_deregister_slot,
    rpaphp_hotplug_slot_ops,
    rpaphp_params,
    rpaphp_register_slot,
    rpaphp_slot_head,
    slot,
    to_slot,
)
from kernel.pci.slot import address_read_file
from kernel.s390.include.asm.pci import zpci_bus

pytestmark = pytest.mark.usefixtures("not_s390")

DRC_INDEX = 0x20000003


def drc(index: int) -> bytes:
    return index.to_bytes(4, "big")


def make_tree(children: list[device_node]) -> device_node:
    """/ -> pci@800000020000002 (the PHB, the slot's node) -> children."""
    root = device_node("")
    phb = root.add_child(device_node("pci@800000020000002"))
    for child in children:
        phb.add_child(child)
    return phb


def make_bus(devfns: tuple[int, ...] = ()) -> pci_bus:
    bus = pci_bus(sysdata=zpci_bus(domain_nr=0), number=0)
    bus.dev.init_name = "0000:00"
    for devfn in devfns:
        bus.devices.append(pci_dev(bus=bus, devfn=devfn))
    return bus


def make_slot(dn: device_node, bus: pci_bus, name: str = "U78.001-P1-C3", index: int = DRC_INDEX) -> slot:
    s = alloc_slot_struct(dn, index, name, 0xFFFFFFFF)
    assert s is not None
    s.bus = bus
    return s


def texts() -> list[tuple[int, str]]:
    """Every log line with its level, so a line printed at another level fails."""
    return [(line.level, line.text) for line in dmesg()]


def rpaphp_texts() -> list[tuple[int, str]]:
    """The driver's own lines (without the PCI core's dev_dbg lines between them)."""
    return [t for t in texts() if t[1].startswith("rpaphp: ")]


def test_slot_number_comes_from_the_matching_childs_devfn() -> None:
    card = device_node("ethernet@0", {"ibm,my-drc-index": drc(DRC_INDEX)}, data=pci_dn(PCI_DEVFN(3, 1)))
    other = device_node("ethernet@1", {"ibm,my-drc-index": drc(DRC_INDEX + 1)}, data=pci_dn(PCI_DEVFN(5, 0)))
    bus = make_bus((PCI_DEVFN(3, 0), PCI_DEVFN(5, 0)))
    s = make_slot(make_tree([other, card]), bus)

    assert rpaphp_register_slot(s) == 0

    pslot = s.hotplug_slot.pci_slot
    assert pslot is not None
    assert pslot.number == 3
    assert address_read_file(pslot) == "0000:00:03\n"
    assert [dev.slot for dev in bus.devices] == [pslot, None]
    assert rpaphp_slot_head == [s]
    assert (s.hotplug_slot.owner, s.hotplug_slot.mod_name) == ("rpaphp", "rpaphp")
    assert texts()[-1] == (KERN_INFO, "rpaphp: Slot [U78.001-P1-C3] registered")


def test_empty_slot_is_registered_as_placeholder() -> None:
    no_match = device_node("ethernet@1", {"ibm,my-drc-index": drc(DRC_INDEX + 1)}, data=pci_dn(0))
    no_prop = device_node("vdevice")
    bus = make_bus((0x00,))
    s = make_slot(make_tree([no_match, no_prop]), bus)

    assert rpaphp_register_slot(s) == 0

    pslot = s.hotplug_slot.pci_slot
    assert pslot is not None
    assert pslot.number == 0xFFFF  # (u16)PCI_SLOT_PLACEHOLDER
    assert address_read_file(pslot) == "0000:00\n"
    assert bus.devices[0].slot is None


def test_two_empty_slots_get_two_placeholders() -> None:
    bus = make_bus()
    a = make_slot(make_tree([]), bus, name="C1", index=1)
    b = make_slot(make_tree([]), bus, name="C2", index=2)

    assert rpaphp_register_slot(a) == 0
    assert rpaphp_register_slot(b) == 0

    assert a.hotplug_slot.pci_slot is not b.hotplug_slot.pci_slot
    assert rpaphp_slot_head == [b, a]  # list_add: newest first


def test_registering_a_name_twice_is_eagain() -> None:
    bus = make_bus()
    first = make_slot(make_tree([]), bus, name="C3", index=1)
    again = make_slot(make_tree([]), bus, name="C3", index=2)
    assert rpaphp_register_slot(first) == 0

    assert rpaphp_register_slot(again) == -errno.EAGAIN

    assert again.hotplug_slot.pci_slot is None
    assert rpaphp_slot_head == [first]
    assert texts()[-1] == (KERN_ERR, "rpaphp: rpaphp_register_slot: slot[C3] is already registered")


def test_pci_hp_register_failure_is_logged_and_returned() -> None:
    card = device_node("card", {"ibm,my-drc-index": drc(DRC_INDEX)}, data=pci_dn(PCI_DEVFN(4, 0)))
    bus = make_bus()
    assert pci_hp_register(hotplug_slot(ops=hotplug_slot_ops()), bus, 4, "other-driver") == 0
    s = make_slot(make_tree([card]), bus)

    assert rpaphp_register_slot(s) == -errno.EBUSY

    assert rpaphp_slot_head == []
    assert texts()[-1] == (KERN_ERR, "rpaphp: pci_hp_register failed with error -16")


def test_deregister_removes_the_slot_everywhere_and_drops_the_node() -> None:
    card = device_node("card", {"ibm,my-drc-index": drc(DRC_INDEX)}, data=pci_dn(PCI_DEVFN(3, 0)))
    bus = make_bus((PCI_DEVFN(3, 0),))
    phb = make_tree([card])
    s = make_slot(phb, bus)
    assert kref_read(phb.kref) == 2
    assert rpaphp_register_slot(s) == 0

    assert rpaphp_deregister_slot(s) == 0

    assert rpaphp_slot_head == []
    assert bus.slots == []
    assert bus.devices[0].slot is None
    assert kref_read(phb.kref) == 1
    assert kref_read(card.kref) == 1  # the loop's references were all dropped


def test_debug_lines_with_the_debug_parameter() -> None:
    bus = make_bus()
    s = make_slot(make_tree([]), bus, name="C9", index=0x20000009)
    rpaphp_params.rpaphp_debug = True

    assert rpaphp_register_slot(s) == 0
    rpaphp_deregister_slot(s)

    assert rpaphp_texts() == [
        (
            KERN_DEBUG,
            "rpaphp: rpaphp_register_slot registering slot:path[/pci@800000020000002] "
            "index[20000009], name[C9] pdomain[ffffffff] type[0]",
        ),
        (KERN_INFO, "rpaphp: Slot [C9] registered"),
        (KERN_DEBUG, "rpaphp: rpaphp_deregister_slot - Entry: deregistering slot=C9"),
        (KERN_DEBUG, "rpaphp: rpaphp_deregister_slot - Exit: rc[0]"),
    ]


def test_no_debug_lines_by_default() -> None:
    s = make_slot(make_tree([]), make_bus(), name="C9")

    assert rpaphp_register_slot(s) == 0

    assert rpaphp_texts() == [(KERN_INFO, "rpaphp: Slot [C9] registered")]


def test_matching_child_without_pci_dn_is_a_null_dereference() -> None:
    card = device_node("card", {"ibm,my-drc-index": drc(DRC_INDEX)})
    s = make_slot(make_tree([card]), make_bus())

    with pytest.raises(KernelBug):
        rpaphp_register_slot(s)


# --- the structures and device-tree helpers ---


def test_alloc_slot_struct_fills_the_slot_and_takes_a_node_reference() -> None:
    phb = make_tree([])

    s = alloc_slot_struct(phb, DRC_INDEX, "C3", 0x10)

    assert s is not None
    assert (s.name, s.index, s.power_domain, s.dn) == ("C3", DRC_INDEX, 0x10, phb)
    assert s.hotplug_slot.ops is rpaphp_hotplug_slot_ops
    assert to_slot(s.hotplug_slot) is s
    assert kref_read(phb.kref) == 2
    dealloc_slot_struct(s)
    assert kref_read(phb.kref) == 1


def test_of_property_read_u32_errors_and_big_endian_value() -> None:
    np = device_node("n", {"ok": b"\x12\x34\x56\x78\xff", "short": b"\x01"})

    assert of_property_read_u32(np, "ok") == (0, 0x12345678)
    assert of_property_read_u32(np, "short")[0] == -errno.EOVERFLOW
    assert of_property_read_u32(np, "missing")[0] == -errno.EINVAL


def test_scoped_child_iteration_holds_a_reference_only_inside_the_body() -> None:
    a, b = device_node("a"), device_node("b")
    phb = make_tree([a, b])

    for child in for_each_child_of_node_scoped(phb):
        assert kref_read(child.kref) == 2
        break

    assert (kref_read(a.kref), kref_read(b.kref)) == (1, 1)
    assert of_node_full_name(b) == "/pci@800000020000002/b"
