"""drivers/pci/slot.c (Linux 7.1-rc4 with the v17 series): physical PCI slots.

A ``struct pci_slot`` names a physical slot on a bus; hotplug drivers create one
through :func:`pci_create_slot` (via ``pci_hp_register``), and every device on the
bus whose device number matches the slot's ``number`` gets ``dev->slot`` pointing at
it.  The slot is reference counted through its kobject; the last put runs
:func:`pci_slot_release`, which clears ``dev->slot`` of the matching devices again.

Patches of the v17 series that change this file:

* v17 1/7 "PCI: Allow per function PCI slots to fix slot reset on s390": adds
  ``pci_dev_matches_slot()``/``pci_slot_enabled_per_func()``, replaces the three
  open-coded match conditions with the former, marks s390 slots ``per_func_slot``
  and compares the placeholder against ``(u16)PCI_SLOT_PLACEHOLDER``.

Since 1/7 a slot can be *per function* (``per_func_slot``): it then belongs to the
one function whose devfn equals its number.  On s390 every slot is one (the s390
hotplug driver registers a slot per function, numbered with the full devfn); on
other architectures a slot still covers every function of its device number.
``pci_slot.number`` is a ``u16`` (kernel/include/linux/pci.py), so the placeholder
-1 reads back as 0xffff and no devfn collides with ``PCI_SLOT_ALL_DEVICES`` (0xfeff).

Locks: ``pci_slot_mutex`` protects every bus's ``slots`` list and is taken before
``pci_bus_sem`` (read), which protects the bus's ``devices`` list.  In C the mutex
is defined in drivers/pci/pci.c and declared in drivers/pci/pci.h; here it lives in
this module, its main user, and drivers/pci/pci.c's port imports it from here.

What is modelled and what is not:

* sysfs: there is none.  The attribute ``show``/``store`` functions are ported and
  return what a read of the file gives (a ``str``) or a negative errno;
  ``pci_slot_attr_show``/``pci_slot_attr_store`` dispatch as the ``sysfs_ops`` do.
  The s390 ``ARCH_PCI_SLOT_GROUPS`` entry (the ``uid`` file, defined in
  arch/s390/pci/pci_sysfs.c) is not part of this file's port.
* ``max_bus_speed``/``cur_bus_speed`` are not ported: they need ``enum
  pci_bus_speed`` in ``struct pci_bus`` and ``pci_speed_string()``
  (drivers/pci/probe.c), which this port does not hold yet.
* kobjects are modelled as far as the release path and the name look-up need
  (kernel/lib/kobject.py): a name, a kset membership, a reference count whose last
  put calls :func:`pci_slot_release`.
* ``pci_bus_get``/``pci_bus_put`` (drivers/pci/bus.c) are defined here, as no
  other module of the port holds them yet; ``pci_domain_nr`` calls the s390 arch
  definition (arch/s390/pci/pci.c).
* Allocation cannot fail in Python, so the ``-ENOMEM`` branches of
  :func:`make_slot_name`, :func:`rename_slot` and :func:`pci_create_slot` are kept
  for the reader but are not reachable.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

import attrs

from kernel.include.linux.pci import (
    PCI_SLOT,
    PCI_SLOT_ALL_DEVICES,
    PCI_SLOT_PLACEHOLDER,
    pci_bus,
    pci_dev,
    pci_slot,
    pci_slot_name,
)
from kernel.include.linux.pci_hotplug import hotplug_slot
from kernel.lib.device import get_device, put_device
from kernel.lib.errno import ERR_PTR, ErrPtr
from kernel.lib.init import static_init, subsys_initcall
from kernel.lib.kconfig import CONFIG_S390, IS_ENABLED
from kernel.lib.kobject import (
    kobj_type,
    kobject,
    kobject_get,
    kobject_init_and_add,
    kobject_put,
    kobject_rename,
    kset,
    kset_find_obj,
    kset_init,
)
from kernel.lib.kref import kref_read
from kernel.lib.mutex import DEFINE_MUTEX, mutex_init, mutex_lock, mutex_unlock
from kernel.lib.printk import dev_dbg
from kernel.lib.rwsem import down_read, up_read
from kernel.lib.sysfs import sysfs_emit
from kernel.pci.search import pci_bus_sem

__all__ = [
    "pci_create_slot",
    "pci_destroy_slot",
    "pci_dev_assign_slot",
    "pci_slot_attribute",
    "pci_slot_attr_show",
    "pci_slot_attr_store",
    "pci_slot_default_attrs",
    "pci_slot_mutex",
    "pci_slots_kset",
    "to_pci_slot",
]

#: ``DEFINE_MUTEX(pci_slot_mutex)`` (drivers/pci/pci.c): protects the buses' slot lists.
pci_slot_mutex = DEFINE_MUTEX("pci_slot_mutex")

#: ``struct kset *pci_slots_kset``: /sys/bus/pci/slots, made by :func:`pci_slot_init`.
pci_slots_kset = kset("slots")


@static_init
def slot_static_init() -> None:
    mutex_init(pci_slot_mutex)
    kset_init(pci_slots_kset)
    pci_slots_kset.kobj.parent = None


# --- helpers from other files (see the module docstring) ---


def pci_bus_get(bus: pci_bus) -> pci_bus:
    """drivers/pci/bus.c: take a reference on the bus's device."""
    get_device(bus.dev)
    return bus


def pci_bus_put(bus: pci_bus) -> None:
    """drivers/pci/bus.c: drop a reference taken by :func:`pci_bus_get`."""
    put_device(bus.dev)


def pci_domain_nr(bus: pci_bus) -> int:
    """The bus's PCI domain.  include/linux/pci.h declares it; s390 (``CONFIG_PCI_DOMAINS``
    without ``_GENERIC``) defines it in arch/s390/pci/pci.c, from the ``zpci_bus`` in
    ``bus->sysdata``.  Looked up at call time: the arch code comes later in link
    order and imports the PCI core.  Exists only in Python as this indirection."""
    from kernel.s390.pci.pci import pci_domain_nr as arch_pci_domain_nr

    return arch_pci_domain_nr(bus)


# --- slot.c ---


@attrs.define(eq=False)
class pci_slot_attribute:
    """``struct pci_slot_attribute`` (drivers/pci/pci.h): a file of a slot's
    directory.  ``show(slot)`` returns the file's text or a negative errno;
    ``store(slot, buf, count)`` returns the count consumed or a negative errno."""

    name: str
    mode: int
    show: Callable[[pci_slot], str | int] | None = None
    store: Callable[[pci_slot, str, int], int] | None = None


def to_pci_slot(kobj: kobject) -> pci_slot:
    """``container_of(kobj, struct pci_slot, kobj)`` (drivers/pci/pci.h)."""
    slot = kobj.container
    if not isinstance(slot, pci_slot):
        raise TypeError(f"to_pci_slot() of a kobject that is not a slot's: {kobj.name}")
    return slot


def pci_slot_attr_show(kobj: kobject, attr: pci_slot_attribute) -> str | int:
    slot = to_pci_slot(kobj)
    return attr.show(slot) if attr.show is not None else -errno.EIO


def pci_slot_attr_store(kobj: kobject, attr: pci_slot_attribute, buf: str, len: int) -> int:
    slot = to_pci_slot(kobj)
    return attr.store(slot, buf, len) if attr.store is not None else -errno.EIO


def address_read_file(slot: pci_slot) -> str:
    # The placeholder test is against the value -1 becomes in the u16 number.
    if slot.number == PCI_SLOT_PLACEHOLDER & 0xFFFF:  # (u16)PCI_SLOT_PLACEHOLDER
        return sysfs_emit("%04x:%02x\n", pci_domain_nr(slot.bus), slot.bus.number)

    # A bus-wide slot (PCIe hotplug) keeps reporting device 0, as before
    # PCI_SLOT_ALL_DEVICES existed.
    if slot.number == PCI_SLOT_ALL_DEVICES:
        return sysfs_emit("%04x:%02x:00\n", pci_domain_nr(slot.bus), slot.bus.number)

    return sysfs_emit("%04x:%02x:%02x\n", pci_domain_nr(slot.bus), slot.bus.number, slot.number)


def pci_dev_matches_slot(dev: pci_dev, slot: pci_slot) -> bool:
    """Does ``slot`` cover ``dev``?  A per-function slot covers the one function
    with its devfn; any other slot covers its device number, or the whole bus."""
    if slot.per_func_slot:
        return dev.devfn == slot.number

    return slot.number == PCI_SLOT_ALL_DEVICES or PCI_SLOT(dev.devfn) == slot.number


def pci_slot_enabled_per_func() -> bool:
    """Slots are per function where the platform hands out PCI functions one by
    one: s390."""
    if IS_ENABLED(CONFIG_S390):
        return True

    return False


def pci_slot_release(kobj: kobject) -> None:
    slot = to_pci_slot(kobj)

    dev_dbg(slot.bus.dev, "dev %02x, released physical slot %s\n", slot.number, pci_slot_name(slot))

    down_read(pci_bus_sem)
    for dev in slot.bus.devices:
        if pci_dev_matches_slot(dev, slot):
            dev.slot = None
    up_read(pci_bus_sem)

    slot.bus.slots.remove(slot)  # list_del(&slot->list)
    pci_bus_put(slot.bus)
    # kfree(slot): the object goes when the last Python reference does.


#: S_IRUGO
_S_IRUGO = 0o444

pci_slot_attr_address = pci_slot_attribute("address", _S_IRUGO, address_read_file, None)

#: ``pci_slot_default_attrs[]``: the files every slot directory has.
pci_slot_default_attrs: list[pci_slot_attribute] = [pci_slot_attr_address]

pci_slot_ktype = kobj_type(release=pci_slot_release)


def make_slot_name(name: str) -> str | None:
    new_name: str | None = name

    # The C sizes its buffer for "name-X" first and grows it by one digit each
    # time dup reaches a power of ten; only the resulting names matter here.
    dup = 1

    while new_name is not None:
        dup_slot = kset_find_obj(pci_slots_kset, new_name)
        if dup_slot is None:
            break
        kobject_put(dup_slot)
        new_name = f"{name}-{dup}"  # sprintf(new_name, "%s-%d", name, dup++)
        dup += 1

    return new_name


def rename_slot(slot: pci_slot, name: str) -> int:
    result = 0

    if pci_slot_name(slot) == name:
        return result

    slot_name = make_slot_name(name)
    if slot_name is None:
        return -errno.ENOMEM

    result = kobject_rename(slot.kobj, slot_name)

    return result


def pci_dev_assign_slot(dev: pci_dev) -> None:
    """Point ``dev.slot`` at the slot of its bus that covers it.  The bus's slot
    list is newest first (``list_add``), and the last match wins: of several
    matching slots, the oldest one."""
    mutex_lock(pci_slot_mutex)
    for slot in dev.bus.slots:
        if pci_dev_matches_slot(dev, slot):
            dev.slot = slot
    mutex_unlock(pci_slot_mutex)


def get_slot(parent: pci_bus, slot_nr: int) -> pci_slot | None:
    # pci_slot_mutex is held by the caller.
    for slot in parent.slots:
        if slot.number == slot_nr:
            kobject_get(slot.kobj)
            return slot

    return None


def pci_create_slot(
    parent: pci_bus, slot_nr: int, name: str, hotplug: hotplug_slot | None
) -> pci_slot | ErrPtr:
    """Create the slot ``slot_nr`` of ``parent`` called ``name``, or take a reference
    on the existing one.

    ``slot_nr`` is ``PCI_SLOT(devfn)`` (the full devfn on s390, whose slots are
    per function), ``PCI_SLOT_ALL_DEVICES``, or PCI_SLOT_PLACEHOLDER for a
    placeholder slot whose device number is not known yet (pSeries): placeholders
    are never looked up, so each call makes a new one.  A hotplug driver (non-None
    ``hotplug``) may take over and rename an existing slot nobody has claimed;
    -EBUSY if it is claimed already.  Firmware that gives several slots one name is
    worked around by naming the later ones "name-1", "name-2", ...

    Returns the slot, with a reference for the caller, or ``ERR_PTR(-errno)``.
    """
    err = 0
    slot: pci_slot | None

    mutex_lock(pci_slot_mutex)
    try:
        if slot_nr != PCI_SLOT_PLACEHOLDER:
            # Hotplug drivers may rename a slot that exists, unless it is claimed.
            slot = get_slot(parent, slot_nr)
            if slot is not None:
                if hotplug is not None:
                    if slot.hotplug is not None:
                        err = -errno.EBUSY
                        kobject_put(slot.kobj)  # put_slot:
                        return ERR_PTR(err)
                    err = rename_slot(slot, name)
                    if err:
                        kobject_put(slot.kobj)  # put_slot:
                        return ERR_PTR(err)
                return slot  # out:

        # placeholder:
        slot = pci_slot(bus=pci_bus_get(parent))
        slot.number = slot_nr  # stored as a u16

        if pci_slot_enabled_per_func():
            slot.per_func_slot = True

        slot.kobj.kset = pci_slots_kset

        slot_name = make_slot_name(name)
        if slot_name is None:
            err = -errno.ENOMEM
            pci_bus_put(slot.bus)
            return ERR_PTR(err)  # err:

        parent.slots.insert(0, slot)  # list_add(&slot->list, &parent->slots)

        err = kobject_init_and_add(slot.kobj, pci_slot_ktype, None, slot_name)
        if err:
            kobject_put(slot.kobj)  # put_slot:
            return ERR_PTR(err)

        down_read(pci_bus_sem)
        for dev in parent.devices:
            if pci_dev_matches_slot(dev, slot):
                dev.slot = slot
        up_read(pci_bus_sem)

        # %x of the int slot_nr prints its two's complement (-1 is ffffffff).
        dev_dbg(parent.dev, "dev %02x, created physical slot %s\n", slot_nr & 0xFFFFFFFF, pci_slot_name(slot))

        return slot  # out:
    finally:
        mutex_unlock(pci_slot_mutex)


def pci_destroy_slot(slot: pci_slot) -> None:
    """Drop a reference taken by :func:`pci_create_slot`; the last one releases the
    slot (:func:`pci_slot_release`)."""
    dev_dbg(slot.bus.dev, "dev %02x, dec refcount to %d\n", slot.number, kref_read(slot.kobj.kref) - 1)

    mutex_lock(pci_slot_mutex)
    kobject_put(slot.kobj)
    mutex_unlock(pci_slot_mutex)


@subsys_initcall
def pci_slot_init() -> int:
    # bus_get_kset(&pci_bus_type): this model has no bus ksets, so two bare
    # kobjects stand for /sys/bus and /sys/bus/pci, giving the slots their path.
    pci_bus_kset_kobj = kobject(name="pci", parent=kobject(name="bus"))
    # kset_create_and_add("slots", NULL, &pci_bus_kset->kobj): the kset object is
    # static here, so it is (re)registered in place; that cannot fail, so the C's
    # pr_err("PCI: Slot initialization failure\n") / -ENOMEM branch has no
    # counterpart.  The kset's own KOBJ_ADD uevent is not recorded (it goes out at
    # boot, before anyone listens).
    kset_init(pci_slots_kset)
    pci_slots_kset.kobj.parent = pci_bus_kset_kobj
    pci_slots_kset.kobj.state_in_sysfs = True
    return 0
