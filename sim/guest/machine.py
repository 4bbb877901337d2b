"""The guest's machine: every instruction the guest kernel executes on its zPCI
functions goes over the wire to the VMM, which answers it the way QEMU's s390x PCI
code intercepts it (:mod:`sim.vmm.zpci`).

:class:`GuestMachine` implements :class:`kernel.s390.machine.ZpciMachine` inside the
guest's process.  CLP, MPCIFC, PCI load/store, SCLP and CHSC Store Event Information
are requests to the VMM; a request blocks the calling guest thread until the VMM
answers (only one request is outstanding at a time, as one virtual CPU would have).
The facility bits are the VMM's answer at boot and are kept locally.

The VMM raises a channel report (it has an event for the guest) with the ``crw``
command; the guest's main thread then calls
:func:`kernel.s390.cio.chsc.crw_handle_channel_report`, and the guest kernel's
``kmcheck`` thread fetches the event with ``chsc_sei`` like it does on the host.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from kernel.s390.include.asm.pci_insn import zpci_fib
from sim.guest.ipc import Channel

__all__ = ["GuestMachine", "ResponseSlots"]

#: How long a guest instruction waits for the VMM before the guest gives up.
REQUEST_TIMEOUT = 10.0


class ResponseSlots:
    """Answers to outstanding requests, filled by the guest's reader thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._answers: dict[int, Any] = {}

    def put(self, seq: int, result: Any) -> None:
        with self._cond:
            self._answers[seq] = result
            self._cond.notify_all()

    def take(self, seq: int, timeout: float) -> tuple[bool, Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: seq in self._answers, timeout):
                return False, None
            return True, self._answers.pop(seq)


class GuestMachine:
    """The guest's view of the machine: the VMM (implements ZpciMachine)."""

    def __init__(self, chan: Channel, slots: ResponseSlots, facilities: frozenset[int]) -> None:
        self.chan = chan
        self.slots = slots
        self.facilities = facilities
        self._call_lock = threading.Lock()
        self._seq = 0

    def _request(self, op: str, *args: Any) -> Any:
        with self._call_lock:
            self._seq += 1
            seq = self._seq
            self.chan.send("req", seq, op, args)
            ok, result = self.slots.take(seq, REQUEST_TIMEOUT)
        if not ok:
            # the VMM stopped answering: a CPU whose intercept never returns; the
            # guest cannot go on, and must not outlive its VMM
            os._exit(3)
        return result

    def test_facility(self, nr: int) -> bool:
        return nr in self.facilities

    def clp(self, block: bytearray, lps: int) -> int:
        cc, out = self._request("clp", bytes(block), lps)
        block[:] = out
        return int(cc)

    def mpcifc(self, req: int, fib: zpci_fib) -> tuple[int, int]:
        cc, status = self._request("mpcifc", req, bytes(fib))
        return int(cc), int(status)

    def pcilg(self, req: int, offset: int) -> tuple[int, int, int]:
        cc, data, status = self._request("pcilg", req, offset)
        return int(cc), int(data), int(status)

    def pcistg(self, data: int, req: int, offset: int) -> tuple[int, int]:
        cc, status = self._request("pcistg", data, req, offset)
        return int(cc), int(status)

    def sclp_pci_cfg(self, cmdw: int, fid: int) -> int:
        return int(self._request("sclp_pci_cfg", cmdw, fid))

    def sclp_errnotify(self, action: int, atype: int, fh: int, fid: int, data: bytes) -> int:
        return int(self._request("sclp_errnotify", action, atype, fh, fid, bytes(data)))

    def chsc_sei(self) -> tuple[int, int, bytes, bool] | None:
        sei = self._request("chsc_sei")
        if sei is None:
            return None
        nt, cc, ccdf, more = sei
        return int(nt), int(cc), bytes(ccdf), bool(more)
