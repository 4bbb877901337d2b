"""Pieces the scenarios share (not a scenario: :func:`sim.scenarios.load` skips
modules whose name starts with an underscore)."""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import pci_dev
from kernel.pci.access import pci_read_config_dword
from sim.host import Host
from sim.scenarios import Run
from sim.userspace.driver import UserDriver

__all__ = ["VIRTIO_NET", "config_header", "kernel_series", "open_user_driver"]

#: vendor, device of the function most scenarios use (a virtio-net, as QEMU's tests do)
VIRTIO_NET: Final = (0x1AF4, 0x1041)


def open_user_driver(r: Run, host: Host, fid: int, *, eventfd: bool = True) -> UserDriver:
    """Bind ``fid`` to vfio-pci and open it with a userspace driver that registers
    its error eventfd (unless ``eventfd=False``); closed at the end of the run."""
    drv = UserDriver(host.bind_vfio_pci(fid))
    drv.open()
    r.on_exit(drv.close)
    if eventfd:
        drv.register_err_eventfd()
    return drv


def config_header(pdev: pci_dev) -> list[int]:
    """The 16 dwords of the type-0 header as the host kernel reads them."""
    return [pci_read_config_dword(pdev, off)[1] for off in range(0, 0x40, 4)]


def kernel_series() -> str:
    """Which kernel this tree is, for expectations that differ between them: "mainline"
    (the series as merged for Linux 7.3: the feature's struct is one ``data``
    pointer), "v17" (its 72-byte struct), or "baseline" (no such struct: the tree
    before the series, or v17 before patch 5).  A scenario script reads the kernel's
    own uAPI header for this, as a test of a kernel knows which kernel it tests; the
    programs it drives (VMM, user driver) ask the running kernel instead."""
    import uapi.linux.vfio as V

    struct_ = getattr(V, "vfio_device_feature_zpci_err", None)
    if struct_ is None:
        return "baseline"
    return "mainline" if [f[0] for f in struct_._fields_] == ["data"] else "v17"
