"""Fuzzing the vfio device ioctl surface of a zPCI function (issue 9, item 4): the
runner.  Not kernel code.

:func:`run_example` boots a fresh machine (one virtio-net-like PCIe function at fid
0x10, bound to vfio-pci and opened through the userspace entry the way a program
does it), runs a sequence of operations -- ``VFIO_DEVICE_FEATURE`` with any header
and any buffer (short ones, faulting ones), ``VFIO_DEVICE_SET_IRQS``,
``VFIO_DEVICE_GET_IRQ_INFO``, ``VFIO_DEVICE_GET_INFO``, ``VFIO_DEVICE_RESET``,
firmware error events with any PEC, close and re-open -- and checks after every step:

(a) nothing but the ``OSError`` of the system-call entry comes out of a call (any
    other exception propagates out of :func:`run_example`);
(b) every errno is one the C code can return for that request (:data:`ALLOWED`,
    derived from the ported functions, each errno with the function that returns it);
(c) the pending-error queue of the zdev keeps ``count == (tail - head) & 0xff`` and
    ``count <= 4``, and holds exactly the records a model of the queue predicts, in
    order;
(d) every injected error record is accounted for (:class:`Ledger`): delivered by a
    GET, dropped with its "Maximum number (4) of pending error events queued" line,
    cleared at close with the "Unhandled PCI error events count=N" line, lost to
    EFAULT, never stored (a measurement-block PEC, or the device was not open so
    mediated recovery was off), or still queued at the end -- each figure taken from
    what userspace and the log saw, their sum equal to the number injected;

and at the end of the example that the kernel made no lockdep report and no WARN.

The example learns the kernel's uAPI of ``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` as a
program does, from the zPCI base capability (:func:`sim.userspace.zpci_err.reader_for`),
and holds the kernel to that one: on v17 the record comes back in the ioctl's buffer
(72 bytes, zero outside the fields); as merged (mainline fa63a2e3f947) the ioctl's
buffer holds a ``data`` pointer (:data:`RECBUF`: a buffer of the example's, or any
other value: NULL, unmapped) and the kernel copies ``struct zpci_ccdf_err`` there,
byte for byte, and nothing past ``ccdf_err_length``.  A well-formed GET (argsz and
buffer :data:`RECORD`) has one right answer, checked exactly: v17 ENOMSG or the record;
merged EINVAL for a NULL ``data`` (nothing dequeued), ENOMSG, the record, or EFAULT
when ``data`` faults -- the record is then lost, the faulting buffer holds exactly the
prefix that could be copied, and the kernel logs "Failed to handle PCI error event"
(rate-limited).  The merged kernel logs a full queue with ``dev_warn_ratelimited()``
on the device (9f240376d034): a dropped record needs its line only while fewer than
DEFAULT_RATELIMIT_BURST (10) have been printed in the example.
The operations are plain data (:data:`Op`); the hypothesis strategies that make them
and the test live in ``tests/fuzz/``, which also has the soak mode::

    python -m tests.fuzz --soak            # 200,000 examples from a random seed, prints the counts
    python -m tests.fuzz --soak -n 20000   # a shorter soak
    python -m tests.fuzz --seed N -n 20000 # replays the soak that printed "seed N"
"""

from __future__ import annotations

import collections
import ctypes
import errno
import os
import re
import struct
from collections.abc import Iterable
from typing import Final

import attrs

import uapi.linux.vfio as V
from kernel.include.linux.pci import pci_name
from kernel.lib import bug, lockdep
from kernel.lib.printk import DEFAULT_RATELIMIT_BURST, KERN_ERR, KERN_WARNING, LogLine, dmesg
from kernel.lib.uaccess import clear_faults, make_fault, user_addr
from kernel.s390.include.asm.pci import ZPCI_ERR_PENDING_MAX, zpci_dev
from sim.host import Host, zdev_of
from sim.pci.function import PciFunction
from sim.userspace import syscalls
from sim.userspace.zpci_err import (
    VFIO_DEVICE_FEATURE_ZPCI_ERROR,
    UapiKind,
    reader_for,
    vfio_device_feature_zpci_err,
    vfio_device_feature_zpci_err_v17,
    zpci_ccdf_err,
)

__all__ = [
    "ALLOWED",
    "FID",
    "FMB_PECS",
    "Close",
    "Feature",
    "GetInfo",
    "GetIrqInfo",
    "Inject",
    "Ledger",
    "Op",
    "Open",
    "Reset",
    "SetIrqs",
    "Stats",
    "EVENTFD",
    "DEVFD",
    "IOMMUFD",
    "RECBUF",
    "RECORD",
    "RECORD_SPARE",
    "run_example",
]

FID: Final = 0x10
HDR: Final = ctypes.sizeof(V.vfio_device_feature)  # 8: argsz, flags
#: the struct after the header: v17's record (72), the merged data pointer (8)
ERR: Final[dict[UapiKind, int]] = {
    "v17": ctypes.sizeof(vfio_device_feature_zpci_err_v17),
    "opaque": ctypes.sizeof(vfio_device_feature_zpci_err),
}
GET_ZPCI_ERROR: Final = V.VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_ZPCI_ERROR
#: sizeof(struct zpci_ccdf_err): the record the merged kernel copies out
CCDF_LEN: Final = ctypes.sizeof(zpci_ccdf_err)
#: bytes past the record in the example's record buffer, to see that nothing is written there
GUARD: Final = 16
#: PECs that concern the function measurement block only: __zpci_event_error() logs
#: them and does nothing else (no record is stored).
FMB_PECS: Final = frozenset({0x002A, 0x002B, 0x002C})

#: Tokens a SET_IRQS data word may carry instead of a number: the example's eventfd,
#: the device's descriptor (open, but no eventfd) and the iommufd's.
EVENTFD: Final = -1000
DEVFD: Final = -1001
IOMMUFD: Final = -1002
#: Tokens for a ``Feature``'s argsz and size: header + the feature's struct on this
#: kernel's uAPI (80 on v17, 16 as merged), and that plus 16 spare bytes.
RECORD: Final = -2000
RECORD_SPARE: Final = -2001
#: Token for a ``Feature``'s ``data`` (merged uAPI): the address of a fresh buffer of
#: ccdf_err_length + GUARD bytes of the example's.
RECBUF: Final = -3000

# -- (b) the errnos each request can return ---------------------------------------------
#
# Derived from the ported C (the file named first is where the request enters).  A
# request made on a descriptor whose BIND_IOMMUFD has not succeeded is EINVAL
# (vfio_device_fops_unl_ioctl, !df->access_granted) for every request.

_COMMON: Final = {
    errno.EINVAL: "vfio_device_fops_unl_ioctl: the file is not bound (access not granted)",
}

#: What pcibios_err_to_errno() can give for the PCIBIOS_* codes of a config accessor.
_PCIBIOS: Final = (errno.ENOENT, errno.ENOTTY, errno.ENODEV, errno.ENOSPC, errno.ERANGE)

_FEATURE_EFAULT: Final = (
    "vfio_ioctl_device_feature: copy_from_user of the header; "
    "vfio_pci_core_pm_entry_with_wakeup: copy_from_user of the entry; "
)
_FEATURE_EINVAL: Final = (
    "vfio_ioctl_device_feature: argsz < minsz, unknown flags, GET|SET without PROBE; "
    "vfio_check_feature: unsupported GET/SET, neither GET nor SET, argsz < minsz; "
    "vfio_ioctl_device_feature_migration_precopy_info_v2: no PRE_COPY; "
    "vfio_pci_runtime_pm_entry: already engaged; "
    "vfio_pci_core_pm_entry_with_wakeup: wakeup_eventfd < 0; "
    "eventfd_ctx_fdget: not an eventfd"
)

#: request name -> {errno: the functions that return it}, on v17's uAPI
ALLOWED_V17: Final[dict[str, dict[int, str]]] = {
    "VFIO_DEVICE_FEATURE": {
        **_COMMON,
        errno.EFAULT: _FEATURE_EFAULT + "vfio_pci_zdev_feature_err (v17 5/7): copy_to_user of the record",
        errno.EINVAL: _FEATURE_EINVAL,
        errno.EBADF: "eventfd_ctx_fdget (vfio_pci_core_pm_entry_with_wakeup): not an open descriptor",
        errno.ENOTTY: "vfio_ioctl_device_feature_migration, _mig_device_state, _migration_data_size, "
        "_logging_start/_stop/_report: no mig_ops/log_ops; "
        "vfio_pci_core_feature_token: no VF token; vfio_pci_core_feature_dma_buf: "
        "!CONFIG_VFIO_PCI_DMABUF; vfio_pci_core_ioctl_feature: unknown feature; "
        "vfio_device_fops_unl_ioctl: no device_feature op",
        errno.ENOMSG: "zpci_get_pending_error (vfio_pci_zdev_feature_err): no record pending",
        errno.ENODEV: "vfio_pci_zdev_feature_err: the function has no zdev",
    },
    "VFIO_DEVICE_SET_IRQS": {
        **_COMMON,
        errno.EFAULT: "vfio_pci_ioctl_set_irqs: copy_from_user of the header or of the data",
        errno.EINVAL: "vfio_set_irqs_validate_and_prepare: argsz, index, count, flags, start/count "
        "vs num_irqs, data type, data size; vfio_pci_set_intx_mask/_unmask/_trigger, "
        "vfio_pci_set_msi_trigger, vfio_pci_set_err_trigger, vfio_pci_set_req_trigger, "
        "vfio_pci_set_ctx_trigger_single: state, start/count and data checks; vfio_intx_enable, "
        "vfio_msi_enable: not idle, request_irq; eventfd_ctx_fdget: not an eventfd",
        errno.EBADF: "eventfd_ctx_fdget (vfio_pci_set_intx_trigger, vfio_pci_set_ctx_trigger_single): "
        "not an open descriptor",
        errno.ENOTTY: "vfio_pci_set_irqs_ioctl: no handler for index/action",
        errno.ENODEV: "vfio_intx_enable: no irq connected",
        errno.ENOSPC: "vfio_msi_enable: pci_alloc_irq_vectors finds no vectors",
    },
    "VFIO_DEVICE_GET_IRQ_INFO": {
        **_COMMON,
        errno.EFAULT: "vfio_pci_ioctl_get_irq_info: copy_from_user / copy_to_user",
        errno.EINVAL: "vfio_pci_ioctl_get_irq_info: argsz < minsz, index out of range",
    },
    "VFIO_DEVICE_GET_INFO": {
        **_COMMON,
        errno.EFAULT: "vfio_pci_ioctl_get_info: copy_from_user / copy_to_user of info or caps",
        errno.EINVAL: "vfio_pci_ioctl_get_info: argsz < minsz",
        errno.ENOMEM: "vfio_info_cap_add (zpci_*_cap, vfio_pci_info_atomic_cap): krealloc fails "
        "(never in this model)",
    },
    "VFIO_DEVICE_RESET": {
        **_COMMON,
        errno.EINVAL: "vfio_pci_ioctl_reset: !reset_works; pci_pm_reset: not in D0; "
        "zpci_disable_device: already disabled",
        errno.ENOTTY: "pci_try_reset_function: no reset method; __pci_reset_function_locked: "
        "every method declined; pci_dev_wait: the device stays silent",
        errno.EAGAIN: "pci_try_reset_function: pci_dev_trylock fails",
        errno.EIO: "reset_slot: state_lock contended or function not configured; "
        "zpci_disable_device / zpci_enable_device / zpci_iommu_register_ioat: CLP/MPCIFC failure",
    },
    # read(2)/write(2) of the device file: vfio_device_fops_read/_write -> vfio_pci_rw
    "pread": {
        **_COMMON,
        **{e: "vfio_pci_config_rw_single: pcibios_err_to_errno() of a config accessor" for e in _PCIBIOS},
        errno.EINVAL: "vfio_pci_rw: region index beyond the regions; vfio_pci_bar_rw: BAR/ROM "
        "without a resource; vfio_pci_vga_rw: !CONFIG_VFIO_PCI_VGA; vfio_pci_config_rw_single: "
        "access past the config space",
        errno.EFAULT: "vfio_pci_config_rw_single: copy_to_user / copy_from_user of the chunk",
        errno.EIO: "zpci_cfg_load/zpci_cfg_store via pci_read/pci_write: the load/store failed "
        "(the function is in the error state)",
    },
    "VFIO_DEVICE_BIND_IOMMUFD": {
        errno.EFAULT: "vfio_df_ioctl_bind_iommufd: copy_from_user / copy_to_user of out_devid",
        errno.EINVAL: "vfio_df_ioctl_bind_iommufd: argsz/flags/iommufd, already bound; "
        "vfio_df_open: the cdev device is already open",
        errno.EBADF: "iommufd_ctx_from_fd: not an open descriptor",
        errno.EBADFD: "iommufd_ctx_from_fd: not an iommufd",
        errno.EAGAIN: "vfio_pci_core_enable: pci_try_reset_function finds the device locked",
        errno.ENOENT: "vfio_pci_zdev_open_device: no kvm_register hook; "
        "vfio_config_init: pcibios_err_to_errno(PCIBIOS_FUNC_NOT_SUPPORTED)",
        errno.ENODEV: "vfio_pci_zdev_open_device: no zdev; vfio_config_init: config reads fail "
        "(pcibios_err_to_errno(PCIBIOS_DEVICE_NOT_FOUND), a permanently failed function)",
        errno.ENOMEM: "vfio_config_init, vfio_cap_init, vfio_ecap_init: allocations (never here)",
        errno.EIO: "vfio_config_init: pcibios_err_to_errno(PCIBIOS_SET_FAILED)",
        errno.ENOTTY: "vfio_config_init: pcibios_err_to_errno(PCIBIOS_BAD_VENDOR_ID)",
        errno.ENOSPC: "vfio_config_init: pcibios_err_to_errno(PCIBIOS_BUFFER_TOO_SMALL)",
        errno.ERANGE: "vfio_config_init: pcibios_err_to_errno(unknown PCIBIOS code)",
    },
}

#: the same for the merged kernel (mainline fa63a2e3f947): vfio_pci_zdev_feature_err()
#: reads its struct (EFAULT) and refuses a NULL data (EINVAL) before it dequeues
ALLOWED_MERGED: Final[dict[str, dict[int, str]]] = {
    **ALLOWED_V17,
    "VFIO_DEVICE_FEATURE": {
        **ALLOWED_V17["VFIO_DEVICE_FEATURE"],
        errno.EFAULT: _FEATURE_EFAULT + "vfio_pci_zdev_feature_err: copy_from_user of the struct, "
        "copy_to_user of the record to data",
        errno.EINVAL: _FEATURE_EINVAL + "; vfio_pci_zdev_feature_err: data == 0",
    },
}

#: the errno sets of each uAPI's kernel
ALLOWED: Final[dict[UapiKind, dict[str, dict[int, str]]]] = {"v17": ALLOWED_V17, "opaque": ALLOWED_MERGED}

# -- operations ---------------------------------------------------------------------------


@attrs.frozen
class Feature:
    """``VFIO_DEVICE_FEATURE`` with header ``argsz``/``flags`` in a buffer of ``size``
    bytes (the header is cut off when the buffer is shorter; :data:`RECORD`,
    :data:`RECORD_SPARE` for argsz and size), ``fault`` = (offset, length) of a range
    of the buffer made to fault for the call.  On the merged uAPI the 8 bytes after
    the header are ``data`` (:data:`RECBUF`, or a value: 0, an unmapped address), and
    ``data_fault`` = (offset, length) of a range of the record buffer made to fault."""

    argsz: int
    flags: int
    size: int
    fault: tuple[int, int] | None = None
    data: int = RECBUF
    data_fault: tuple[int, int] | None = None


@attrs.frozen
class SetIrqs:
    """``VFIO_DEVICE_SET_IRQS``: the header, then ``data`` as big-endian s32 words
    (``EVENTFD``/``DEVFD``/``IOMMUFD`` stand for those descriptors), in a buffer of
    ``size`` bytes."""

    argsz: int
    flags: int
    index: int
    start: int
    count: int
    data: tuple[int, ...]
    size: int


@attrs.frozen
class GetIrqInfo:
    argsz: int
    index: int
    size: int


@attrs.frozen
class GetInfo:
    argsz: int
    size: int


@attrs.frozen
class Reset:
    pass


@attrs.frozen
class Inject:
    """A firmware error event for fid 0x10; ``fields`` = (ett, mvn, dmaas, q, rw)."""

    pec: int
    fields: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


@attrs.frozen
class Close:
    pass


@attrs.frozen
class Open:
    """Open the device node (when closed) and bind it when ``bind``; when it is open
    and bound already, a second program opens the node and tries to bind (EINVAL)."""

    bind: bool = True


@attrs.frozen
class Rw:
    """``pread``/``pwrite`` of the device file: ``region`` (a VFIO_PCI_*_REGION_INDEX, or
    anything) and ``offset`` within it, ``size`` bytes (``data`` for a write)."""

    write: bool
    region: int
    offset: int
    size: int
    data: bytes = b""


Op = Feature | SetIrqs | GetIrqInfo | GetInfo | Reset | Inject | Close | Open | Rw

# -- accounting ---------------------------------------------------------------------------


@attrs.define
class Ledger:
    """What became of the injected error records of one example (or, summed, of a
    run).  Every figure but ``injected``, ``fmb`` and ``not_stored`` is what
    userspace or the log saw."""

    injected: int = 0
    fmb: int = 0  # a measurement-block PEC: never stored
    not_stored: int = 0  # the device was not open: no mediated recovery
    delivered: int = 0  # returned by a GET
    dropped: int = 0  # "Maximum number (4) of pending error events queued"
    cleared: int = 0  # "Unhandled PCI error events count=N" at close
    efault_lost: int = 0  # dequeued by a GET whose copy_to_user faulted (merged: logged, rate-limited)
    still_queued: int = 0  # in the queue at the end of the example

    def accounted(self) -> int:
        return (
            self.fmb
            + self.not_stored
            + self.delivered
            + self.dropped
            + self.cleared
            + self.efault_lost
            + self.still_queued
        )

    def add(self, other: Ledger) -> None:
        for f in attrs.fields(Ledger):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@attrs.define
class Stats:
    """Counts over many examples: per-request result histograms and the ledger."""

    examples: int = 0
    steps: int = 0
    results: collections.Counter[tuple[str, str]] = attrs.field(factory=collections.Counter)
    ledger: Ledger = attrs.field(factory=Ledger)
    #: the uAPIs the examples found the kernel offering
    uapis: set[str] = attrs.field(factory=set)

    def report(self) -> str:
        lines = [
            f"examples {self.examples}, steps {self.steps}, uAPI {'/'.join(sorted(self.uapis))}",
            "results per request:",
        ]
        for req in sorted({r for r, _ in self.results}):
            hist = sorted(((n, res) for (r, res), n in self.results.items() if r == req), reverse=True)
            lines.append(f"  {req}: " + ", ".join(f"{res} {n}" for n, res in hist))
        led = self.ledger
        lines.append(
            "ledger: "
            + ", ".join(f"{f.name} {getattr(led, f.name)}" for f in attrs.fields(Ledger))
            + f" (accounted {led.accounted()})"
        )
        return "\n".join(lines)


class FuzzFailure(AssertionError):
    """A property does not hold."""


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise FuzzFailure(what)


_MAX_LINE: Final = "Maximum number (4) of pending error events queued"
_LOST_LINE: Final = "Failed to handle PCI error event for PCI function 0x"


def full_queue_line(kind: UapiKind, name: str) -> tuple[int, str]:
    """(level, text) of a record dropped on a full queue: v17 ``pr_err``; merged
    ``dev_warn_ratelimited()`` on the PCI device."""
    if kind == "opaque":
        return KERN_WARNING, f"vfio-pci {name}: {name}: {_MAX_LINE}"
    return KERN_ERR, f"zpci: {name}: {_MAX_LINE}"


_UNHANDLED: Final = re.compile(r"Unhandled PCI error events count=(\d+) for PCI function 0x([0-9a-f]+)$")


@attrs.define
class _Record:
    fh: int
    pec: int
    faddr: int
    fields: tuple[int, int, int, int, int]


@attrs.define(eq=False)
class _Example:
    host: Host
    zdev: zpci_dev
    node: str
    name: str
    stats: Stats
    efd: int
    fd: int | None = None
    iommufd: int | None = None
    bound: bool = False
    model: collections.deque[_Record] = attrs.field(factory=collections.deque)
    ledger: Ledger = attrs.field(factory=Ledger)
    log_seq: int = -1
    faddr: int = 0x1000
    #: the uAPI of the error feature, learnt at the first bind
    kind: UapiKind = "v17"
    length: int = 0
    #: rate-limited lines printed so far in the example: full queue, lost record
    full_lines: int = 0
    lost_lines: int = 0

    # -- helpers -----------------------------------------------------------------------

    def new_lines(self) -> list[LogLine]:
        lines = [ln for ln in dmesg() if ln.seq > self.log_seq]
        if lines:
            self.log_seq = lines[-1].seq
        return lines

    def new_log(self) -> list[str]:
        return [ln.text for ln in self.new_lines()]

    def ratelimited(self, lines: list[LogLine], level: int, text: str, printed: int, what: str) -> int:
        """The lines like ``text`` among ``lines`` for one event that must log it:
        exactly one, ``text`` at ``level``; on the merged kernel (rate-limited) none
        is also right once DEFAULT_RATELIMIT_BURST were ``printed`` in the example.
        How many there were."""
        tail = text.split(": ")[-1]
        same = [ln for ln in lines if ln.text.endswith(tail)]
        _check(
            all((ln.level, ln.text) == (level, text) for ln in same), f"{what}: {[str(ln) for ln in same]}"
        )
        if self.kind == "opaque" and printed >= DEFAULT_RATELIMIT_BURST:
            _check(len(same) <= 1, f"{what}: {len(same)} lines")
            self.count("log", f"{what} line" if same else f"{what} line rate-limited")
        else:
            _check(len(same) == 1, f"{what}: {len(same)} lines, 1 expected")
            self.count("log", f"{what} line")
        return len(same)

    def count(self, request: str, result: str) -> None:
        self.stats.results[(request, result)] += 1

    def call(self, request: str, fd: int, code: int, arg: int | bytearray) -> int:
        """The ioctl; returns 0 or the errno (checked against :data:`ALLOWED`)."""
        try:
            syscalls.ioctl(fd, code, arg)
        except OSError as e:
            err = e.errno or 0
            self.count(request, errno.errorcode.get(err, str(err)))
            _check(err in ALLOWED[self.kind][request], f"{request} returned {errno.errorcode.get(err, err)}")
            if not self.bound and fd == self.fd and request != "VFIO_DEVICE_BIND_IOMMUFD":
                _check(err == errno.EINVAL, f"{request} on an unbound file returned {err}")
            return err
        finally:
            clear_faults()
        self.count(request, "ok")
        _check(
            self.bound or fd != self.fd or request == "VFIO_DEVICE_BIND_IOMMUFD",
            f"{request} succeeded on an unbound file",
        )
        return 0

    def queue(self) -> list[tuple[int, int]]:
        """(faddr, pec) of the records in the kernel's queue, oldest first, after the
        structural invariants are checked."""
        pe = self.zdev.pending_errs
        _check(pe.count == (pe.tail - pe.head) & 0xFF, f"count {pe.count} head {pe.head} tail {pe.tail}")
        _check(pe.count <= ZPCI_ERR_PENDING_MAX, f"count {pe.count} > {ZPCI_ERR_PENDING_MAX}")
        _check(pe.mediated_recovery == (1 if self.bound else 0), "mediated_recovery does not follow open")
        out = []
        for i in range(pe.count):
            rec = pe.err[(pe.head + i) % ZPCI_ERR_PENDING_MAX]
            out.append((rec.faddr, rec.pec))
        return out

    def check_queue(self) -> None:
        got = self.queue()
        want = [(r.faddr, r.pec) for r in self.model]
        _check(got == want, f"queue {got} != model {want}")

    def buffer(self, size: int, head: bytes) -> bytearray:
        buf = bytearray(b"\xaa" * size)
        n = min(size, len(head))
        buf[:n] = head[:n]
        return buf

    def resolve(self, word: int) -> int:
        if word == EVENTFD:
            return self.efd
        if word == DEVFD:
            return self.fd if self.fd is not None else -1
        if word == IOMMUFD:
            return self.iommufd if self.iommufd is not None else -1
        return word

    # -- operations ----------------------------------------------------------------------

    def resolve_size(self, n: int) -> int:
        record = HDR + ERR[self.kind]
        return {RECORD: record, RECORD_SPARE: record + 16}.get(n, n)

    def expected_get(self, op: Feature, argsz: int, size: int, queued: int, data_ok: bool) -> int | None:
        """The one right answer of a well-formed GET of the error feature on a bound
        file (argsz fits, the buffer holds the struct, nothing of it faults), or None
        for any other call (then the errno need only be one the C can return)."""
        if not (self.bound and op.flags & 0xFFFFFFFF == GET_ZPCI_ERROR and op.fault is None):
            return None
        if not (argsz == HDR + ERR[self.kind] and size >= argsz):
            return None
        if self.kind == "opaque" and op.data == 0:
            return errno.EINVAL  # vfio_pci_zdev_feature_err: !err.data
        if not queued:
            return errno.ENOMSG
        return 0 if data_ok else errno.EFAULT

    def feature(self, op: Feature) -> None:
        if self.fd is None:
            return
        argsz, size = self.resolve_size(op.argsz), self.resolve_size(op.size)
        head = struct.pack(">II", argsz & 0xFFFFFFFF, op.flags & 0xFFFFFFFF)
        rec: ctypes.Array[ctypes.c_uint8] | None = None
        data_ok = True  # the record can be copied out whole (v17: ``fault`` says)
        if self.kind == "opaque":
            rec = syscalls.alloc(self.length + GUARD)
            ctypes.memset(rec, 0xAA, len(rec))
            data = ctypes.addressof(rec) if op.data == RECBUF else op.data
            head += struct.pack(">Q", data & 0xFFFFFFFFFFFFFFFF)
            data_ok = op.data == RECBUF and (op.data_fault is None or op.data_fault[0] >= CCDF_LEN)
        try:
            buf = self.buffer(size, head)
            sent = bytes(buf)
            if op.fault is not None and size:
                # within the buffer (past it nothing is mapped, or the record buffer is)
                addr, _ = user_addr(buf)
                off = min(op.fault[0], size - 1)
                make_fault(addr + off, min(op.fault[1], size - off))
            if rec is not None and op.data == RECBUF and op.data_fault is not None:
                # within the record buffer only: past it may lie the ioctl's buffer
                off = min(op.data_fault[0], len(rec) - 1)
                make_fault(ctypes.addressof(rec) + off, min(op.data_fault[1], len(rec) - off))
            before = list(self.model)
            is_get = op.flags & 0xFFFFFFFF == GET_ZPCI_ERROR  # a plain GET of the error feature
            want = self.expected_get(op, argsz, size, len(before), data_ok)
            self.new_lines()
            err = self.call("VFIO_DEVICE_FEATURE", self.fd, V.VFIO_DEVICE_FEATURE, buf)
            log = self.new_lines()
            if want is not None:
                _check(err == want, f"a well-formed GET returned {err}, {want} expected")
            if not self.bound:
                return
            if rec is not None:
                # the merged kernel reads the ioctl's buffer and never writes it
                _check(bytes(buf) == sent, "the GET wrote into the ioctl's buffer")
            lost = False
            if err == 0 and is_get:
                _check(bool(before), "GET succeeded with nothing queued")
                head_rec = self.model.popleft()
                if rec is None:
                    self.check_reply(buf, head_rec)
                else:
                    _check(op.data == RECBUF, "a GET succeeded into an unmapped buffer")
                    self.check_record(rec, head_rec, CCDF_LEN)
                self.ledger.delivered += 1
            elif err == errno.ENOMSG:
                _check(not before, f"ENOMSG with {len(before)} records queued")
            elif (
                err == errno.EFAULT and is_get and before and self.zdev.pending_errs.count == len(before) - 1
            ):
                lost_rec = self.model.popleft()  # dequeued, then lost to the faulting copy
                self.ledger.efault_lost += 1
                lost = True
                if rec is not None and op.data == RECBUF:
                    # copy_to_user() copied what it could: the bytes before the fault
                    _check(op.data_fault is not None, "a record lost with nothing faulting")
                    assert op.data_fault is not None
                    self.check_record(rec, lost_rec, min(op.data_fault[0], CCDF_LEN))
            if lost and self.kind == "opaque":
                level, text = KERN_WARNING, f"vfio-pci {self.name}: {_LOST_LINE}{FID:x}"
                self.lost_lines += self.ratelimited(log, level, text, self.lost_lines, "lost-record")
            else:
                lost_lines = [ln.text for ln in log if _LOST_LINE in ln.text]
                _check(not lost_lines, f"lost-record line without a lost record: {lost_lines}")
            self.check_queue()
        finally:
            if rec is not None:
                clear_faults()
                syscalls.free(rec)

    def check_record(self, rec: ctypes.Array[ctypes.c_uint8], want: _Record, copied: int) -> None:
        """Merged uAPI: the first ``copied`` bytes of the record buffer are those of the
        firmware's CCDF for ``want`` (reserved fields included), every other byte is
        as the program left it (0xAA): nothing was written past what was copied, nor
        past ccdf_err_length."""
        ett, mvn, dmaas, q, rw = want.fields
        ccdf = bytes(
            zpci_ccdf_err(
                fh=want.fh, fid=FID, ett=ett, mvn=mvn, dmaas=dmaas, q=q, rw=rw, faddr=want.faddr, pec=want.pec
            )
        )
        got = bytes(rec)
        _check(
            got[:copied] == ccdf[:copied], f"the record buffer holds {got[:copied].hex()}, not {ccdf.hex()}"
        )
        _check(got[copied:] == b"\xaa" * (len(got) - copied), f"the GET wrote past the record: {got.hex()}")

    def check_reply(self, buf: bytearray, rec: _Record) -> None:
        """v17 uAPI: the record in the ioctl's buffer, zero outside its fields."""
        size = ERR["v17"]
        _check(len(buf) >= HDR + size, "a GET succeeded into a buffer too short for the record")
        raw = bytes(buf[HDR : HDR + size])
        err = vfio_device_feature_zpci_err_v17.from_buffer_copy(raw)
        want = (rec.fh, FID, rec.pec, rec.faddr, rec.fields)
        got = (err.fh, err.fid, err.pec, err.faddr, (err.ett, err.mvn, err.dmaas, err.q, err.rw))
        _check(got == want, f"GET returned {got}, the queue's head was {want}")
        _check(
            (err.feature_flags, err.reserved1, err.reserved2, err.reserved3, err.reserved4) == (0,) * 5
            and bytes(err.reserved5) == bytes(28)
            and raw[20:24] == bytes(4)
            and raw[68:72] == bytes(4),
            f"non-zero bytes outside the record's fields: {raw.hex()}",
        )
        _check(bytes(buf[HDR + size :]) == b"\xaa" * (len(buf) - HDR - size), "GET wrote past the record")

    def set_irqs(self, op: SetIrqs) -> None:
        if self.fd is None:
            return
        head = struct.pack(
            ">IIIII", op.argsz & 0xFFFFFFFF, op.flags & 0xFFFFFFFF, op.index, op.start, op.count
        )
        data = b"".join(struct.pack(">i", self.resolve(w)) for w in op.data)
        self.call("VFIO_DEVICE_SET_IRQS", self.fd, V.VFIO_DEVICE_SET_IRQS, self.buffer(op.size, head + data))
        self.check_queue()

    def get_irq_info(self, op: GetIrqInfo) -> None:
        if self.fd is None:
            return
        buf = self.buffer(op.size, struct.pack(">IIII", op.argsz & 0xFFFFFFFF, 0, op.index, 0))
        self.call("VFIO_DEVICE_GET_IRQ_INFO", self.fd, V.VFIO_DEVICE_GET_IRQ_INFO, buf)
        self.check_queue()

    def get_info(self, op: GetInfo) -> None:
        if self.fd is None:
            return
        buf = self.buffer(op.size, struct.pack(">I", op.argsz & 0xFFFFFFFF))
        self.call("VFIO_DEVICE_GET_INFO", self.fd, V.VFIO_DEVICE_GET_INFO, buf)
        self.check_queue()

    def rw(self, op: Rw) -> None:
        if self.fd is None:
            return
        pos = (op.region << 40) | (op.offset & ((1 << 40) - 1))  # VFIO_PCI_INDEX_TO_OFFSET
        request = "pwrite" if op.write else "pread"
        try:
            if op.write:
                n = syscalls.pwrite(self.fd, op.data[: op.size], pos)
            else:
                n = len(syscalls.pread(self.fd, op.size, pos))
        except OSError as e:
            err = e.errno or 0
            self.count(request, errno.errorcode.get(err, str(err)))
            _check(err in ALLOWED[self.kind]["pread"], f"{request} returned {errno.errorcode.get(err, err)}")
            if not self.bound:
                _check(err == errno.EINVAL, f"{request} on an unbound file returned {err}")
        else:
            self.count(request, "ok")
            _check(self.bound, f"{request} succeeded on an unbound file")
            _check(0 <= n <= op.size, f"{request} of {op.size} bytes returned {n}")
        self.check_queue()

    def reset(self) -> None:
        if self.fd is None:
            return
        self.call("VFIO_DEVICE_RESET", self.fd, V.VFIO_DEVICE_RESET, 0)
        self.check_queue()

    def inject(self, op: Inject) -> None:
        fh = self.host.fw.fh(FID)
        ett, mvn, dmaas, q, rw = op.fields
        self.faddr += 1
        self.new_log()
        self.host.fw.inject_error(
            FID, pec=op.pec, faddr=self.faddr, ett=ett, mvn=mvn, dmaas=dmaas, q=q, rw=rw
        )
        _check(self.host.fw.wait_events_handled(), "the event was not handled")
        self.ledger.injected += 1
        lines = self.new_lines()
        log = [ln.text for ln in lines]
        _check(
            any(t.endswith(f"Event 0x{op.pec:x} reports an error for PCI function 0x{FID:x}") for t in log),
            f"no event line for PEC 0x{op.pec:x}",
        )
        drops = sum(t.endswith(_MAX_LINE) for t in log)
        if op.pec in FMB_PECS:
            self.ledger.fmb += 1
            _check(drops == 0, "a measurement-block event was stored")
        elif not self.bound:
            self.ledger.not_stored += 1
            _check(drops == 0, "a record was offered while the device was not open")
        elif len(self.model) < ZPCI_ERR_PENDING_MAX:
            _check(drops == 0, "a record was dropped with room in the queue")
            self.model.append(_Record(fh, op.pec, self.faddr, op.fields))
        else:
            level, text = full_queue_line(self.kind, self.name)
            self.full_lines += self.ratelimited(lines, level, text, self.full_lines, "full-queue")
            self.ledger.dropped += 1
        self.check_queue()

    def close(self) -> None:
        if self.fd is None:
            return
        self.new_log()
        fd, ifd = self.fd, self.iommufd
        self.fd = self.iommufd = None
        was_bound, self.bound = self.bound, False
        syscalls.close(fd)
        if ifd is not None:
            syscalls.close(ifd)
        self.count("close", "ok")
        counts = [m for t in self.new_log() if (m := _UNHANDLED.search(t))]
        n = len(self.model)
        if was_bound and n:
            _check(
                [(int(m[1]), int(m[2], 16)) for m in counts] == [(n, FID)],
                f"close with {n} records pending logged {[m[0] for m in counts]}",
            )
            self.ledger.cleared += int(counts[0][1])
            self.model.clear()
        else:
            _check(not counts, f"close with nothing pending logged {[m[0] for m in counts]}")
        self.check_queue()

    def bind(self, fd: int, ifd: int) -> int:
        b = V.vfio_device_bind_iommufd(argsz=ctypes.sizeof(V.vfio_device_bind_iommufd), iommufd=ifd)
        return self.call("VFIO_DEVICE_BIND_IOMMUFD", fd, V.VFIO_DEVICE_BIND_IOMMUFD, bytearray(bytes(b)))

    def open(self, op: Open) -> None:
        if self.fd is None:
            self.iommufd = syscalls.open("/dev/iommu")
            self.fd = syscalls.open(self.node)
            self.count("open", "ok")
        if not self.bound:
            if op.bind:
                assert self.iommufd is not None
                # may fail (a permanently failed function: ENODEV); the file stays unbound
                self.bound = self.bind(self.fd, self.iommufd) == 0
                if self.bound and not self.length:
                    # what a program does once: which uAPI the error feature has here
                    reader = reader_for(self.fd)
                    self.kind, self.length = reader.kind, reader.length
                    self.stats.uapis.add(reader.kind)
        else:
            # a second program: the cdev device is open already
            ifd = syscalls.open("/dev/iommu")
            fd = syscalls.open(self.node)
            try:
                err = self.bind(fd, ifd)
                _check(err == errno.EINVAL, f"a second BIND_IOMMUFD returned {err}")
            finally:
                syscalls.close(fd)
                syscalls.close(ifd)
        self.check_queue()

    def step(self, op: Op) -> None:
        if isinstance(op, Feature):
            self.feature(op)
        elif isinstance(op, SetIrqs):
            self.set_irqs(op)
        elif isinstance(op, GetIrqInfo):
            self.get_irq_info(op)
        elif isinstance(op, GetInfo):
            self.get_info(op)
        elif isinstance(op, Reset):
            self.reset()
        elif isinstance(op, Inject):
            self.inject(op)
        elif isinstance(op, Close):
            self.close()
        elif isinstance(op, Rw):
            self.rw(op)
        else:
            self.open(op)
        self.stats.steps += 1


def run_example(ops: Iterable[Op], stats: Stats | None = None) -> Ledger:
    """Boot a fresh machine, open fid 0x10 through vfio-pci, run ``ops`` checking
    the properties after each, tear everything down and shut the firmware down.
    Raises :class:`FuzzFailure` when a property fails (any other exception is one
    that escaped a call).  Returns the example's ledger (also added to ``stats``)."""
    stats = stats if stats is not None else Stats()
    # a boot does not clear what the previous kernel reported: judge this example on
    # its own reports
    reports, warnings = len(lockdep.reports), len(bug.warnings)
    host = Host.boot({FID: PciFunction(0x1AF4, 0x1041)})
    efd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    ex: _Example | None = None
    try:
        node = host.bind_vfio_pci(FID)
        zdev = zdev_of(FID)
        ex = _Example(host, zdev, node, pci_name(host.pdev(FID)), stats, efd)
        ex.new_log()
        ex.open(Open(bind=True))
        _check(ex.length > 0, "the first bind failed: no uAPI learnt")
        for op in ops:
            ex.step(op)
        ex.ledger.still_queued = len(ex.queue())
        led = attrs.evolve(ex.ledger)  # the teardown close below is not part of the example
        _check(
            led.injected == led.accounted(),
            f"{led.injected} records injected, {led.accounted()} accounted for: {led}",
        )
        ex.close()
        problems = [*lockdep.reports[reports:], *(f"WARN {w}" for w in bug.warnings[warnings:])]
        _check(not problems, "kernel reported: " + "; ".join(map(str, problems)))
        stats.examples += 1
        stats.ledger.add(led)
        return led
    finally:
        if ex is not None:
            for fd in (ex.fd, ex.iommufd):
                if fd is not None:
                    try:
                        syscalls.close(fd)
                    except OSError:
                        pass
        os.close(efd)
        host.shutdown()
