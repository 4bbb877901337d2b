"""Pieces the scenarios share (not a scenario: :func:`sim.scenarios.load` skips
modules whose name starts with an underscore)."""

from __future__ import annotations

import errno
from collections.abc import Iterable
from typing import Final

import attrs

from kernel.include.linux.pci import pci_dev, pci_name
from kernel.lib.printk import DEFAULT_RATELIMIT_BURST
from kernel.pci.access import pci_read_config_dword
from kernel.vfio.pci.vfio_pci import vfio_pci_vdev
from sim.host import Host
from sim.scenarios import Run
from sim.userspace.driver import UserDriver
from sim.zpci.firmware import FMB_PECS, PERM_PECS

__all__ = [
    "QUEUED",
    "VIRTIO_NET",
    "Mediated",
    "bind_vfio_pci",
    "config_header",
    "full_queue_line",
    "full_queue_lines",
    "kernel_series",
    "mediated",
    "open_user_driver",
    "pecs_text",
    "user_recovery",
]

#: vendor, device of the function most scenarios use (a virtio-net, as QEMU's tests do)
VIRTIO_NET: Final = (0x1AF4, 0x1041)
#: ZPCI_ERR_PENDING_MAX: the records the host queues per function
QUEUED: Final = 4


def bind_vfio_pci(r: Run, host: Host, fid: int) -> str:
    """Hand ``fid`` to vfio-pci (:meth:`Host.bind_vfio_pci`; its device node's path)
    and, at the end of the run, unbind it as an administrator would
    (:meth:`Host.unbind`, a step of its own).  Registered before the programs' closes,
    the unbind runs after them; should a program still hold the device (a run that
    broke off), it is not unbound -- vfio-pci's remove would wait for that program
    forever -- and the run fails saying so."""
    path = host.bind_vfio_pci(fid)

    def unbind() -> None:
        vdev = vfio_pci_vdev(host.pdev(fid))
        users = 0 if vdev is None else vdev.vdev.open_count
        if r.expect(users == 0, f"fid 0x{fid:x} is closed by every program before it is unbound"):
            host.unbind(fid)
            r.expect(host.pdev(fid).dev.driver is None, f"fid 0x{fid:x} has no driver after the unbind")

    r.on_exit(unbind)
    return path


def open_user_driver(r: Run, host: Host, fid: int, *, eventfd: bool = True) -> UserDriver:
    """Bind ``fid`` to vfio-pci and open it with a userspace driver that registers
    its error eventfd (unless ``eventfd=False``); closed, then unbound, at the end
    of the run."""
    drv = UserDriver(bind_vfio_pci(r, host, fid))
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


@attrs.frozen
class Mediated:
    """What the host kernel does with error events on a function a program holds open
    through vfio-pci (mediated recovery on), event by event as ``__zpci_event_error()``
    decides -- the scenarios' expectations follow the errors the user chose:

    * a PEC that concerns the measurement block (0x2a-0x2c) changes nothing;
    * a permanent-failure PEC (0x40, 0x3b), or any error once the function failed for
      good, goes to ``zpci_event_io_failure()``: the record is stored, vfio-pci's
      ``error_detected`` signals the eventfd, and no recovery is left to anyone;
    * any other stores the record, signals, and leaves recovery to user-space -- also
      when the queue is full;
    * a record that finds ZPCI_ERR_PENDING_MAX (4) queued is dropped, and logged."""

    #: the PECs of the records queued, oldest first
    stored: tuple[int, ...]
    #: records dropped on a full queue (one log line each, rate-limited as merged)
    dropped: int
    #: "Leaving recovery of pass-through device to user-space" lines
    left_to_user: int
    #: eventfd signals
    signalled: int
    #: the function failed for good (a reset cannot bring it back)
    perm_failed: bool
    #: the function is in the error state (any PEC that is not the FMB's)
    error: bool


def mediated(pecs: Iterable[int], *, queued: int = 0) -> Mediated:
    """The outcome of the error events ``pecs``, in order, with ``queued`` records
    already waiting (an oracle written from the C; see :class:`Mediated`)."""
    stored: list[int] = []
    dropped = left = signalled = 0
    perm = error = False
    for pec in pecs:
        if pec in FMB_PECS:
            continue
        error = True
        if queued + len(stored) < QUEUED:
            stored.append(pec)
        else:
            dropped += 1
        signalled += 1
        if pec in PERM_PECS:
            perm = True
        elif not perm:
            left += 1
    return Mediated(tuple(stored), dropped, left, signalled, perm, error)


def full_queue_line(pdev: pci_dev) -> str:
    """The log line of a record dropped on a full queue: v17 prints it with
    ``pr_err``; as merged (9f240376d034) it is a rate-limited warning on the device,
    with vfio-pci's driver and device prefix."""
    name = pci_name(pdev)
    if kernel_series() == "mainline":
        return f"vfio-pci {name}: {name}: Maximum number ({QUEUED}) of pending error events queued"
    return f"zpci: {name}: Maximum number ({QUEUED}) of pending error events queued"


def full_queue_lines(dropped_before: int, dropped: int) -> int:
    """How many full-queue lines ``dropped`` more drops print after
    ``dropped_before`` in the same run: one each on v17; as merged, at most
    DEFAULT_RATELIMIT_BURST (10) in a ratelimit interval (5 s; a run is shorter)."""
    if kernel_series() != "mainline":
        return dropped
    burst = DEFAULT_RATELIMIT_BURST
    return min(burst, dropped_before + dropped) - min(burst, dropped_before)


def pecs_text(pecs: Iterable[int]) -> str:
    """``0x3a/0x3d``: the distinct PECs, in order, for an expectation's name."""
    return "/".join(f"0x{pec:x}" for pec in dict.fromkeys(pecs))


def user_recovery(r: Run, host: Host, drv: UserDriver, fid: int, pecs: list[int], *, start: int) -> Mediated:
    """The firmware raises errors ``pecs`` on ``fid``, one after the other, before
    ``drv`` (holding it open, its error eventfd registered, nothing queued) wakes;
    then ``drv`` does what a userspace driver does when told of an error -- read the
    eventfd, GET every record, ``VFIO_DEVICE_RESET`` -- and the outcome is checked
    against :func:`mediated`: the host's lines, the records, the reset's result, the
    function's state.  ``start``: the last step before.  The outcome."""
    pdev = host.pdev(fid)
    name = pci_name(pdev)
    out = mediated(pecs)
    what = f"error {pecs_text(pecs)}"
    for pec in pecs:
        host.fw.inject_error(fid, pec=pec)
        host.fw.wait_events_handled()
    full = full_queue_line(pdev)
    r.expect(
        len([s for s in r.find_all(full, actor="host", kind="log") if s.seq > start])
        == full_queue_lines(0, out.dropped),
        f"{out.dropped} error(s) logged as not queued ({what})",
    )
    leaving = [
        s for s in r.find_all("Leaving recovery of pass-through device to user-space") if s.seq > start
    ]
    r.expect(
        len(leaving) == out.left_to_user,
        f"{out.left_to_user} error(s), queued or not, left to user-space ({what})",
    )
    # each event in turn, and a record that finds the queue full logged right after
    events: list[str | tuple[str, str, str]] = []
    seen = 0
    for pec in pecs:
        events.append(("firmware", "event", f"error event PEC 0x{pec:x} for fid 0x{fid:x}"))
        events.append(
            ("host", "log", f"zpci: {name}: Event 0x{pec:x} reports an error for PCI function 0x{fid:x}")
        )
        if pec not in FMB_PECS:
            seen += 1
            if seen > QUEUED and full_queue_lines(0, seen - QUEUED) > full_queue_lines(0, seen - QUEUED - 1):
                events.append(("host", "log", full))
    r.expect_order(*events, after=start)

    if not out.signalled:
        r.expect(
            not drv.wait_error(timeout=0), f"no error is signalled ({what} concerns the measurement block)"
        )
        fn = host.fw.function(fid)
        r.expect(fn.enabled and not fn.error, f"the function stays enabled, not in error ({what})")
        return out
    r.expect(drv.wait_error(timeout=5.0), f"the eventfd fires ({what})")
    try:
        records = drv.drain()
    except OSError as e:  # a kernel without v17 5/7 has no such feature: go on to the reset
        records = []
        why = errno.errorcode.get(e.errno or 0, str(e.errno))
        r.expect(False, f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) answers (it fails: {why})")
    r.expect(
        [rec.pec for rec in records] == list(out.stored), f"the queued records arrive, oldest first ({what})"
    )
    gets: list[str | tuple[str, str, str]] = [
        ("user-driver", "irq", f"read eventfd: counter {out.signalled}")
    ]
    gets += [
        ("user-driver", "ioctl", f"VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x{pec:x}")
        for pec in out.stored
    ]
    gets.append(("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"))
    r.expect_order(*gets, after=start)
    fn = host.fw.function(fid)
    if out.perm_failed:
        try:
            rc = drv.reset()
            r.expect(False, f"VFIO_DEVICE_RESET of a permanently failed function fails (it returned {rc})")
        except OSError:
            pass
        r.expect(
            r.find("VFIO_DEVICE_RESET = -", actor="user-driver", kind="ioctl", after=start), "the reset fails"
        )
        r.expect(not fn.enabled, f"fid 0x{fid:x} stays disabled ({what})")
    else:
        r.expect(drv.reset() == 0, f"VFIO_DEVICE_RESET succeeds ({what})")
        r.expect(
            fn.enabled and not fn.error, f"the function ends enabled and out of the error state ({what})"
        )
    return out
