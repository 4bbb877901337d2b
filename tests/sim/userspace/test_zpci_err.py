"""sim/userspace/zpci_err.py: telling the two uAPIs of VFIO_DEVICE_FEATURE_ZPCI_ERROR
apart from the zPCI base capability, and decoding a record."""

from __future__ import annotations

import ctypes

import pytest

import uapi.linux.vfio as V
from sim.userspace.zpci_err import (
    CCDF_ERR_LENGTH,
    ZpciErrorRecord,
    read_zpci_base,
    vfio_device_feature_zpci_err,
    vfio_device_feature_zpci_err_v17,
    vfio_device_info_cap_zpci_base_v3,
    zpci_ccdf_err,
    zpci_err_uapi,
)


def cap_bytes(version: int, ccdf_err_length: int, size: int) -> bytes:
    cap = vfio_device_info_cap_zpci_base_v3(fh=0x80010001, ccdf_err_length=ccdf_err_length)
    cap.header.id = V.VFIO_DEVICE_INFO_CAP_ZPCI_BASE
    cap.header.version = version
    return bytes(cap)[:size].ljust(size, b"\xee")  # what follows a shorter cap is not ours


def test_layouts_the_programs_carry() -> None:
    assert ctypes.sizeof(vfio_device_feature_zpci_err) == 8
    assert ctypes.sizeof(vfio_device_feature_zpci_err_v17) == 72
    assert ctypes.sizeof(vfio_device_info_cap_zpci_base_v3) == 40
    assert vfio_device_info_cap_zpci_base_v3.ccdf_err_length.offset == 36
    assert CCDF_ERR_LENGTH == ctypes.sizeof(zpci_ccdf_err) == 32


def test_version_3_is_the_opaque_buffer_of_ccdf_err_length_bytes() -> None:
    base = read_zpci_base(cap_bytes(3, 32, 40), 0)
    assert zpci_err_uapi(base) == ("opaque", 32)
    assert zpci_err_uapi(read_zpci_base(cap_bytes(4, 48, 40), 0)) == ("opaque", 48)


def test_version_2_is_v17s_struct_and_its_padding_is_not_read_as_a_length() -> None:
    base = read_zpci_base(cap_bytes(2, 32, 40), 0)
    assert base.ccdf_err_length == 0
    assert zpci_err_uapi(base) == ("v17", 72)
    assert zpci_err_uapi(None) == ("v17", 72)


def test_a_length_shorter_than_the_record_is_refused_with_the_reason() -> None:
    with pytest.raises(
        ValueError, match=r"ccdf_err_length 16, shorter than struct zpci_ccdf_err \(32 bytes\)"
    ):
        zpci_err_uapi(read_zpci_base(cap_bytes(3, 16, 40), 0))


def test_a_record_decodes_the_same_from_either_shape() -> None:
    ccdf = zpci_ccdf_err(
        fh=0x80010001, fid=0x10, ett=0xA, mvn=0x123, dmaas=0x5C, q=1, rw=1, faddr=0x1000, pec=0x3A
    )
    raw = bytes(ccdf)
    # s390 bit order: ett is the top nibble of the word at offset 12
    assert raw[12:16] == bytes.fromhex("a1235c03")
    v17 = vfio_device_feature_zpci_err_v17(fh=0x80010001, fid=0x10, ett=0xA, mvn=0x123, dmaas=0x5C, q=1, rw=1,
                                           faddr=0x1000, pec=0x3A)  # fmt: skip
    assert (
        ZpciErrorRecord.decode(zpci_ccdf_err.from_buffer_copy(raw))
        == ZpciErrorRecord.decode(v17)
        == (
            ZpciErrorRecord(
                fh=0x80010001, fid=0x10, ett=0xA, mvn=0x123, dmaas=0x5C, q=1, rw=1, faddr=0x1000, pec=0x3A
            )
        )
    )
