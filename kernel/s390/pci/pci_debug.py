"""arch/s390/pci/pci_debug.c: the zPCI debug-feature areas (Linux 7.1-rc4; not changed by
the v17 series).  ``zpci_debug_init`` registers ``pci_msg`` (8 pages, one area, records
of ``8 * sizeof(long)``) and ``pci_error`` (2 pages, 16-byte records), both at level 3.
Left out: the per-device debugfs files (statistics, FMB) and views."""

from __future__ import annotations

import errno

from kernel.lib.init import static_init
from kernel.s390.include.asm.pci_debug import debug_ids
from kernel.s390.kernel.debug import debug_register, debug_set_level, debug_unregister

__all__ = ["zpci_debug_exit", "zpci_debug_init"]


@static_init
def pci_debug_static_init() -> None:
    debug_ids["msg"] = None
    debug_ids["err"] = None


def zpci_debug_init() -> int:
    # event trace buffer
    msg = debug_register("pci_msg", 8, 1, 8 * 8)
    if msg is None:
        return -errno.EINVAL
    debug_ids["msg"] = msg
    debug_set_level(msg, 3)

    # error log
    err = debug_register("pci_error", 2, 1, 16)
    if err is None:
        return -errno.EINVAL
    debug_ids["err"] = err
    debug_set_level(err, 3)

    return 0


def zpci_debug_exit() -> None:
    debug_unregister(debug_ids["msg"])
    debug_unregister(debug_ids["err"])
