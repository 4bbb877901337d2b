"""arch/s390/include/asm/pci_debug.h: the zPCI debug-feature macros.

``zpci_dbg(imp, fmt, ...)`` writes a sprintf record to the ``pci_msg`` area;
``zpci_err(text)`` writes at most 15 characters of text to ``pci_error`` (the C
formats into a 16-byte buffer); ``zpci_err_hex`` writes raw bytes there.  The areas
are created by ``zpci_debug_init()`` (arch/s390/pci/pci_debug.c, in
:mod:`kernel.s390.pci.pci_debug`) and live in :data:`debug_ids`, so every module sees
the ones of the running boot.  Tests read them with
:func:`kernel.s390.kernel.debug.debug_entries`.
"""

from __future__ import annotations

from kernel.s390.kernel.debug import (
    debug_event,
    debug_info_t,
    debug_sprintf_event,
    debug_text_event,
)

__all__ = [
    "debug_ids",
    "pci_debug_err_id",
    "pci_debug_msg_id",
    "zpci_dbg",
    "zpci_err",
    "zpci_err_hex",
    "zpci_err_hex_level",
]

#: ``pci_debug_msg_id`` and ``pci_debug_err_id`` of the running kernel (None before
#: zpci_debug_init()).  A dict so the extern variables can be re-set at each boot.
debug_ids: dict[str, debug_info_t | None] = {"msg": None, "err": None}


def pci_debug_msg_id() -> debug_info_t | None:
    return debug_ids["msg"]


def pci_debug_err_id() -> debug_info_t | None:
    return debug_ids["err"]


def zpci_dbg(imp: int, fmt: str, *args: object) -> None:
    debug_sprintf_event(debug_ids["msg"], imp, fmt, *args)


def zpci_err(fmt: str, *args: object) -> None:
    text = fmt % args if args else fmt
    debug_text_event(debug_ids["err"], 0, text[:15])


def zpci_err_hex_level(level: int, data: bytes) -> None:
    debug_event(debug_ids["err"], level, data)


def zpci_err_hex(data: bytes) -> None:
    zpci_err_hex_level(0, data)
