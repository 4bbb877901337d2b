"""What the kernel of this tree offers a program, asked the way a program asks it, for
the suites that run on both trees (this checkout, v17, and the merged tree written by
``python -m tools.series tree mainline DIR``).

``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` has two uAPIs (:mod:`sim.userspace.zpci_err`): v17's
72-byte struct in the ioctl's buffer, and the merged opaque buffer (a ``data`` pointer;
the kernel copies ``struct zpci_ccdf_err``, ``ccdf_err_length`` bytes as version 3 of
the zPCI base capability says).  :func:`zpci_err_uapi` boots the tree's kernel in a
process of its own, opens a function through vfio-pci and reads the capability
(:func:`sim.userspace.zpci_err.reader_for`), so that a test can ask at any time
without disturbing the kernel it has booted itself.

The kernel that offers the opaque buffer is the series as merged, whose other
user-visible differences from v17 come with it (9f240376d034, fa63a2e3f947): a record
dropped on a full queue is logged with ``dev_warn_ratelimited()`` on the PCI device
(v17: ``pr_err``), and a record lost to a faulting copy-out is logged, also rate-limited
(v17: not logged).  :func:`full_queue_line` and :func:`lost_record_line` give those
lines for a uAPI.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

from kernel.lib.printk import KERN_ERR, KERN_WARNING
from sim.userspace.zpci_err import UapiKind

__all__ = [
    "NAME",
    "dropped_when_merged",
    "full_queue_line",
    "lost_record_line",
    "merged",
    "needs_v17_checkout",
    "not_the_v17_checkout",
    "zpci_err_uapi",
]

ROOT: Final = Path(__file__).resolve().parent.parent
#: the PCI name of the first function of every test machine here
NAME: Final = "0000:00:00.0"

_ASK: Final = """
import ctypes
import uapi.linux.vfio as V
from sim.host import Host
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from sim.userspace.zpci_err import reader_for

host = Host.boot({0x10: PciFunction(0x1AF4, 0x1041)})
try:
    ifd = syscalls.open("/dev/iommu")
    fd = syscalls.open(host.bind_vfio_pci(0x10))
    b = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=ifd)
    syscalls.ioctl(fd, V.VFIO_DEVICE_BIND_IOMMUFD, b)
    r = reader_for(fd)
    print(r.kind, r.length)
    syscalls.close(fd)
    syscalls.close(ifd)
finally:
    host.shutdown()
"""


@functools.cache
def zpci_err_uapi() -> tuple[UapiKind, int]:
    """("v17", 72) or ("opaque", ccdf_err_length): the uAPI of this tree's kernel."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-c", _ASK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    if r.returncode != 0:
        raise RuntimeError(f"asking the kernel for its zPCI error uAPI failed:\n{r.stderr}")
    kind, length = r.stdout.split()
    assert kind in ("v17", "opaque"), kind
    return ("v17" if kind == "v17" else "opaque"), int(length)


def merged(kind: UapiKind | None = None) -> bool:
    """Whether the kernel (of uAPI ``kind``; default: ask it) is the series as merged."""
    return (kind or zpci_err_uapi()[0]) == "opaque"


def full_queue_line(kind: UapiKind | None = None, name: str = NAME) -> tuple[int, str]:
    """(level, text) of the line of a record dropped on a full queue."""
    if merged(kind):
        return KERN_WARNING, f"vfio-pci {name}: {name}: Maximum number (4) of pending error events queued"
    return KERN_ERR, f"zpci: {name}: Maximum number (4) of pending error events queued"


def lost_record_line(
    kind: UapiKind | None = None, name: str = NAME, fid: int = 0x10
) -> tuple[int, str] | None:
    """(level, text) of the line of a record lost to a faulting copy-out; None: v17
    logs nothing then."""
    if merged(kind):
        return KERN_WARNING, f"vfio-pci {name}: Failed to handle PCI error event for PCI function 0x{fid:x}"
    return None


def _git_toplevel() -> Path | None:
    r = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True)
    return Path(r.stdout.strip()).resolve() if r.returncode == 0 else None


@functools.cache
def not_the_v17_checkout() -> str | None:
    """Why the series tooling cannot run here, or None in a git checkout of the
    baseline + v17.  ``tools.series`` writes every other tree (and ``compare``,
    ``run --kernel`` and ``tools.mutate`` with it) from the files git knows of a
    checkout that carries v17, reverse-applying series/v17/ to get the baseline; the
    merged tree that ``python -m tools.series tree mainline DIR`` writes is neither."""
    if merged():
        return (
            "needs the v17 checkout: this kernel offers the merged uAPI (the tree of "
            "series/mainline/), and tools.series writes trees by reverse-applying v17"
        )
    if _git_toplevel() != ROOT:
        return "needs the v17 checkout: this tree is not a git checkout (tools.series copies what git knows)"
    return None


def needs_v17_checkout() -> pytest.MarkDecorator:
    """``@needs_v17_checkout()``: skip, saying why, where :func:`not_the_v17_checkout`."""
    reason = not_the_v17_checkout()
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def _defined_by(series: str, kind: str = "def") -> set[str]:
    """Names a patch of ``series/<series>/`` defines (``+def NAME(``, ``+def test_...``)."""
    names: set[str] = set()
    for patch in sorted((ROOT / "series" / series).glob("[0-9][0-9][0-9][0-9]-*.patch")):
        names.update(re.findall(rf"^\+\s*{kind} (\w+)\(", patch.read_text(), flags=re.M))
    return names


def dropped_when_merged() -> set[str]:
    """The functions (and tests) a patch of v17 adds that no merged commit adds: what
    the merged tree does not have of v17 (e.g. ``vfio_pci_core_aer_reset_done``, v17
    6/7; the merged series leaves the reset to the PCI core)."""
    return _defined_by("v17") - _defined_by("mainline")
