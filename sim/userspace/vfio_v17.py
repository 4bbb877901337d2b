"""The v17 additions to linux/vfio.h, as the userspace programs of this model carry
them: their own copy of the uAPI, as QEMU carries its ``linux-headers/``.

A program built against these definitions runs on any kernel: on one with the v17
series, ``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` works; on one without it (the baseline
tree that ``zpcisim compare`` runs), PROBE answers ``ENOTTY`` and the program knows
the feature is missing -- which is what a real QEMU with newer headers sees on an
older kernel.  The layout is the kernel's (``uapi.linux.vfio`` with the series);
tests/abi checks this copy against the s390x compiler as well.
"""

from __future__ import annotations

import ctypes
from typing import Final

__all__ = ["VFIO_DEVICE_FEATURE_ZPCI_ERROR", "vfio_device_feature_zpci_err"]


class vfio_device_feature_zpci_err(ctypes.BigEndianStructure):
    """``struct vfio_device_feature_zpci_err`` (72 bytes; a 4-byte hole before
    ``faddr``)."""

    _fields_ = [
        ("feature_flags", ctypes.c_uint32),
        ("reserved1", ctypes.c_uint32),
        ("fh", ctypes.c_uint32),
        ("fid", ctypes.c_uint32),
        ("ett", ctypes.c_uint32, 4),
        ("mvn", ctypes.c_uint32, 12),
        ("dmaas", ctypes.c_uint32, 8),
        ("reserved2", ctypes.c_uint32, 6),
        ("q", ctypes.c_uint32, 1),
        ("rw", ctypes.c_uint32, 1),
        ("faddr", ctypes.c_uint64),
        ("reserved3", ctypes.c_uint32),
        ("reserved4", ctypes.c_uint16),
        ("pec", ctypes.c_uint16),
        ("reserved5", ctypes.c_uint8 * 28),
    ]


VFIO_DEVICE_FEATURE_ZPCI_ERROR: Final = 13
