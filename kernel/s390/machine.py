"""The boundary between the s390 kernel code and the machine it runs on.

Where the C executes an instruction that the machine (firmware, "millicode") answers,
the Python calls the installed :class:`ZpciMachine`:

* ``clp(block, lps)`` -- CALL LOGICAL PROCESSOR on a request/response block
  (``clp_req()`` in arch/s390/pci/pci_clp.c); the machine writes the response part of
  ``block`` and returns the condition code;
* ``mpcifc(req, fib)`` -- MODIFY PCI FUNCTION CONTROLS (``__mpcifc()``), returning
  (cc, status);
* ``pcilg(req, offset)`` / ``pcistg(data, req, offset)`` -- PCI LOAD / PCI STORE
  (``__pcilg()``/``__pcistg()``), returning (cc, data, status) / (cc, status); ``data``
  is the 64-bit register content, little-endian PCI data as the hardware delivers it;
* ``sclp_pci_cfg(cmdw, fid)`` -- an SCLP configure/deconfigure PCI request
  (``sclp_sync_request()`` in drivers/s390/char/sclp_pci.c), returning the SCCB
  response code;
* ``sclp_errnotify(action, atype, fh, fid, data)`` -- the SCLP Write Event Data request
  with an error-notification event buffer (``sclp_pci_report()``), returning the SCCB
  response code;
* ``chsc_sei()`` -- CHSC Store Event Information: the next pending event as
  (nt, cc, ccdf bytes, more), or None when none is pending;
* ``test_facility(nr)`` -- the facility bits (STFLE).

The machine reports events the other way: it calls
:func:`kernel.s390.cio.chsc.crw_handle_channel_report` (the machine-check entry for a
channel report word), which wakes the kernel's ``kmcheck`` thread.

Nothing in ``kernel/`` imports ``sim/``: the simulator installs its firmware with
:func:`machine_install` before booting.  With no machine installed every instruction
takes the program-exception path the C handles with an exception-table entry (the C
then sees cc 3), and ``pci_base_init()`` behaves as with ``pci=off``: this process has
no zPCI machine at all.  The installed machine belongs to the hardware, not to the
kernel: booting does not remove it.
"""

from __future__ import annotations

from typing import Protocol

from kernel.s390.include.asm.pci_insn import zpci_fib

__all__ = ["ZpciMachine", "machine", "machine_install", "machine_remove"]


class ZpciMachine(Protocol):
    def test_facility(self, nr: int) -> bool: ...

    def clp(self, block: bytearray, lps: int) -> int: ...

    def mpcifc(self, req: int, fib: zpci_fib) -> tuple[int, int]: ...

    def pcilg(self, req: int, offset: int) -> tuple[int, int, int]: ...

    def pcistg(self, data: int, req: int, offset: int) -> tuple[int, int]: ...

    def sclp_pci_cfg(self, cmdw: int, fid: int) -> int: ...

    def sclp_errnotify(self, action: int, atype: int, fh: int, fid: int, data: bytes) -> int: ...

    def chsc_sei(self) -> tuple[int, int, bytes, bool] | None: ...


_machine: list[ZpciMachine] = []


def machine_install(m: ZpciMachine) -> None:
    """Put the kernel on machine ``m`` (replacing any other)."""
    _machine[:] = [m]


def machine_remove() -> None:
    _machine.clear()


def machine() -> ZpciMachine | None:
    return _machine[0] if _machine else None
