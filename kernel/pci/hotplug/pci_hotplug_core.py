"""drivers/pci/hotplug/pci_hotplug_core.c (Linux 7.1-rc4): the PCI hotplug core,
through which hotplug drivers (s390_pci_hpc, rpaphp, ...) register their slots.
Not changed by the v17 series.

Source: the newest stored copy found (a 6.13+ tree, Kingxukai/linux @ 0291023e,
with that tree's stray "the woke" insertions in comments ignored); its identity with
7.1-rc4 is not verified.  In this form the core keeps no list of its own and no
``pci_hp_mutex`` (both went away when the slot files moved onto ``struct
pci_slot``): a hotplug slot is known through ``pci_slot->hotplug`` only.

Registration: :func:`pci_hp_register` -> :func:`__pci_hp_register` ->
:func:`__pci_hp_initialize` (creates or claims the ``struct pci_slot`` with
:func:`~kernel.pci.slot.pci_create_slot`) then :func:`pci_hp_add` (publishes the
slot's files and sends the KOBJ_ADD uevent).  Removal: :func:`pci_hp_deregister` ->
:func:`pci_hp_del` + :func:`pci_hp_destroy`.

The ``pci_hp_register()``/``pci_hp_initialize()`` macros of
include/linux/pci_hotplug.h pass ``THIS_MODULE`` and ``KBUILD_MODNAME``; they are
functions here (a header module imports nothing from ``.c`` modules), and take the
module name from the calling module's ``KBUILD_MODNAME`` global, else from the last
part of its Python module name.  ``owner`` (``struct module *``) is represented by
that name too.

Without sysfs:

* the attribute functions (``power``, ``attention``, ``latch``, ``adapter``,
  ``test``) are ported; ``show`` returns the text a read gives, ``store`` the count
  or a negative errno, as :mod:`kernel.pci.slot` does for its own files;
* :func:`fs_add_slot`/:func:`fs_remove_slot` keep their decisions (which files a
  slot gets, from its ops) but ``sysfs_create_file``/``sysfs_remove_file`` have
  nothing to act on, and the "module" link is not made because there is no
  ``module_kset`` to find the driver in; ``fs_add_slot`` therefore always
  succeeds and its unwinding labels are not reachable.

Left out: ``pci_hp_ignore_link_change()``/``pci_hp_unignore_link_change()``/
``pci_hp_spurious_link_change()`` (link-change bookkeeping of PCIe bridges, which
s390 does not have).  ``cpci_hotplug_init()`` is the inline of cpci_hotplug.h for
``CONFIG_HOTPLUG_PCI_CPCI=n`` (s390 has no CompactPCI).
"""

from __future__ import annotations

import errno
import sys

from kernel.include.linux.pci import pci_bus, pci_slot
from kernel.include.linux.pci_hotplug import hotplug_slot
from kernel.lib.bug import WARN_ON
from kernel.lib.errno import IS_ERR, PTR_ERR, ErrPtr
from kernel.lib.init import device_initcall, static_init
from kernel.lib.kobject import KOBJ_ADD, kobject_uevent
from kernel.lib.printk import KERN_DEBUG, KERN_ERR, printk
from kernel.lib.sysfs import sysfs_emit
from kernel.pci.slot import pci_create_slot, pci_destroy_slot, pci_slot_attribute

__all__ = [
    "__pci_hp_initialize",
    "__pci_hp_register",
    "hotplug_slot_attr_attention",
    "hotplug_slot_attr_latch",
    "hotplug_slot_attr_power",
    "hotplug_slot_attr_presence",
    "hotplug_slot_attr_test",
    "hotplug_slot_files",
    "pci_hp_add",
    "pci_hp_del",
    "pci_hp_deregister",
    "pci_hp_destroy",
    "pci_hp_initialize",
    "pci_hp_register",
]

MY_NAME = "pci_hotplug"

#: ``static bool debug`` (module parameter "debug", off by default).
debug = False


@static_init
def pci_hotplug_core_static_init() -> None:
    global debug
    debug = False


def dbg(fmt: str, *args: object) -> None:
    """The file's ``dbg()`` macro: printed only with the "debug" parameter set, and
    prefixed with the calling function's name (``__func__``)."""
    if debug:
        func = sys._getframe(1).f_code.co_name
        printk(KERN_DEBUG, "%s: %s: " + fmt, MY_NAME, func, *args)


def err(format: str, *args: object) -> None:
    printk(KERN_ERR, "%s: " + format, MY_NAME, *args)


def simple_strtoul(buf: str, base: int) -> int:
    """lib/vsprintf.c, for the base-10 use here: the leading digits of ``buf`` (after
    leading white space), 0 if there are none.  Exists here because no other module
    of the port needs it."""
    s = buf.lstrip()
    digits = ""
    for ch in s:
        if not ch.isdigit() or int(ch) >= base:
            break
        digits += ch
    return int(digits, base) if digits else 0


# GET_STATUS(name, type): ask the driver, when it has the callback.  Without one the
# C leaves *value as it was -- an uninitialised local of the caller, which this
# model starts at 0.


def get_power_status(slot: hotplug_slot) -> tuple[int, int]:
    ops = slot.ops
    assert ops is not None  # registration refuses a slot without ops
    retval, value = 0, 0
    if ops.get_power_status is not None:
        retval, value = ops.get_power_status(slot)
    return retval, value


def get_attention_status(slot: hotplug_slot) -> tuple[int, int]:
    ops = slot.ops
    assert ops is not None
    retval, value = 0, 0
    if ops.get_attention_status is not None:
        retval, value = ops.get_attention_status(slot)
    return retval, value


def get_latch_status(slot: hotplug_slot) -> tuple[int, int]:
    ops = slot.ops
    assert ops is not None
    retval, value = 0, 0
    if ops.get_latch_status is not None:
        retval, value = ops.get_latch_status(slot)
    return retval, value


def get_adapter_status(slot: hotplug_slot) -> tuple[int, int]:
    ops = slot.ops
    assert ops is not None
    retval, value = 0, 0
    if ops.get_adapter_status is not None:
        retval, value = ops.get_adapter_status(slot)
    return retval, value


def _hotplug(pci_slot: pci_slot) -> hotplug_slot:
    """``pci_slot->hotplug``, which the files of a hotplug slot can rely on (they
    exist only while the slot is registered).  Exists only in Python (typing)."""
    slot = pci_slot.hotplug
    assert slot is not None and slot.ops is not None
    return slot


def power_read_file(pci_slot: pci_slot) -> str | int:
    retval, value = get_power_status(_hotplug(pci_slot))
    if retval:
        return retval

    return sysfs_emit("%d\n", value & 0xFF)


def power_write_file(pci_slot: pci_slot, buf: str, count: int) -> int:
    slot = _hotplug(pci_slot)
    assert slot.ops is not None
    retval = 0

    lpower = simple_strtoul(buf, 10)
    power = lpower & 0xFF
    dbg("power = %d\n", power)

    if power == 0:
        if slot.ops.disable_slot is not None:
            retval = slot.ops.disable_slot(slot)
    elif power == 1:
        if slot.ops.enable_slot is not None:
            retval = slot.ops.enable_slot(slot)
    else:
        err("Illegal value specified for power\n")
        retval = -errno.EINVAL

    if retval:
        return retval
    return count


#: S_IFREG | S_IRUGO | S_IWUSR and S_IFREG | S_IRUGO
_MODE_RW = 0o100000 | 0o444 | 0o200
_MODE_RO = 0o100000 | 0o444

hotplug_slot_attr_power = pci_slot_attribute("power", _MODE_RW, power_read_file, power_write_file)


def attention_read_file(pci_slot: pci_slot) -> str | int:
    retval, value = get_attention_status(_hotplug(pci_slot))
    if retval:
        return retval

    return sysfs_emit("%d\n", value & 0xFF)


def attention_write_file(pci_slot: pci_slot, buf: str, count: int) -> int:
    slot = _hotplug(pci_slot)
    ops = slot.ops
    assert ops is not None
    retval = 0

    lattention = simple_strtoul(buf, 10)
    attention = lattention & 0xFF
    dbg(" - attention = %d\n", attention)

    if ops.set_attention_status is not None:
        retval = ops.set_attention_status(slot, attention)

    if retval:
        return retval
    return count


hotplug_slot_attr_attention = pci_slot_attribute(
    "attention", _MODE_RW, attention_read_file, attention_write_file
)


def latch_read_file(pci_slot: pci_slot) -> str | int:
    retval, value = get_latch_status(_hotplug(pci_slot))
    if retval:
        return retval

    return sysfs_emit("%d\n", value & 0xFF)


hotplug_slot_attr_latch = pci_slot_attribute("latch", _MODE_RO, latch_read_file)


def presence_read_file(pci_slot: pci_slot) -> str | int:
    retval, value = get_adapter_status(_hotplug(pci_slot))
    if retval:
        return retval

    return sysfs_emit("%d\n", value & 0xFF)


hotplug_slot_attr_presence = pci_slot_attribute("adapter", _MODE_RO, presence_read_file)


def test_write_file(pci_slot: pci_slot, buf: str, count: int) -> int:
    slot = _hotplug(pci_slot)
    assert slot.ops is not None
    retval = 0

    ltest = simple_strtoul(buf, 10)
    test = ltest & 0xFFFFFFFF
    dbg("test = %d\n", test)

    if slot.ops.hardware_test is not None:
        retval = slot.ops.hardware_test(slot, test)

    if retval:
        return retval
    return count


hotplug_slot_attr_test = pci_slot_attribute("test", _MODE_RW, None, test_write_file)


def has_power_file(slot: hotplug_slot) -> bool:
    assert slot.ops is not None
    if slot.ops.enable_slot or slot.ops.disable_slot or slot.ops.get_power_status:
        return True
    return False


def has_attention_file(slot: hotplug_slot) -> bool:
    assert slot.ops is not None
    if slot.ops.set_attention_status or slot.ops.get_attention_status:
        return True
    return False


def has_latch_file(slot: hotplug_slot) -> bool:
    assert slot.ops is not None
    if slot.ops.get_latch_status:
        return True
    return False


def has_adapter_file(slot: hotplug_slot) -> bool:
    assert slot.ops is not None
    if slot.ops.get_adapter_status:
        return True
    return False


def has_test_file(slot: hotplug_slot) -> bool:
    assert slot.ops is not None
    if slot.ops.hardware_test:
        return True
    return False


def fs_add_slot(slot: hotplug_slot, pci_slot: pci_slot) -> int:
    """Give the slot's directory the files its ops support.  Without sysfs there is
    no directory: :func:`hotplug_slot_files` says which files the C creates, and
    creating them cannot fail, so the C's ``exit_*`` unwinding is not reachable."""
    retval = 0

    # The "module" link: kset_find_obj(module_kset, slot->mod_name) finds nothing
    # in this model (there are no module kobjects), so no link is made and its
    # dev_err("Error creating sysfs link (%d)\n") cannot fire.

    return retval


def fs_remove_slot(slot: hotplug_slot, pci_slot: pci_slot) -> None:
    """The counterpart of :func:`fs_add_slot`: nothing to remove without sysfs."""


def hotplug_slot_files(slot: hotplug_slot) -> list[pci_slot_attribute]:
    """The files :func:`fs_add_slot` gives a registered hotplug slot, in the order
    it creates them: what ``ls /sys/bus/pci/slots/<name>`` adds to the slot's own
    files.  Exists only in Python (stands in for the sysfs directory)."""
    files = []
    if has_power_file(slot):
        files.append(hotplug_slot_attr_power)
    if has_attention_file(slot):
        files.append(hotplug_slot_attr_attention)
    if has_latch_file(slot):
        files.append(hotplug_slot_attr_latch)
    if has_adapter_file(slot):
        files.append(hotplug_slot_attr_presence)
    if has_test_file(slot):
        files.append(hotplug_slot_attr_test)
    return files


def __pci_hp_register(
    slot: hotplug_slot | None, bus: pci_bus, devnr: int, name: str, owner: str, mod_name: str
) -> int:
    """Register ``slot`` with the hotplug core and publish it: :func:`__pci_hp_initialize`
    then :func:`pci_hp_add`.  Returns 0 or a negative errno."""
    result = __pci_hp_initialize(slot, bus, devnr, name, owner, mod_name)
    if result:
        return result

    assert slot is not None
    result = pci_hp_add(slot)
    if result:
        pci_hp_destroy(slot)

    return result


def __pci_hp_initialize(
    slot: hotplug_slot | None, bus: pci_bus, devnr: int, name: str, owner: str, mod_name: str
) -> int:
    """Create (or claim) the ``struct pci_slot`` for ``slot``: -ENODEV without a
    slot, -EINVAL without ops, else what :func:`pci_create_slot` fails with.  From
    here on the driver must be ready for ``->reset_slot``."""
    if slot is None:
        return -errno.ENODEV
    if slot.ops is None:
        return -errno.EINVAL

    slot.owner = owner
    slot.mod_name = mod_name

    # If a slot driver made the pci_slot already, this only takes a reference.
    pci_slot = pci_create_slot(bus, devnr, name, slot)
    if IS_ERR(pci_slot):
        return PTR_ERR(pci_slot)
    assert not isinstance(pci_slot, ErrPtr)  # for the type checker

    slot.pci_slot = pci_slot
    pci_slot.hotplug = slot
    return 0


def pci_hp_add(slot: hotplug_slot | None) -> int:
    """Publish an initialised hotplug slot: its files, and the KOBJ_ADD uevent."""
    if WARN_ON(slot is None):
        return -errno.EINVAL
    assert slot is not None

    pci_slot = slot.pci_slot
    assert pci_slot is not None

    result = fs_add_slot(slot, pci_slot)
    if result:
        return result

    kobject_uevent(pci_slot.kobj, KOBJ_ADD)
    return 0


def pci_hp_deregister(slot: hotplug_slot) -> None:
    """Undo :func:`pci_hp_register`."""
    pci_hp_del(slot)
    pci_hp_destroy(slot)


def pci_hp_del(slot: hotplug_slot | None) -> None:
    """Unpublish the slot's files."""
    if WARN_ON(slot is None):
        return
    assert slot is not None
    assert slot.pci_slot is not None

    fs_remove_slot(slot, slot.pci_slot)


def pci_hp_destroy(slot: hotplug_slot) -> None:
    """Undo :func:`__pci_hp_initialize`: unlink the two structures and drop the
    ``pci_slot`` reference.  No ``->reset_slot`` calls come after this."""
    pci_slot = slot.pci_slot
    assert pci_slot is not None

    slot.pci_slot = None
    pci_slot.hotplug = None
    pci_destroy_slot(pci_slot)


def _caller_modname(depth: int) -> str:
    """KBUILD_MODNAME of the module ``depth`` frames up.  Exists only in Python."""
    g = sys._getframe(depth + 1).f_globals
    name = g.get("KBUILD_MODNAME")
    if isinstance(name, str):
        return name
    return str(g.get("__name__", "")).rsplit(".", 1)[-1]


def pci_hp_register(slot: hotplug_slot | None, pbus: pci_bus, devnr: int, name: str) -> int:
    """``#define pci_hp_register(slot, pbus, devnr, name)`` ->
    ``__pci_hp_register(slot, pbus, devnr, name, THIS_MODULE, KBUILD_MODNAME)``."""
    mod_name = _caller_modname(1)
    return __pci_hp_register(slot, pbus, devnr, name, mod_name, mod_name)


def pci_hp_initialize(slot: hotplug_slot | None, bus: pci_bus, nr: int, name: str) -> int:
    """``#define pci_hp_initialize(slot, bus, nr, name)`` ->
    ``__pci_hp_initialize(slot, bus, nr, name, THIS_MODULE, KBUILD_MODNAME)``."""
    mod_name = _caller_modname(1)
    return __pci_hp_initialize(slot, bus, nr, name, mod_name, mod_name)


def cpci_hotplug_init(debug: bool) -> int:
    """cpci_hotplug.h with ``CONFIG_HOTPLUG_PCI_CPCI=n``."""
    return 0


@device_initcall
def pci_hotplug_init() -> int:
    result = cpci_hotplug_init(debug)
    if result:
        err("cpci_hotplug_init with error %d\n", result)
        return result

    return result
