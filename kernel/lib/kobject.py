"""include/linux/kobject.h, lib/kobject.c and lib/kobject_uevent.c, as far as the
ported code needs them: a name, a parent, a reference count whose last put calls
the type's ``release``, and uevents.

There is no sysfs: ``kobject_add`` gives the object its name and parent and nothing
else.  ``kobject_uevent_env`` records the event (action, path, environment) in
:data:`uevents`, which tests and the scenario timeline read, where the kernel would
send it to udev.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from enum import IntEnum

import attrs

from kernel.lib.kref import kref, kref_get, kref_get_unless_zero, kref_init, kref_put, kref_read

__all__ = [
    "KOBJ_ADD",
    "KOBJ_CHANGE",
    "KOBJ_REMOVE",
    "kobj_type",
    "kobject",
    "kobject_action",
    "kobject_get",
    "kobject_get_unless_zero",
    "kobject_init",
    "kobject_init_and_add",
    "kobject_name",
    "kobject_put",
    "kobject_rename",
    "kobject_uevent",
    "kobject_uevent_env",
    "kset",
    "kset_find_obj",
    "kset_init",
    "uevent",
    "uevents",
]


class kobject_action(IntEnum):
    KOBJ_ADD = 0
    KOBJ_REMOVE = 1
    KOBJ_CHANGE = 2
    KOBJ_MOVE = 3
    KOBJ_ONLINE = 4
    KOBJ_OFFLINE = 5
    KOBJ_BIND = 6
    KOBJ_UNBIND = 7


KOBJ_ADD = kobject_action.KOBJ_ADD
KOBJ_REMOVE = kobject_action.KOBJ_REMOVE
KOBJ_CHANGE = kobject_action.KOBJ_CHANGE

#: lib/kobject_uevent.c: the action names udev sees.
_ACTION_NAMES = ("add", "remove", "change", "move", "online", "offline", "bind", "unbind")


@attrs.define(eq=False)
class kobj_type:
    release: Callable[[kobject], None] | None = None


@attrs.define(eq=False)
class kset:
    """``struct kset``: a named group of kobjects.  ``kobj`` is the kset's own
    kobject (its name and place in the tree); ``list`` holds the members, which
    ``kobject_add`` joins and the last ``kobject_put`` removes."""

    name: str
    kobj: kobject = attrs.field(factory=lambda: kobject())
    list: list[kobject] = attrs.field(factory=list)
    list_lock: threading.Lock = attrs.field(factory=threading.Lock, repr=False)

    def __attrs_post_init__(self) -> None:
        self.kobj.name = self.name


@attrs.define(eq=False)
class kobject:
    name: str = ""
    parent: kobject | None = None
    kset: kset | None = None
    ktype: kobj_type | None = None
    kref: kref = attrs.field(factory=kref)
    state_initialized: bool = False
    state_in_sysfs: bool = False
    state_add_uevent_sent: bool = False
    state_remove_uevent_sent: bool = False
    #: The structure embedding this kobject (what container_of() computes in C).
    container: object = attrs.field(default=None, repr=False)


@attrs.frozen
class uevent:
    action: str
    devpath: str
    env: tuple[str, ...]


#: Every uevent sent since boot, oldest first.
uevents: list[uevent] = []
_uevent_lock = threading.Lock()


def kobject_name(kobj: kobject) -> str:
    return kobj.name


def kobject_init(kobj: kobject, ktype: kobj_type) -> None:
    kref_init(kobj.kref)
    kobj.ktype = ktype
    kobj.state_initialized = True


def kset_init(k: kset) -> None:
    """Empty the kset's member list (``kset_init()``)."""
    with k.list_lock:
        k.list.clear()


def kobject_add(kobj: kobject, parent: kobject | None, name: str) -> int:
    kobj.name = name
    # kobject_add_internal(): a kobject in a kset and without a parent hangs
    # below the kset's own kobject, and joins the kset's list.
    if kobj.kset is not None:
        if parent is None:
            parent = kobj.kset.kobj
        with kobj.kset.list_lock:
            kobj.kset.list.append(kobj)
    kobj.parent = parent
    kobj.state_in_sysfs = True
    return 0


def kobject_init_and_add(kobj: kobject, ktype: kobj_type, parent: kobject | None, name: str) -> int:
    kobject_init(kobj, ktype)
    return kobject_add(kobj, parent, name)


def kobject_rename(kobj: kobject, new_name: str) -> int:
    kobj.name = new_name
    return 0


def kobject_get(kobj: kobject | None) -> kobject | None:
    if kobj is not None:
        kref_get(kobj.kref)
    return kobj


def kobject_get_unless_zero(kobj: kobject) -> kobject | None:
    return kobj if kref_get_unless_zero(kobj.kref) else None


def _kobject_release(kobj: kobject) -> None:
    # kobject_cleanup(): an object that announced "add" but never "remove" gets
    # its "remove" now, then kobject_del() takes it out of its kset.
    if kobj.state_add_uevent_sent and not kobj.state_remove_uevent_sent:
        kobject_uevent(kobj, KOBJ_REMOVE)
    if kobj.kset is not None and kobj.state_in_sysfs:
        with kobj.kset.list_lock:
            if kobj in kobj.kset.list:
                kobj.kset.list.remove(kobj)
    kobj.state_in_sysfs = False
    if kobj.ktype is not None and kobj.ktype.release is not None:
        kobj.ktype.release(kobj)


def kobject_put(kobj: kobject | None) -> None:
    if kobj is not None:
        kref_put(kobj.kref, lambda _k: _kobject_release(kobj))


def kset_find_obj(k: kset, name: str) -> kobject | None:
    """The member of ``k`` called ``name``, with a reference taken, or None."""
    with k.list_lock:
        for member in k.list:
            if kobject_name(member) == name:
                return kobject_get_unless_zero(member)
    return None


def kobject_read_refcount(kobj: kobject) -> int:
    """The kobject's reference count (``kref_read(&kobj->kref)``)."""
    return kref_read(kobj.kref)


def kobject_get_path(kobj: kobject) -> str:
    parts = []
    k: kobject | None = kobj
    while k is not None:
        parts.append(k.name)
        k = k.parent
    return "/" + "/".join(reversed(parts))


def kobject_uevent_env(kobj: kobject, action: kobject_action, envp: Sequence[str] | None) -> int:
    ev = uevent(_ACTION_NAMES[action], kobject_get_path(kobj), tuple(envp or ()))
    if action == KOBJ_ADD:
        kobj.state_add_uevent_sent = True
    elif action == KOBJ_REMOVE:
        kobj.state_remove_uevent_sent = True
    with _uevent_lock:
        uevents.append(ev)
    return 0


def kobject_uevent(kobj: kobject, action: kobject_action) -> int:
    return kobject_uevent_env(kobj, action, None)


def kobject_uevents_reset() -> None:
    """Forget the recorded uevents (boot).  Exists only in Python."""
    with _uevent_lock:
        uevents.clear()
