"""Recording a run: what the host kernel, the firmware and the programs do, as steps of
a :class:`sim.timeline.Timeline`.

:func:`recording` attaches a timeline to a running host for the length of a ``with``
block::

    with use(timeline), recording(timeline, host.fw):
        ...   # the scenario's steps

What it records:

* every host kernel log line (:func:`kernel.lib.printk.klog_subscribe`) as actor
  ``host``, kind ``log``, the text exactly as the kernel printed it (``level`` in the
  step's fields).  ``KERN_INFO`` and more important by default; ``verbose=True``
  adds the debug lines, as minor steps (numbered ``23.1`` after step 23: the other
  steps keep their numbers, :class:`sim.timeline.Timeline`);
* kernel trace events (:func:`kernel.lib.trace.trace_subscribe`): ``eventfd_signal``
  as ``host``/``irq``;
* the firmware (:attr:`sim.zpci.firmware.ZpciFirmware.listeners`): error and
  availability events as ``firmware``/``event`` (before the kernel sees them), CLP
  Set PCI Function enable/disable, MPCIFC Reset Error/Block and the kernel's SCLP
  error notifications (the report's first two lines) as ``firmware``/``clp``;
* resets of the functions' hardware (:attr:`sim.pci.function.PciFunction.reset_listeners`)
  as ``firmware``/``reset``;
* every ``ioctl`` on a kernel file through :mod:`sim.userspace.syscalls`, under the
  actor that made it (:func:`sim.timeline.current_actor`), with ``request`` (the
  ioctl's name, :func:`ioctl_name`) and ``ret`` (the result, or the negative errno),
  and every eventfd read through :func:`sim.userspace.syscalls.eventfd_read` as
  kind ``irq``, and the programs' close of a device file (:func:`record_close`) as
  kind ``close``.  These are recorded into the *current* timeline
  (:func:`sim.timeline.current`), so a program's thread sees them only if it runs
  in a context where the timeline is installed.

Recording only observes: the hooks run after the thing they report, change nothing,
and none is installed when no timeline is (a kernel log line or trace event then
costs one empty-list check, an ioctl one context-variable read).
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import errno
import functools
import inspect
import struct
import sys
import textwrap
import threading
from collections.abc import Iterable, Iterator
from types import CodeType, FrameType
from typing import Any, Final

import uapi.linux.vfio as V
from kernel.lib.callsite import code_function, code_path, stack
from kernel.lib.errno import errname
from kernel.lib.printk import KERN_DEBUG, KERN_INFO, LogLine, klog_subscribe, klog_unsubscribe
from kernel.lib.trace import trace_subscribe, trace_unsubscribe
from kernel.s390.include.asm.clp import CLP_RC_OK
from kernel.s390.include.asm.pci_clp import CLP_SET_DISABLE_PCI_FN, CLP_SET_ENABLE_PCI_FN
from kernel.s390.include.asm.pci_insn import ZPCI_MOD_FC_RESET_BLOCK, ZPCI_MOD_FC_RESET_ERROR
from sim.pci.function import PciFunction
from sim.timeline import Step, Timeline, current, current_actor
from sim.userspace.zpci_err import (
    CCDF_ERR_LENGTH,
    VFIO_DEVICE_FEATURE_ZPCI_ERROR,
    vfio_device_feature_zpci_err_v17,
    zpci_ccdf_err,
)
from sim.zpci.firmware import ZpciFirmware
from uapi.asm_generic.ioctl import _IO

__all__ = [
    "KernelWatch",
    "Recorder",
    "ioctl_name",
    "ioctl_text",
    "kernel_functions_at_step",
    "record_close",
    "record_eventfd_read",
    "record_ioctl",
    "record_running",
    "recording",
]


def _vfio_names(prefix: str, lo: int, hi: int, exclude: tuple[str, ...] = ()) -> dict[int, str]:
    names: dict[int, str] = {}
    for name, value in vars(V).items():
        if name.startswith(prefix) and isinstance(value, int) and lo <= value < hi and name not in exclude:
            names.setdefault(value, name)
    return names


#: ioctl number -> name, from uapi/linux/vfio.h (the numbers are ``_IO(';', 100 + n)``).
_IOCTLS: Final = _vfio_names("VFIO_", _IO(V.VFIO_TYPE, V.VFIO_BASE), _IO(V.VFIO_TYPE, V.VFIO_BASE + 64))
#: device feature index -> name without the ``VFIO_DEVICE_FEATURE_`` prefix.
_FEATURES: Final = {
    nr: name.removeprefix("VFIO_DEVICE_FEATURE_")
    for nr, name in _vfio_names(
        "VFIO_DEVICE_FEATURE_",
        0,
        V.VFIO_DEVICE_FEATURE_MASK,
        ("VFIO_DEVICE_FEATURE_GET", "VFIO_DEVICE_FEATURE_SET", "VFIO_DEVICE_FEATURE_PROBE"),
    ).items()
}
_IRQ_INDEXES: Final = {
    V.VFIO_PCI_INTX_IRQ_INDEX: "INTX",
    V.VFIO_PCI_MSI_IRQ_INDEX: "MSI",
    V.VFIO_PCI_MSIX_IRQ_INDEX: "MSIX",
    V.VFIO_PCI_ERR_IRQ_INDEX: "ERR",
    V.VFIO_PCI_REQ_IRQ_INDEX: "REQ",
}
_OC: Final = {CLP_SET_ENABLE_PCI_FN: "enable", CLP_SET_DISABLE_PCI_FN: "disable"}
_RESETS: Final = {"flr": "FLR", "af_flr": "AF FLR", "pm": "PM reset (D3hot->D0)", "hot": "hot reset"}
_MPCIFC: Final = {ZPCI_MOD_FC_RESET_ERROR: "Reset Error", ZPCI_MOD_FC_RESET_BLOCK: "Reset Block"}


def _arg_bytes(arg: object) -> bytes:
    if isinstance(arg, bytes | bytearray):
        return bytes(arg)
    if isinstance(arg, ctypes.Structure | ctypes.Array):
        return ctypes.string_at(ctypes.addressof(arg), ctypes.sizeof(arg))
    if isinstance(arg, memoryview):
        return arg.tobytes()
    return b""


def ioctl_name(request: int, arg: object = 0) -> str:
    """The name of an ioctl request as a reader wants it: ``VFIO_DEVICE_RESET``;
    ``VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)`` with the feature's flags and index read
    from the argument's header; an unknown request as its number in hex."""
    name = _IOCTLS.get(request)
    if name is None:
        return f"ioctl({request:#x})"
    if request == V.VFIO_DEVICE_FEATURE:
        data = _arg_bytes(arg)
        if len(data) >= 8:
            (flags,) = struct.unpack_from(">I", data, 4)
            ops = [
                op
                for bit, op in (
                    (V.VFIO_DEVICE_FEATURE_GET, "GET"),
                    (V.VFIO_DEVICE_FEATURE_SET, "SET"),
                    (V.VFIO_DEVICE_FEATURE_PROBE, "PROBE"),
                )
                if flags & bit
            ]
            nr = flags & V.VFIO_DEVICE_FEATURE_MASK
            ops.append(_FEATURES.get(nr, str(nr)))
            name += "(" + "|".join(ops) + ")"
    return name


def _ret_text(ret: int) -> str:
    return f"-{errname(ret)}" if ret < 0 else str(ret)


def ioctl_text(request: int, arg: object, ret: int) -> tuple[str, dict[str, Any]]:
    """The step text of a finished ioctl, and the fields it decodes from the buffer
    (the IRQ index of ``*_IRQ*`` requests; the record a ZPCI_ERROR GET returned)."""
    text = f"{ioctl_name(request, arg)} = {_ret_text(ret)}"
    fields: dict[str, Any] = {}
    data = _arg_bytes(arg)
    if request in (V.VFIO_DEVICE_SET_IRQS, V.VFIO_DEVICE_GET_IRQ_INFO) and len(data) >= 12:
        (index,) = struct.unpack_from(">I", data, 8)
        fields["index"] = _IRQ_INDEXES.get(index, str(index))
        text += f" (index {fields['index']})"
    elif request == V.VFIO_DEVICE_FEATURE and ret == 0 and len(data) >= 8:
        (flags,) = struct.unpack_from(">I", data, 4)
        size = ctypes.sizeof(vfio_device_feature_zpci_err_v17)
        rec: vfio_device_feature_zpci_err_v17 | zpci_ccdf_err | None = None
        zpci_get = flags & V.VFIO_DEVICE_FEATURE_MASK == VFIO_DEVICE_FEATURE_ZPCI_ERROR
        if zpci_get and flags & V.VFIO_DEVICE_FEATURE_GET:
            if len(data) >= 8 + size:  # v17: the record is in the feature buffer
                rec = vfio_device_feature_zpci_err_v17.from_buffer_copy(data, 8)
            elif len(data) >= 16:  # as merged: data points at the record, which the kernel wrote
                (ptr,) = struct.unpack_from(">Q", data, 8)
                if ptr:
                    rec = zpci_ccdf_err.from_buffer_copy(ctypes.string_at(ptr, CCDF_ERR_LENGTH))
        if rec is not None:
            fields.update(pec=rec.pec, fid=rec.fid, fh=rec.fh)
            text += f" (PEC 0x{rec.pec:x} fid 0x{rec.fid:x} fh 0x{rec.fh:08x})"
    return text, fields


class _Call:
    """One kernel function's call during a watched ioctl."""

    __slots__ = ("children", "code", "frame", "line", "ret", "user")

    def __init__(self, frame: FrameType, user: bool) -> None:
        self.frame: FrameType | None = frame
        self.code = frame.f_code
        self.children: list[_Call] = []
        self.ret: object = None
        self.line = frame.f_lineno  # then the line it returned from
        self.user = user  # it was handed the ioctl's user pointer


class KernelWatch:
    """Watch the kernel functions an ioctl runs on this thread (``with watch:``), to
    say which one produced its result: :attr:`origin`.

    A ``sys.setprofile`` hook for the block's length; :func:`sim.userspace.syscalls.ioctl`
    uses it only while a timeline is recorded, so the error path pays nothing."""

    def __init__(self, arg: object = None) -> None:
        #: the size of the ioctl's buffer: a pointer into it is the user's
        self.size = len(_arg_bytes(arg))
        self.top: list[_Call] = []
        self._stack: list[_Call] = []
        #: every kernel function that ran: (file, function)
        self.ran: set[tuple[str, str]] = set()
        self._prev: Any = None
        self._uptr: object = None

    def _profile(self, frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            path = code_path(frame.f_code)
            if path.startswith(_KERNEL_TREES):
                parent = self._stack[-1] if self._stack else None
                code = frame.f_code
                args = frame.f_locals
                if parent is None and code.co_name == "vfs_ioctl":
                    self._uptr = args.get("arg")
                user = False
                if type(self._uptr) is int:
                    lo, hi = self._uptr, self._uptr + max(self.size, 1)
                    for n in code.co_varnames[: code.co_argcount]:
                        v = args.get(n)
                        if type(v) is int and lo <= v < hi:
                            user = True
                            break
                call = _Call(frame, user)
                (parent.children if parent else self.top).append(call)
                self._stack.append(call)
                self.ran.add((path, code_function(frame.f_code)))
        elif event == "return" and self._stack and self._stack[-1].frame is frame:
            call = self._stack.pop()
            call.ret, call.line, call.frame = arg, frame.f_lineno, None

    def __enter__(self) -> KernelWatch:
        self._prev = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(self._prev)

    def origin(self, ret: int) -> tuple[str, str] | None:
        """``(function, "path:line")`` of the innermost kernel function whose return
        value the ioctl returned (``ret``), at its ``return``: from the VFS entry
        (``vfs_ioctl``) down, each step goes to the last callee that returned the same
        integer, and stops at the kernel's infrastructure (``kernel/lib/``:
        ``copy_to_user`` returning 0 did not decide the result).  An error is followed
        to where the errno was made; a success only through the functions handed a
        pointer into the ioctl's buffer, to the request's handler (``vfio_pci_ioctl_reset``, not
        the last of the reset's helpers that returned 0).  None when no kernel
        function returned ``ret``."""
        entries = [c for c in self.top if type(c.ret) is int and c.ret == ret]
        if not entries:
            return None
        cur = entries[-1]
        while True:
            same = [c for c in cur.children if type(c.ret) is int and c.ret == cur.ret]
            if not same or code_path(same[-1].code).startswith("kernel/lib/"):
                break
            if ret >= 0 and not same[-1].user:
                break
            cur = same[-1]
        line = cur.line
        if ret < 0:
            line = _errno_return_line(cur.code, -ret) or line
        return code_function(cur.code), f"{code_path(cur.code)}:{line}"


@functools.lru_cache(maxsize=256)
def _errno_returns(code: CodeType) -> dict[int, int]:
    """errno -> line of the first ``return -errno.NAME`` in ``code``'s function (the
    line a profile hook sees at a return is that of an enclosing ``with``, whose exit
    runs last, so the statement is found in the source)."""
    try:
        lines, first = inspect.getsourcelines(code)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, SyntaxError, TypeError):
        return {}
    out: dict[int, int] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Return):
            continue
        v = node.value
        if (
            isinstance(v, ast.UnaryOp)
            and isinstance(v.op, ast.USub)
            and isinstance(v.operand, ast.Attribute)
            and isinstance(v.operand.value, ast.Name)
            and v.operand.value.id == "errno"
        ):
            e = getattr(errno, v.operand.attr, None)
            if isinstance(e, int):
                line = first + node.lineno - 1
                out[e] = min(out.get(e, line), line)
    return out


def _errno_return_line(code: CodeType, err: int) -> int | None:
    return _errno_returns(code).get(err)


_KERNEL_TREES: Final = ("kernel/", "uapi/")
_step_ran = threading.local()


def kernel_functions_at_step() -> set[tuple[str, str]]:
    """For a :class:`~sim.timeline.Timeline` subscriber, called while a step is being
    recorded: the kernel functions running at that step, as ``(file, function)`` --
    those on the recording thread's stack, and those handed to
    :func:`record_running` (an ioctl's, a guest kernel line's).  Exists for the
    execution index (``python -m tools.index``)."""
    out: set[tuple[str, str]] = set()
    frame: FrameType | None = sys._getframe(1)
    # record_running's functions belong to its own step, not to one a subscriber of
    # that step records in turn: the innermost Timeline.record must be its own
    record_frame = frame
    while record_frame is not None and record_frame.f_code is not Timeline.record.__code__:
        record_frame = record_frame.f_back
    if record_frame is not None and record_frame.f_back is getattr(_step_ran, "frame", None):
        out.update(_step_ran.ran)
    out.update(stack(frame, _KERNEL_TREES))
    return out


def record_ioctl(request: int, arg: object, ret: int, watch: KernelWatch | None = None) -> None:
    """Record a finished ioctl in the current timeline, if there is one (called by
    :func:`sim.userspace.syscalls.ioctl`).  With the ``watch`` it ran under, the step
    says which kernel function produced the result (``function``, ``source``)."""
    timeline = current()
    if timeline is None:
        return
    text, fields = ioctl_text(request, arg, ret)
    origin = watch.origin(ret) if watch is not None else None
    if origin is not None:
        fields["function"], fields["source"] = origin
    ran = watch.ran if watch is not None else set()
    name = ioctl_name(request, arg)
    record_running(timeline, ran, current_actor(), "ioctl", text, request=name, ret=ret, **fields)


def record_running(
    timeline: Timeline, running: Iterable[tuple[str, str]], actor: str, kind: str, text: str, **fields: Any
) -> Step:
    """``timeline.record(actor, kind, text, **fields)`` for a step at which the kernel
    functions ``running`` (``(file, function)``) ran where the recording thread's stack
    does not show them: in an ioctl that returned, in the guest's process.  A
    subscriber reads them with :func:`kernel_functions_at_step`."""
    _step_ran.ran, _step_ran.frame = running, sys._getframe()
    try:
        return timeline.record(actor, kind, text, **fields)
    finally:
        _step_ran.ran, _step_ran.frame = (), None


def record_close(path: str) -> None:
    """Record that the current actor closes its file of ``path`` (called as the close
    starts: the kernel's release follows it)."""
    timeline = current()
    if timeline is not None:
        timeline.record(current_actor(), "close", path, path=path)


def record_eventfd_read(fd: int, value: int | None, err: int = 0) -> None:
    """Record a program's read of an eventfd (``value``, or ``-err`` when it failed)."""
    timeline = current()
    if timeline is None:
        return
    if value is None:
        text = f"read eventfd = -{errno.errorcode.get(err, str(err))}"
    else:
        text = f"read eventfd: counter {value}"
    timeline.record(current_actor(), "irq", text)  # no fd: its number varies


class Recorder:
    """Kernel log, trace events and firmware hooks writing into one timeline.
    :meth:`attach` installs them, :meth:`detach` removes them again."""

    def __init__(self, timeline: Timeline, *, verbose: bool = False) -> None:
        self.timeline = timeline
        self.level = KERN_DEBUG if verbose else KERN_INFO
        self._fws: list[ZpciFirmware] = []
        self._functions: list[PciFunction] = []
        self._attached = False

    # -- hooks --------------------------------------------------------------------------

    def _on_log(self, line: LogLine) -> None:
        if line.level <= self.level:
            self.timeline.record(
                "host",
                "log",
                line.text,
                minor=line.level > KERN_INFO,
                level=line.level,
                function=line.function,
                source=line.source,
            )

    def _on_trace(self, name: str, fields: dict[str, Any]) -> None:
        if name == "eventfd_signal":
            self.timeline.record("host", "irq", "eventfd_signal: an eventfd is signalled", **fields)

    def _on_firmware(self, what: str, f: dict[str, Any]) -> None:
        fid = f.get("fid")
        fid_s = f"0x{fid:x}" if fid is not None else "?"
        if what == "error":
            text = f"error event PEC 0x{f['pec']:x} for fid {fid_s} (fh 0x{f['fh']:08x})"
            self.timeline.record("firmware", "event", text, **f)
        elif what == "availability":
            self.timeline.record(
                "firmware",
                "event",
                f"availability event PEC 0x{f['pec']:x} for fid {fid_s} (fh 0x{f['fh']:08x})",
                **f,
            )
        elif what == "set_pci_fn":
            op = _OC.get(f["oc"], f"oc {f['oc']}")
            res = "ok" if f["rsp"] == CLP_RC_OK else f"response 0x{f['rsp']:x}"
            text = f"CLP Set PCI Function {op} fid {fid_s} (fh 0x{f['fh']:08x}): {res}"
            if f["rsp"] == CLP_RC_OK:
                text += f", new fh 0x{f['new_fh']:08x}"
            self.timeline.record("firmware", "clp", text, **f)
        elif what == "mpcifc":
            op = _MPCIFC.get(f["oc"], f"oc {f['oc']}")
            res = "cc 0" if f["cc"] == 0 else f"cc {f['cc']} status {f['status']}"
            self.timeline.record("firmware", "clp", f"MPCIFC {op} fid {fid_s}: {res}", **f)
        elif what == "report":
            lines = str(f["text"]).splitlines()
            text = f"SCLP error notification from the host for fid {fid_s}: " + ", ".join(lines[:2])
            self.timeline.record("firmware", "clp", text, fid=fid, fh=f["fh"], action=f["action"])

    def _on_reset(self, function: PciFunction, kind: str) -> None:
        fid = self._fid_of(function)
        name = _RESETS.get(kind, kind)
        where = f"fid 0x{fid:x}" if fid is not None else "a function"
        text = f"{where} reset by the hardware: {name}"
        self.timeline.record("firmware", "reset", text, fid=fid, reset=kind)

    def _fid_of(self, function: PciFunction) -> int | None:
        for fw in self._fws:
            for fid, fn in fw.functions.items():
                if fn.function is function:
                    return fid
        return None

    # -- attaching ------------------------------------------------------------------------

    def attach(self, fw: ZpciFirmware | None = None) -> None:
        """Start recording the kernel, and ``fw`` with its functions if given."""
        if not self._attached:
            klog_subscribe(self._on_log)
            trace_subscribe(self._on_trace)
            self._attached = True
        if fw is not None and fw not in self._fws:
            self._fws.append(fw)
            fw.listeners.append(self._on_firmware)
            for fn in fw.functions.values():
                function = fn.function
                if isinstance(function, PciFunction) and function not in self._functions:
                    self._functions.append(function)
                    function.reset_listeners.append(self._on_reset)

    def detach(self) -> None:
        klog_unsubscribe(self._on_log)
        trace_unsubscribe(self._on_trace)
        self._attached = False
        for fw in self._fws:
            if self._on_firmware in fw.listeners:
                fw.listeners.remove(self._on_firmware)
        for function in self._functions:
            if self._on_reset in function.reset_listeners:
                function.reset_listeners.remove(self._on_reset)
        self._fws.clear()
        self._functions.clear()


@contextlib.contextmanager
def recording(
    timeline: Timeline, fw: ZpciFirmware | None = None, *, verbose: bool = False
) -> Iterator[Recorder]:
    """Record the kernel (and ``fw``) into ``timeline`` for the block's length.  The
    programs' ioctls are recorded when ``timeline`` is also the current one
    (:func:`sim.timeline.use`)."""
    rec = Recorder(timeline, verbose=verbose)
    rec.attach(fw)
    try:
        yield rec
    finally:
        rec.detach()
