"""Layouts of uapi/linux/vfio_zdev.py against the s390x ABI of
include/uapi/linux/vfio_zdev.h."""

from __future__ import annotations

import ctypes

from uapi.linux import vfio_zdev as Z


def offsets(struct: type[ctypes.Structure]) -> dict[str, int]:
    return {name: getattr(struct, name).offset for name, *_ in struct._fields_}


def test_zpci_base_cap_layout_has_tail_padding_after_fh() -> None:
    assert ctypes.sizeof(Z.vfio_device_info_cap_zpci_base) == 40
    assert offsets(Z.vfio_device_info_cap_zpci_base) == {
        "header": 0,
        "start_dma": 8,
        "end_dma": 16,
        "pchid": 24,
        "vfn": 26,
        "fmb_length": 28,
        "pft": 30,
        "gid": 31,
        "fh": 32,
    }


def test_zpci_group_cap_layout() -> None:
    assert ctypes.sizeof(Z.vfio_device_info_cap_zpci_group) == 48
    assert offsets(Z.vfio_device_info_cap_zpci_group) == {
        "header": 0,
        "dasm": 8,
        "msi_addr": 16,
        "flags": 24,
        "mui": 32,
        "noi": 34,
        "maxstbl": 36,
        "version": 38,
        "reserved": 39,
        "imaxstbl": 40,
    }
    assert Z.VFIO_DEVICE_INFO_ZPCI_FLAG_REFRESH == 1


def test_zpci_util_and_pfip_caps_end_in_flexible_arrays() -> None:
    for struct, arr in (
        (Z.vfio_device_info_cap_zpci_util, "util_str"),
        (Z.vfio_device_info_cap_zpci_pfip, "pfip"),
    ):
        assert ctypes.sizeof(struct) == 12
        assert offsets(struct) == {"header": 0, "size": 8, arr: 12}
        assert getattr(struct, arr).size == 0


def test_zpci_base_cap_big_endian_image() -> None:
    cap = Z.vfio_device_info_cap_zpci_base(pchid=0x1234, fh=0x80001234)
    cap.header.id = 1
    cap.header.version = 2
    raw = bytes(cap)
    assert raw[0:4] == b"\x00\x01\x00\x02"
    assert raw[24:26] == b"\x12\x34"
    assert raw[32:36] == b"\x80\x00\x12\x34"
    assert raw[36:40] == b"\x00" * 4
