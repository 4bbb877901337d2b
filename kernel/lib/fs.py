"""include/linux/fs.h, fs/file.c, fs/char_dev.c and devtmpfs, reduced to what a
character device driver and the system-call entry need.

* :class:`file_operations` and :class:`file` carry the C member names
  (``f_op``, ``private_data``, ``.open``, ``.release``, ``.unlocked_ioctl``,
  ``.read``, ``.write``).  A ``loff_t *ppos`` is a one-element ``list[int]``.
* Device nodes: a driver that calls ``cdev_device_add()`` (or ``misc_register()``)
  makes a node appear under ``/dev``; here :func:`devnode_add` /
  :func:`devnode_del` record ``path -> (fops, inode)``.  :func:`filp_open` is the
  ``open(2)`` of such a node: a new :class:`file`, then ``fops->open(inode, file)``.
* The descriptor table: the userspace entry reserves a real descriptor number for
  every file it opens and installs the file under that number (:func:`fd_install`),
  so kernel code that takes a descriptor from userspace (``fget(fd)``) finds it, and
  numbers never collide with real descriptors such as eventfds.  :func:`close_fd`
  drops the table's reference; the last :func:`fput` calls ``fops->release``.

Left out: path walking, permissions, ``f_mode``/``f_flags`` (every node is opened
read-write), ``mmap`` and ``poll``.  Boot empties the node list and the descriptor
table.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Any

import attrs

from kernel.lib.errno import ERR_PTR, ErrPtr
from kernel.lib.init import static_init

__all__ = [
    "close_fd",
    "devnode_add",
    "devnode_del",
    "devnode_lookup",
    "fd_install",
    "fget",
    "file",
    "file_operations",
    "filp_open",
    "fput",
    "get_file",
    "inode",
    "vfs_ioctl",
]


@attrs.define(eq=False)
class inode:
    """``struct inode`` of a device node.  ``i_cdev`` is what the C reaches through
    ``container_of(inode->i_cdev, ...)``: the object that registered the node."""

    i_cdev: Any = None


@attrs.define(eq=False)
class file_operations:
    """``struct file_operations``: the members a driver may fill in."""

    open: Callable[[inode, file], int] | None = None
    release: Callable[[inode, file], int] | None = None
    read: Callable[[file, int, int, list[int]], int] | None = None
    write: Callable[[file, int, int, list[int]], int] | None = None
    unlocked_ioctl: Callable[[file, int, int], int] | None = None


@attrs.define(eq=False)
class file:
    """``struct file``.  ``f_count`` is the file's reference count."""

    f_op: file_operations
    f_inode: inode
    private_data: Any = None
    f_pos: list[int] = attrs.field(factory=lambda: [0])
    f_count: int = 1


_lock = threading.Lock()
_devnodes: dict[str, tuple[file_operations, inode]] = {}
_fdtable: dict[int, file] = {}


@static_init
def fs_static_init() -> None:
    """A fresh boot: no device nodes, no open files."""
    with _lock:
        _devnodes.clear()
        _fdtable.clear()


def devnode_add(path: str, fops: file_operations, i_cdev: Any) -> int:
    """Make ``path`` (``"/dev/vfio/devices/vfio0"``) a node served by ``fops``;
    -EEXIST if the name is taken, as ``device_add()`` reports a duplicate name."""
    with _lock:
        if path in _devnodes:
            return -errno.EEXIST
        _devnodes[path] = (fops, inode(i_cdev=i_cdev))
    return 0


def devnode_del(path: str) -> None:
    with _lock:
        _devnodes.pop(path, None)


def devnode_lookup(path: str) -> tuple[file_operations, inode] | None:
    with _lock:
        return _devnodes.get(path)


def filp_open(path: str) -> file | ErrPtr:
    """``open(2)`` of a device node: -ENOENT if there is none, else the driver's
    ``open`` decides."""
    node = devnode_lookup(path)
    if node is None:
        return ERR_PTR(-errno.ENOENT)
    fops, ino = node
    filp = file(f_op=fops, f_inode=ino)
    if fops.open is not None:
        ret = fops.open(ino, filp)
        if ret:
            return ERR_PTR(ret)
    return filp


def get_file(filp: file) -> file:
    with _lock:
        filp.f_count += 1
    return filp


def fput(filp: file) -> None:
    """Drop a reference; the last one releases the file (``fops->release``)."""
    with _lock:
        filp.f_count -= 1
        last = filp.f_count == 0
    if last and filp.f_op.release is not None:
        filp.f_op.release(filp.f_inode, filp)


def fd_install(fd: int, filp: file) -> None:
    """Install ``filp`` under descriptor ``fd``; the table owns the reference."""
    with _lock:
        _fdtable[fd] = filp


def fget(fd: int) -> file | None:
    """A new reference to the file under ``fd``, or None when the table has none."""
    with _lock:
        filp = _fdtable.get(fd)
        if filp is not None:
            filp.f_count += 1
        return filp


def close_fd(fd: int) -> int:
    """``close(2)``: -EBADF for a descriptor the table does not hold."""
    with _lock:
        filp = _fdtable.pop(fd, None)
    if filp is None:
        return -errno.EBADF
    fput(filp)
    return 0


def vfs_ioctl(filp: file, cmd: int, arg: int) -> int:
    """fs/ioctl.c: -ENOTTY when the file has no ``unlocked_ioctl``."""
    if filp.f_op.unlocked_ioctl is None:
        return -errno.ENOTTY
    return filp.f_op.unlocked_ioctl(filp, cmd, arg)
