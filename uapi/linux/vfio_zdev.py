"""include/uapi/linux/vfio_zdev.h: the s390 zPCI capabilities of
``VFIO_DEVICE_GET_INFO``.

Base: Linux 7.1-rc4 (the file is unchanged since 6.1; read from
torvalds/linux @ 512a93a93dbe, include/uapi/linux/vfio_zdev.h).  No patch of the v17 series touches it.

s390x ABI: big-endian, natural alignment, so ``vfio_device_info_cap_zpci_base`` has
4 bytes of tail padding after ``fh`` (40 bytes) and ``..._group`` 6 (48 bytes).  The
util/pfip strings are C flexible arrays, modelled as zero-length array fields: the
string starts at ``<struct>.util_str.offset`` / ``.pfip.offset`` (12).
"""

from __future__ import annotations

import ctypes
from typing import Final

from uapi.linux.vfio import vfio_info_cap_header

__all__ = [
    "VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH",
    "vfio_device_info_cap_zpci_base",
    "vfio_device_info_cap_zpci_group",
    "vfio_device_info_cap_zpci_pfip",
    "vfio_device_info_cap_zpci_util",
]


class vfio_device_info_cap_zpci_base(ctypes.BigEndianStructure):
    """VFIO_DEVICE_INFO_CAP_ZPCI_BASE: the PCI function's description."""

    _fields_ = [
        ("header", vfio_info_cap_header),
        ("start_dma", ctypes.c_uint64),  # first usable DMA address
        ("end_dma", ctypes.c_uint64),  # last usable DMA address
        ("pchid", ctypes.c_uint16),  # physical channel ID
        ("vfn", ctypes.c_uint16),  # virtual function number
        ("fmb_length", ctypes.c_uint16),  # measurement block length
        ("pft", ctypes.c_uint8),  # PCI function type
        ("gid", ctypes.c_uint8),  # function group ID
        # version 1 ends here
        ("fh", ctypes.c_uint32),  # function handle
        # version 2 ends here
    ]


class vfio_device_info_cap_zpci_group(ctypes.BigEndianStructure):
    """VFIO_DEVICE_INFO_CAP_ZPCI_GROUP: the function group's description."""

    _fields_ = [
        ("header", vfio_info_cap_header),
        ("dasm", ctypes.c_uint64),  # DMA address space mask
        ("msi_addr", ctypes.c_uint64),
        ("flags", ctypes.c_uint64),
        ("mui", ctypes.c_uint16),  # measurement block update interval
        ("noi", ctypes.c_uint16),  # maximum number of MSIs
        ("maxstbl", ctypes.c_uint16),  # maximum store block length
        ("version", ctypes.c_uint8),  # supported PCI version
        # version 1 ends here
        ("reserved", ctypes.c_uint8),
        ("imaxstbl", ctypes.c_uint16),  # maximum interpreted store block length
        # version 2 ends here
    ]


VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH: Final = 1  # program-specified TLB refresh


class vfio_device_info_cap_zpci_util(ctypes.BigEndianStructure):
    """VFIO_DEVICE_INFO_CAP_ZPCI_UTIL: ``size`` bytes of EBCDIC utility string."""

    _fields_ = [
        ("header", vfio_info_cap_header),
        ("size", ctypes.c_uint32),
        ("util_str", ctypes.c_uint8 * 0),
    ]


class vfio_device_info_cap_zpci_pfip(ctypes.BigEndianStructure):
    """VFIO_DEVICE_INFO_CAP_ZPCI_PFIP: ``size`` bytes of PCI function path."""

    _fields_ = [
        ("header", vfio_info_cap_header),
        ("size", ctypes.c_uint32),
        ("pfip", ctypes.c_uint8 * 0),
    ]
