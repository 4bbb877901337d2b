"""include/linux/pci_hotplug.h (Linux 7.1-rc4): ``struct hotplug_slot`` and
``struct hotplug_slot_ops``.  Not changed by the v17 series.

Left out: the sysfs attribute callbacks beyond what the s390 and rpaphp drivers set
(power status, attention, latch, adapter status readers are kept as optional
callables), and the ``pci_hp_*`` function declarations, whose bodies live in
kernel/pci/hotplug/pci_hotplug_core.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from kernel.include.linux.pci import pci_slot_name

if TYPE_CHECKING:
    from kernel.include.linux.pci import pci_slot

__all__ = ["hotplug_slot", "hotplug_slot_name", "hotplug_slot_ops"]


@attrs.define(eq=False)
class hotplug_slot_ops:
    """``struct hotplug_slot_ops``: ``None`` is a NULL callback.  Integer results are
    0 or a negative errno; ``get_*`` callbacks return ``(rc, value)``."""

    enable_slot: Callable[[hotplug_slot], int] | None = None
    disable_slot: Callable[[hotplug_slot], int] | None = None
    set_attention_status: Callable[[hotplug_slot, int], int] | None = None
    hardware_test: Callable[[hotplug_slot, int], int] | None = None
    get_power_status: Callable[[hotplug_slot], tuple[int, int]] | None = None
    get_attention_status: Callable[[hotplug_slot], tuple[int, int]] | None = None
    get_latch_status: Callable[[hotplug_slot], tuple[int, int]] | None = None
    get_adapter_status: Callable[[hotplug_slot], tuple[int, int]] | None = None
    reset_slot: Callable[[hotplug_slot, bool], int] | None = None


@attrs.define(eq=False)
class hotplug_slot:
    """``struct hotplug_slot``.  ``owner``/``mod_name`` stand for the module that
    registered it (``try_module_get`` always succeeds in this model unless
    ``owner_gone`` is set, which models an unloading module)."""

    ops: hotplug_slot_ops | None = None
    pci_slot: pci_slot | None = None
    owner: str = ""
    mod_name: str = ""
    owner_gone: bool = False
    #: The structure that embeds this hotplug slot (container_of() in C).
    container: Any = attrs.field(default=None, repr=False)


def hotplug_slot_name(slot: hotplug_slot) -> str:
    """The name of the registered slot (that of its ``struct pci_slot``)."""
    assert slot.pci_slot is not None  # only valid between initialize and destroy
    return pci_slot_name(slot.pci_slot)
