"""drivers/pci/hotplug/rpaphp_slot.c (Linux 7.1-rc4 with the v17 series): slot
registration of the RPA (IBM pSeries, PowerPC) PCI hotplug driver.

It is here because v17 1/7 changes one line of it: ``int slotno = -1;`` becomes
``int slotno = PCI_SLOT_PLACEHOLDER;`` (no change in behaviour).  rpaphp is the
user of placeholder slots: a slot's device number is known only once a card sits
in it, so an empty slot is registered with -1.

Also modelled here, as far as this file reads them (the rest of the driver is not
ported):

* drivers/pci/hotplug/rpaphp.h: ``struct slot`` (with the ``struct hotplug_slot``
  embedded, :func:`to_slot` as ``container_of``), ``MY_NAME`` and the
  ``dbg``/``err``/``info`` macros, the slot states;
* drivers/pci/hotplug/rpaphp_core.c: ``rpaphp_slot_head`` (the driver's list of
  registered slots, newest first), the ``rpaphp_debug`` module parameter (off by
  default) and ``rpaphp_hotplug_slot_ops``, whose callbacks (they talk to RTAS
  firmware) are not ported, so the table is empty;
* the Open Firmware device tree (include/linux/of.h, drivers/of/): a
  :class:`device_node` with properties, children and the ``data`` pointer that
  arch/powerpc's ``PCI_DN()`` reads, :class:`pci_dn` (arch/powerpc/include/asm/
  pci-bridge.h) reduced to its ``devfn``, ``of_node_get``/``of_node_put`` (the
  node's reference count; pSeries has ``CONFIG_OF_DYNAMIC``),
  ``of_property_read_u32`` (property values are big-endian bytes, as in the
  flattened tree) and ``for_each_child_of_node_scoped`` (a reference on each child
  for the body, dropped however the body is left).

The base text (v17 1/7 pre-image) is the stored rpaphp_slot.c with
``kzalloc_obj(struct slot)`` and ``for_each_child_of_node_scoped`` (so no explicit
``of_node_put(child)`` before the ``break``).  ``%pOF`` (a node's full path) is
printed with ``%s`` of :func:`of_node_full_name`, which gives the same text.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from typing import Final

import attrs

from kernel.include.linux.pci import PCI_SLOT, PCI_SLOT_PLACEHOLDER, pci_bus
from kernel.include.linux.pci_hotplug import hotplug_slot, hotplug_slot_ops
from kernel.lib.bug import BUG
from kernel.lib.init import static_init
from kernel.lib.kref import kref, kref_get, kref_put
from kernel.lib.printk import KERN_DEBUG, KERN_ERR, KERN_INFO, printk
from kernel.pci.hotplug.pci_hotplug_core import pci_hp_deregister, pci_hp_register

__all__ = [
    "CONFIGURED",
    "EMPTY",
    "NOT_CONFIGURED",
    "NOT_VALID",
    "PCI_DN",
    "alloc_slot_struct",
    "dealloc_slot_struct",
    "device_node",
    "for_each_child_of_node_scoped",
    "of_node_full_name",
    "of_node_get",
    "of_node_put",
    "of_property_read_u32",
    "pci_dn",
    "rpaphp_deregister_slot",
    "rpaphp_hotplug_slot_ops",
    "rpaphp_params",
    "rpaphp_register_slot",
    "rpaphp_slot_head",
    "slot",
    "to_slot",
]

#: The module this file is linked into (rpaphp-objs in the Makefile).
KBUILD_MODNAME: Final = "rpaphp"

# --- include/linux/of.h, drivers/of/, arch/powerpc pci-bridge.h (see module doc) ---


@attrs.define(eq=False)
class pci_dn:
    """``struct pci_dn``: the PCI data the device tree node of a function carries."""

    devfn: int = 0


@attrs.define(eq=False)
class device_node:
    """``struct device_node``.  ``full_name`` is the last path component
    ("pci@800000020000002"); ``properties`` maps a name to the value's bytes;
    ``data`` is the node's ``struct pci_dn`` for PCI nodes."""

    full_name: str
    properties: dict[str, bytes] = attrs.field(factory=dict)
    parent: device_node | None = None
    children: list[device_node] = attrs.field(factory=list)
    data: pci_dn | None = None
    kref: kref = attrs.field(factory=kref)

    def add_child(self, child: device_node) -> device_node:
        """Hang ``child`` below this node (what unflattening the tree does).  Exists
        only in Python."""
        child.parent = self
        self.children.append(child)
        return child


def of_node_full_name(np: device_node | None) -> str:
    """The node's path from the root, as ``%pOF`` prints it."""
    if np is None:
        return "<no-node>"
    if np.parent is None:
        return "/"
    parent = of_node_full_name(np.parent)
    return ("" if parent == "/" else parent) + "/" + np.full_name


def of_node_get(node: device_node | None) -> device_node | None:
    if node is not None:
        kref_get(node.kref)
    return node


def of_node_put(node: device_node | None) -> None:
    if node is not None:
        # of_node_release() frees a detached dynamic node; nothing else to do here.
        kref_put(node.kref, lambda _k: None)


def of_property_read_u32(np: device_node, propname: str) -> tuple[int, int]:
    """``of_property_read_u32(np, propname, &out)`` -> ``(rc, out)``: -EINVAL when
    the property is missing, -EOVERFLOW when it is shorter than a u32; ``out`` is
    only meaningful when ``rc`` is 0 (the C leaves it untouched otherwise, which
    the caller sees as its old value: the caller keeps it, see
    :func:`rpaphp_register_slot`)."""
    value = np.properties.get(propname)
    if value is None:
        return -errno.EINVAL, 0
    if len(value) < 4:
        return -errno.EOVERFLOW, 0
    return 0, int.from_bytes(value[:4], "big")


def for_each_child_of_node_scoped(parent: device_node | None) -> Iterator[device_node]:
    """Each child of ``parent`` in turn, a reference held on it while the loop body
    runs; leaving the loop (``break``, ``return``, an exception) drops it."""
    if parent is None:
        return
    for child in list(parent.children):
        of_node_get(child)
        try:
            yield child
        finally:
            of_node_put(child)


def PCI_DN(dn: device_node) -> pci_dn | None:
    """``((struct pci_dn *) (dn)->data)``."""
    return dn.data


# --- drivers/pci/hotplug/rpaphp.h ---

MY_NAME: Final = "rpaphp"

# slot states
NOT_VALID: Final = 3
NOT_CONFIGURED: Final = 2
CONFIGURED: Final = 1
EMPTY: Final = 0


@attrs.define(eq=False)
class slot:
    """``struct slot``: one physical slot of the RPA hotplug driver.  The
    ``rpaphp_slot_list`` node is membership in :data:`rpaphp_slot_head`; left out:
    ``pci_devs`` (used by rpaphp_pci.c only)."""

    state: int = 0
    index: int = 0  # u32 DRC index
    type: int = 0
    power_domain: int = 0
    attention_status: int = 0
    name: str | None = None
    dn: device_node | None = None
    bus: pci_bus | None = None
    hotplug_slot: hotplug_slot = attrs.field(factory=hotplug_slot)

    def __attrs_post_init__(self) -> None:
        self.hotplug_slot.container = self


def to_slot(hotplug_slot: hotplug_slot) -> slot:
    """``container_of(hotplug_slot, struct slot, hotplug_slot)``."""
    s = hotplug_slot.container
    if not isinstance(s, slot):
        raise TypeError("to_slot() of a hotplug slot that is not rpaphp's")
    return s


class rpaphp_params:
    """rpaphp_core.c's module parameters: ``bool rpaphp_debug`` ("debug")."""

    rpaphp_debug = False


def dbg(format: str, *args: object) -> None:
    if rpaphp_params.rpaphp_debug:
        printk(KERN_DEBUG, "%s: " + format, MY_NAME, *args)


def err(format: str, *args: object) -> None:
    printk(KERN_ERR, "%s: " + format, MY_NAME, *args)


def info(format: str, *args: object) -> None:
    printk(KERN_INFO, "%s: " + format, MY_NAME, *args)


# --- rpaphp_core.c (the parts this file uses) ---

#: ``LIST_HEAD(rpaphp_slot_head)``: registered slots, newest first.
rpaphp_slot_head: list[slot] = []

#: ``rpaphp_hotplug_slot_ops``: its RTAS-backed callbacks are not ported.
rpaphp_hotplug_slot_ops = hotplug_slot_ops()


@static_init
def rpaphp_static_init() -> None:
    rpaphp_slot_head.clear()
    rpaphp_params.rpaphp_debug = False


# --- rpaphp_slot.c ---


def dealloc_slot_struct(slot: slot) -> None:
    """Free a slot made by :func:`alloc_slot_struct`: drop its node reference."""
    of_node_put(slot.dn)
    slot.name = None  # kfree(slot->name); kfree(slot)


def alloc_slot_struct(dn: device_node, drc_index: int, drc_name: str, power_domain: int) -> slot | None:
    """A new slot for the DRC ``drc_index``/``drc_name`` of node ``dn`` (a reference on
    ``dn`` taken), or None when out of memory (which cannot happen here)."""
    new = slot()  # kzalloc_obj(struct slot)
    new.name = drc_name  # kstrdup()
    new.dn = of_node_get(dn)
    new.index = drc_index & 0xFFFFFFFF
    new.power_domain = power_domain & 0xFFFFFFFF
    new.hotplug_slot.ops = rpaphp_hotplug_slot_ops

    return new


def is_registered(slot: slot) -> int:
    for tmp_slot in rpaphp_slot_head:
        if tmp_slot.name == slot.name:
            return 1
    return 0


def rpaphp_deregister_slot(slot: slot) -> int:
    retval = 0
    php_slot = slot.hotplug_slot

    dbg("%s - Entry: deregistering slot=%s\n", sys._getframe().f_code.co_name, slot.name)

    rpaphp_slot_head.remove(slot)  # list_del(&slot->rpaphp_slot_list)
    pci_hp_deregister(php_slot)
    dealloc_slot_struct(slot)

    dbg("%s - Exit: rc[%d]\n", sys._getframe().f_code.co_name, retval)
    return retval


def rpaphp_register_slot(slot: slot) -> int:
    """Register ``slot`` with the hotplug core.  Its device number is that of the
    child node of ``slot.dn`` whose "ibm,my-drc-index" is the slot's DRC index; with
    no such child (an empty slot) it is a placeholder (-1).  -EAGAIN if a slot of
    that name is registered already; else what ``pci_hp_register`` returns."""
    php_slot = slot.hotplug_slot
    # u32 my_index: uninitialised in C until a read succeeds, and a failed read
    # leaves the previous child's value; None stands for "indeterminate".
    my_index: int | None = None
    retval: int
    slotno = PCI_SLOT_PLACEHOLDER

    dbg(
        "%s registering slot:path[%s] index[%x], name[%s] pdomain[%x] type[%d]\n",
        sys._getframe().f_code.co_name,
        of_node_full_name(slot.dn),
        slot.index,
        slot.name,
        slot.power_domain,
        slot.type,
    )

    # should not try to register the same slot twice
    if is_registered(slot):
        err("rpaphp_register_slot: slot[%s] is already registered\n", slot.name)
        return -errno.EAGAIN

    for child in for_each_child_of_node_scoped(slot.dn):
        retval, value = of_property_read_u32(child, "ibm,my-drc-index")
        if retval == 0:
            my_index = value
        if my_index == slot.index:
            pdn = PCI_DN(child)
            if pdn is None:
                BUG("NULL pointer dereference of PCI_DN(child)")
            assert pdn is not None
            slotno = PCI_SLOT(pdn.devfn)
            break

    assert slot.bus is not None  # rpaphp_add_slot() sets it before registering
    assert slot.name is not None
    retval = pci_hp_register(php_slot, slot.bus, slotno, slot.name)
    if retval:
        err("pci_hp_register failed with error %d\n", retval)
        return retval

    # add slot to our internal list
    rpaphp_slot_head.insert(0, slot)  # list_add()
    info("Slot [%s] registered\n", slot.name)
    return 0
