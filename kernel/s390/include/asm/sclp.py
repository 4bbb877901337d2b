"""arch/s390/include/asm/sclp.h, as far as the zPCI code uses it: the error-report header
handed to ``sclp_pci_report()`` and the action qualifiers.  The functions
(``sclp_pci_configure``, ``sclp_pci_deconfigure``, ``sclp_pci_report``) are in
:mod:`kernel.s390.char.sclp_pci`."""

from __future__ import annotations

from typing import Final

import attrs

__all__ = ["SCLP_ERRNOTIFY_AQ_INFO_LOG", "SCLP_ERRNOTIFY_AQ_REPAIR", "zpci_report_error_header"]

SCLP_ERRNOTIFY_AQ_REPAIR: Final = 1
SCLP_ERRNOTIFY_AQ_INFO_LOG: Final = 2


@attrs.define(eq=False)
class zpci_report_error_header:
    """``struct zpci_report_error_header { u8 version; u8 action; u16 length; u8 data[0]; }``:
    a header followed by ``length`` bytes of data, here carried in ``data``."""

    version: int = 0
    action: int = 0
    length: int = 0
    data: bytes = b""
