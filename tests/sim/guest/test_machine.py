"""sim/guest/machine.py and sim/guest/ipc.py: the guest's instructions travel to the
VMM and back, in order, without a guest process."""

from __future__ import annotations

import socket
import threading
from multiprocessing.connection import Connection
from typing import Any

from kernel.s390.include.asm.clp import CLP_BLK_SIZE
from kernel.s390.include.asm.pci_insn import zpci_fib
from sim.guest.ipc import Channel
from sim.guest.machine import GuestMachine, ResponseSlots


def pair() -> tuple[Channel, Channel]:
    a, b = socket.socketpair()
    return Channel(Connection(a.detach())), Channel(Connection(b.detach()))


class FakeVmm:
    """Answers every request on its end; keeps what it saw, in order."""

    def __init__(self, chan: Channel, answers: dict[str, Any]) -> None:
        self.chan = chan
        self.answers = answers
        self.seen: list[tuple[Any, ...]] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                msg = self.chan.recv()
            except (EOFError, OSError):
                return
            self.seen.append(msg)
            if msg[0] == "req":
                op, args = msg[2], msg[3]
                answer = self.answers[op]
                self.chan.send("rsp", msg[1], answer(*args) if callable(answer) else answer)


def guest_reader(chan: Channel, slots: ResponseSlots) -> None:
    while True:
        try:
            msg = chan.recv()
        except (EOFError, OSError):
            return
        if msg[0] == "rsp":
            slots.put(msg[1], msg[2])


def machine(answers: dict[str, Any]) -> tuple[GuestMachine, FakeVmm]:
    guest_end, vmm_end = pair()
    slots = ResponseSlots()
    threading.Thread(target=guest_reader, args=(guest_end, slots), daemon=True).start()
    return GuestMachine(guest_end, slots, frozenset({69, 71})), FakeVmm(vmm_end, answers)


def test_clp_block_comes_back_with_the_vmm_response() -> None:
    def clp(block: bytes, lps: int) -> tuple[int, bytes]:
        assert len(block) == CLP_BLK_SIZE and lps == 2
        return 0, block[:8] + b"\x01" * (CLP_BLK_SIZE - 8)

    m, _ = machine({"clp": clp})
    block = bytearray(CLP_BLK_SIZE)
    block[0] = 0x20
    assert m.clp(block, 2) == 0
    assert block[0] == 0x20 and block[8:] == b"\x01" * (CLP_BLK_SIZE - 8)


def test_load_store_mpcifc_sclp_and_sei_return_the_vmm_values() -> None:
    m, vmm = machine(
        {
            "pcilg": (0, 0x4D14_08A8, 0),
            "pcistg": (1, 12),
            "mpcifc": (0, 0),
            "sclp_pci_cfg": 0x20,
            "sclp_errnotify": 0x20,
            "chsc_sei": (2, 1, b"\x00" * 32, False),
        }
    )
    assert m.pcilg(0x80000001_000F0004, 0) == (0, 0x4D14_08A8, 0)
    assert m.pcistg(0xFFFF, 0x80000001_000F0002, 4) == (1, 12)
    assert m.mpcifc(0x80000001_00000004, zpci_fib()) == (0, 0)
    assert m.sclp_pci_cfg(0x001A0001, 0x10) == 0x20
    assert m.sclp_errnotify(1, 2, 0x80000001, 0x10, b"report") == 0x20
    assert m.chsc_sei() == (2, 1, b"\x00" * 32, False)
    assert [msg[2] for msg in vmm.seen] == [
        "pcilg",
        "pcistg",
        "mpcifc",
        "sclp_pci_cfg",
        "sclp_errnotify",
        "chsc_sei",
    ]
    assert vmm.seen[0][3] == (0x80000001_000F0004, 0)


def test_facilities_are_answered_locally() -> None:
    m, vmm = machine({})
    assert m.test_facility(69) and m.test_facility(71) and not m.test_facility(2)
    assert vmm.seen == []


def test_a_log_line_sent_before_a_request_arrives_before_it() -> None:
    m, vmm = machine({"chsc_sei": None})
    m.chan.send("log", 6, "zpci: first")
    assert m.chsc_sei() is None
    assert vmm.seen[0] == ("log", 6, "zpci: first")
    assert vmm.seen[1][0] == "req"
