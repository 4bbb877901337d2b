import ctypes

import pytest

from uapi.asm_generic.ioctl import (
    _IO,
    _IOC_DIR,
    _IOC_NR,
    _IOC_READ,
    _IOC_SIZE,
    _IOC_TYPE,
    _IOC_WRITE,
    _IOR,
    _IOW,
    _IOWR,
)


def test_vfio_ioctl_numbers() -> None:
    assert _IO(";", 100 + 17) == 0x3B75  # VFIO_DEVICE_FEATURE
    assert _IO(";", 100 + 11) == 0x3B6F  # VFIO_DEVICE_RESET
    assert _IO(0x3B, 100 + 7) == 15211  # VFIO_DEVICE_GET_INFO


def test_directions_sizes_and_decoders() -> None:
    nr = _IOWR("X", 3, ctypes.c_uint64)
    assert _IOC_DIR(nr) == _IOC_READ | _IOC_WRITE
    assert (_IOC_TYPE(nr), _IOC_NR(nr), _IOC_SIZE(nr)) == (ord("X"), 3, 8)
    assert _IOC_DIR(_IOR("X", 1, 4)) == _IOC_READ
    assert _IOC_DIR(_IOW("X", 1, 4)) == _IOC_WRITE
    # well-known generic value: _IOR('T', 0x60... ) style check via FS_IOC_GETFLAGS (_IOR('f', 1, long))
    assert _IOR("f", 1, ctypes.c_long) == 0x80086601


def test_field_overflow_rejected() -> None:
    with pytest.raises(ValueError):
        _IO(";", 256)
    with pytest.raises(ValueError):
        _IOR(";", 1, 1 << 14)
