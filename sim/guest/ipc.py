"""The wire between the VMM (in the host's process) and the guest (its own process,
running its own copy of the ported kernel).

One stream socket, both directions, each message a pickled tuple
(:class:`multiprocessing.connection.Connection`).  The first item names the message:

VMM -> guest
    ``("cmd", seq, op, args)``  a command for the guest's main thread (``boot``,
    ``crw``, ``status``, ``shutdown``); answered with ``done``.
    ``("rsp", seq, result)``    the answer to the guest's request ``seq``.

guest -> VMM
    ``("ready",)``              the guest's interpreter has imported the kernel.
    ``("log", level, text, function, source, running)``  a line of the guest kernel's
                                log, as printed, with the C function and ``file:line``
                                that printed it (and, while the execution index is
                                recorded, the kernel functions it was printed in).
    ``("req", seq, op, args)``  an instruction the guest kernel executed, for the
    VMM (the guest's machine) to answer: ``clp``, ``mpcifc``, ``pcilg``, ``pcistg``,
    ``sclp_pci_cfg``, ``sclp_errnotify``, ``chsc_sei``.
    ``("lockdep", text)``       a lockdep report of the guest kernel (after its log lines).
    ``("warn", text)``          a WARN of the guest kernel: ``file:line (function): message``.
    ``("done", seq, result)``   a command finished.
    ``("crash", text)``         the guest's main thread died with this traceback.

Instructions carry plain values: a CLP block travels as its 4096 bytes and comes back
with the response filled in; a function information block (MPCIFC) as its bytes.

Every message the guest sends goes through one lock, so the lines a guest thread
prints before an instruction reach the VMM before that instruction.
"""

from __future__ import annotations

import threading
from multiprocessing.connection import Connection
from typing import Any, Final

__all__ = ["COMMANDS", "REQUESTS", "Channel"]

COMMANDS: Final = ("boot", "crw", "status", "shutdown")
REQUESTS: Final = ("clp", "mpcifc", "pcilg", "pcistg", "sclp_pci_cfg", "sclp_errnotify", "chsc_sei")


class Channel:
    """A :class:`Connection` whose sends are serialised (several threads send)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()

    def send(self, *msg: Any) -> None:
        with self._send_lock:
            self.conn.send(msg)

    def poll(self, timeout: float) -> bool:
        return self.conn.poll(timeout)

    def recv(self) -> tuple[Any, ...]:
        msg = self.conn.recv()
        if not isinstance(msg, tuple) or not msg or not isinstance(msg[0], str):
            raise ValueError(f"malformed message {msg!r}")
        return msg

    def close(self) -> None:
        self.conn.close()
