import errno

import pytest

from kernel.lib.errno import ERR_PTR, IS_ERR, IS_ERR_OR_NULL, PTR_ERR, errname


def test_errname_maps_negative_errno_to_its_name() -> None:
    assert errname(-errno.ENOMSG) == "ENOMSG"
    assert errname(-errno.ENOTTY) == "ENOTTY"
    assert errname(errno.EFAULT) == "EFAULT"
    assert errname(0) == "0"


def test_errname_knows_kernel_only_errnos() -> None:
    assert errname(-524) == "ENOTSUPP"
    assert errname(-517) == "EPROBE_DEFER"
    assert errname(-4000) == "-4000"


def test_linux_errno_values() -> None:
    # the values the ported code returns and userspace sees
    assert (errno.EINVAL, errno.ENOTTY, errno.ENOMSG, errno.EFAULT) == (22, 25, 42, 14)
    assert (errno.ENODEV, errno.EAGAIN, errno.EIO, errno.ENOMEM, errno.EBUSY) == (19, 11, 5, 12, 16)


def test_err_ptr_round_trip() -> None:
    p = ERR_PTR(-errno.ENOMEM)
    assert IS_ERR(p) and PTR_ERR(p) == -errno.ENOMEM
    assert IS_ERR_OR_NULL(None) and IS_ERR_OR_NULL(p) and not IS_ERR_OR_NULL(object())
    assert not IS_ERR(object())
    with pytest.raises(ValueError):
        ERR_PTR(5)
    with pytest.raises(TypeError):
        PTR_ERR(object())
