"""The guest's process, seen from the VMM: start it, command it, answer its
instructions, and make sure it never outlives the run.

``GuestProcess(handler, on_log)`` starts ``python -m sim.guest`` with one end of a
socket pair (:mod:`sim.guest.ipc` is the wire).  :meth:`GuestProcess.call` sends a
command and, until the guest says it is done, answers each instruction the guest's
kernel executes with ``handler(op, args)`` (the VMM's intercept) and passes each guest
kernel log line to ``on_log(level, text)`` -- in the order the guest sent them, on the
calling thread, so a run is deterministic.

The guest kernel's lockdep reports and WARNs come over the wire too (``lockdep`` and
``warn`` messages, right after the log lines that print them): each is kept in
:attr:`GuestProcess.reports` and passed to ``on_report(kind, text)``, and the
command during which the guest reported raises :class:`GuestReported` naming the
first report once the guest is done with it -- the VMM ends the run there, as a
failure, instead of carrying on over a kernel that splatted.

Every wait has a deadline.  When the guest dies, crashes or stops answering,
:class:`GuestError` says so (exit status, the traceback it sent, the last lines it
wrote to stderr) and the process is killed; leaving the ``with`` block always ends
the process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sim.guest.ipc import Channel
from sim.timeline import KernelReport

__all__ = ["GuestError", "GuestProcess", "GuestReported"]

#: Default deadline of one command (boot, an event) in seconds.
CALL_TIMEOUT = 20.0


class GuestError(RuntimeError):
    """The guest crashed, exited, or did not answer in time."""


class GuestReported(GuestError):
    """The guest kernel made a lockdep report or WARNed during a command."""

    def __init__(self, op: str, reports: list[KernelReport]) -> None:
        more = f" (and {len(reports) - 1} more)" if len(reports) > 1 else ""
        super().__init__(f"guest: during '{op}', {reports[0].summary()}{more}")
        self.reports = reports


Handler = Callable[[str, tuple[Any, ...]], Any]
#: ``on_log(level, text, function, source, running)``: a guest kernel log line, with
#: where it was printed (function and ``file:line``, or None) and the kernel functions
#: it was printed in (``(file, function)`` pairs, while the execution index is
#: recorded; None otherwise).
LogSink = Callable[[int, str, str | None, str | None, list[tuple[str, str]] | None], None]
ReportSink = Callable[[str, str], None]


class GuestProcess:
    def __init__(
        self,
        handler: Handler,
        on_log: LogSink,
        *,
        timeout: float = CALL_TIMEOUT,
        on_report: ReportSink | None = None,
    ) -> None:
        self.handler = handler
        self.on_log = on_log
        self.on_report = on_report
        self.timeout = timeout
        #: every lockdep report and WARN the guest kernel sent, in order
        self.reports: list[KernelReport] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.chan: Channel | None = None
        self._stderr: IO[bytes] | None = None
        self._seq = 0
        self.ready = False

    # -- life -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the guest's interpreter (it imports the kernel while the caller goes
        on); :meth:`wait_ready` waits for it."""
        parent, child = socket.socketpair()
        root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sim.guest", "--fd", str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env=env,
                cwd=root,
            )
        finally:
            child.close()
        self.chan = Channel(Connection(parent.detach()))

    def wait_ready(self) -> None:
        self._pump(None, self.timeout, "start")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Ask the guest to shut down; kill it if it does not within a second."""
        if self.alive() and self.chan is not None:
            try:
                self.call("shutdown", timeout=2.0)
            except GuestError:
                pass
        self.kill(grace=1.0)

    def kill(self, grace: float = 0.0) -> None:
        proc = self.proc
        if proc is not None:
            if grace:
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        if self.chan is not None:
            self.chan.close()
            self.chan = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> GuestProcess:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            self.stop()
        else:
            self.kill()

    # -- talking ------------------------------------------------------------------------

    def call(self, op: str, *args: Any, timeout: float | None = None) -> Any:
        """Send command ``op``; serve the guest until it is done; its result."""
        if self.chan is None:
            raise GuestError("the guest is not running")
        if not self.ready:
            self.wait_ready()
        self._seq += 1
        seq = self._seq
        try:
            self.chan.send("cmd", seq, op, args)
        except OSError as e:
            self._fail(f"the guest is gone ({e})", op)
        before = len(self.reports)
        result = self._pump(seq, timeout if timeout is not None else self.timeout, op)
        if len(self.reports) > before:
            raise GuestReported(op, self.reports[before:])
        return result

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").splitlines()
        return "\n".join(lines[-15:])

    def _fail(self, what: str, op: str, detail: str = "") -> None:
        """Kill the guest and raise GuestError: one line saying what happened, then
        the guest's traceback (``detail``) or the end of its stderr."""
        status = ""
        if self.proc is not None:
            try:
                self.proc.wait(timeout=1.0 if detail else 0.05)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            status = f" (exit status {self.proc.returncode})"
        tail = detail.rstrip() or self._stderr_tail()
        self.kill()
        msg = f"guest: {what} during '{op}'{status}"
        if detail:
            msg += ": " + detail.rstrip().splitlines()[-1]
        if tail:
            msg += "\n" + tail
        raise GuestError(msg)

    def _pump(self, seq: int | None, timeout: float, op: str) -> Any:
        chan = self.chan
        assert chan is not None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._fail(f"no answer within the deadline ({timeout:g} s)", op)
            try:
                if not chan.poll(remaining):
                    continue
                msg = chan.recv()
            except (EOFError, OSError):
                self._fail("the guest process ended", op)
            kind = msg[0]
            if kind == "log":
                self.on_log(int(msg[1]), str(msg[2]), *msg[3:6])
            elif kind == "req":
                try:
                    result = self.handler(str(msg[2]), tuple(msg[3]))
                except BaseException:
                    self.kill()
                    raise
                chan.send("rsp", msg[1], result)
            elif kind in ("lockdep", "warn"):
                rep = KernelReport("guest", kind, str(msg[1]))
                self.reports.append(rep)
                if self.on_report is not None:
                    self.on_report(rep.kind, rep.text)
            elif kind == "ready":
                self.ready = True
                if seq is None:
                    return None
            elif kind == "done" and msg[1] == seq:
                return msg[2]
            elif kind == "crash":
                self._fail("crashed", op, str(msg[1]))
            else:
                self._fail(f"unexpected message {msg!r}", op)
