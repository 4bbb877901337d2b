import errno
import os
import select

from kernel.lib.errno import IS_ERR, PTR_ERR
from kernel.lib.eventfd import eventfd_ctx, eventfd_ctx_fdget, eventfd_ctx_put, eventfd_signal


def test_signal_is_readable_from_the_real_fd() -> None:
    efd = os.eventfd(0, os.EFD_NONBLOCK)
    try:
        ctx = eventfd_ctx_fdget(efd)
        assert isinstance(ctx, eventfd_ctx)
        assert select.select([efd], [], [], 0)[0] == []
        eventfd_signal(ctx)
        eventfd_signal(ctx)
        assert select.select([efd], [], [], 1)[0] == [efd]
        assert os.eventfd_read(efd) == 2
        eventfd_ctx_put(ctx)
    finally:
        os.close(efd)


def test_context_outlives_the_users_descriptor() -> None:
    efd = os.eventfd(0)
    ctx = eventfd_ctx_fdget(efd)
    assert isinstance(ctx, eventfd_ctx)
    reader = os.dup(efd)
    os.close(efd)
    eventfd_signal(ctx)  # the kernel's reference keeps the file alive
    assert os.eventfd_read(reader) == 1
    eventfd_ctx_put(ctx)
    os.close(reader)


def test_fdget_errors() -> None:
    bad = eventfd_ctx_fdget(-1)
    assert IS_ERR(bad) and PTR_ERR(bad) == -errno.EBADF
    r, w = os.pipe()
    try:
        notev = eventfd_ctx_fdget(r)
        assert IS_ERR(notev) and PTR_ERR(notev) == -errno.EINVAL
    finally:
        os.close(r)
        os.close(w)
