"""The guest: a second copy of the ported kernel, in its own process, whose machine is
the VMM.

Started by :class:`sim.guest.process.GuestProcess` as ``python -m sim.guest --fd N``
(``N`` is its end of the socket to the VMM).  It imports the kernel image at once, says
``ready``, and then does what the VMM commands:

``boot (facilities, config, drivers)``
    install :class:`sim.guest.machine.GuestMachine`, forward every kernel log line,
    lockdep report and WARN to the VMM, install the faults a test asked for
    (:data:`sim.faults.ENV` in the environment; none otherwise), ``start_kernel(**config)``,
    and register the NVMe-like driver (:class:`sim.drivers.nvme_like.NvmeLikeDriver`,
    NEED_RESET on a frozen function) for each ``(vendor, device)`` in ``drivers``.
    Result: the status.
``crw ()``
    the VMM has an event for the guest: raise a channel report and wait until the
    guest kernel has handled every pending event.  Result: True, or False on timeout.
``status ()``
    the guest's view of its functions (fid, fh, zPCI state, enabled, pci name,
    error state, bound driver, the controller configuration register as the guest
    reads it) and the callbacks its driver got.
``shutdown ()``
    answer, then exit.

Any exception on the main thread is sent to the VMM as ``crash`` with its traceback,
and the guest exits with status 1.  When the VMM goes away (end of file on the
socket) the guest exits at once: it never outlives its VMM.
"""

from __future__ import annotations

import importlib
import os
import queue
import socket
import sys
import threading
import traceback
from multiprocessing.connection import Connection
from typing import Any

from kernel.lib import callsite
from sim.guest.ipc import Channel
from sim.guest.machine import ResponseSlots

__all__ = ["Guest", "main"]

#: How long the guest waits for its kernel to handle an event.
EVENT_TIMEOUT = 10.0


class Guest:
    def __init__(self, chan: Channel) -> None:
        self.chan = chan
        self.slots = ResponseSlots()
        self.commands: queue.Queue[tuple[int, str, tuple[Any, ...]]] = queue.Queue()
        self.drivers: list[Any] = []

    # -- the reader thread ----------------------------------------------------------

    def reader(self) -> None:
        while True:
            try:
                msg = self.chan.recv()
            except (EOFError, OSError):
                os._exit(0)  # the VMM is gone: so is its guest
            if msg[0] == "rsp":
                self.slots.put(msg[1], msg[2])
            elif msg[0] == "cmd":
                self.commands.put((msg[1], msg[2], tuple(msg[3])))

    # -- commands -------------------------------------------------------------------

    def forward_log(self, line: Any) -> None:
        # while the suite records the execution index, the kernel functions the line
        # was printed in too (tools/index.py)
        running = callsite.stack(sys._getframe(1)) if os.environ.get("ZPCISIM_INDEX_GUEST_DIR") else None
        self.chan.send("log", line.level, line.text, line.function, line.source, running)

    def forward_lockdep_report(self, text: str) -> None:
        self.chan.send("lockdep", text)

    def forward_warning(self, text: str) -> None:
        self.chan.send("warn", text)

    def boot(self, facilities: list[int], config: dict[str, bool], drivers: list[tuple[int, int]]) -> Any:
        from kernel.init.main import start_kernel
        from kernel.lib.bug import warn_subscribe
        from kernel.lib.lockdep import lockdep_report_subscribe
        from kernel.lib.printk import klog_subscribe
        from kernel.pci.pci_driver import pci_register_driver
        from kernel.s390.machine import machine_install
        from sim import faults
        from sim.drivers.nvme_like import NvmeLikeDriver
        from sim.guest.machine import GuestMachine

        klog_subscribe(self.forward_log)
        lockdep_report_subscribe(self.forward_lockdep_report)
        warn_subscribe(self.forward_warning)
        faults.install_from_env()
        machine_install(GuestMachine(self.chan, self.slots, frozenset(facilities)))
        start_kernel(**config)
        for vendor, device in drivers:
            drv = NvmeLikeDriver(vendor, device)
            rc = pci_register_driver(drv.driver)
            if rc:
                raise RuntimeError(f"pci_register_driver: {rc}")
            self.drivers.append(drv)
        return self.status()

    def crw(self) -> bool:
        from kernel.s390.cio.chsc import crw_handle_channel_report, crw_wait_idle

        crw_handle_channel_report()
        return crw_wait_idle(EVENT_TIMEOUT)

    def status(self) -> dict[str, Any]:
        from kernel.include.linux.pci import pci_name
        from kernel.lib.spinlock import spin_lock, spin_unlock
        from kernel.s390.include.asm.pci import zdev_enabled
        from kernel.s390.pci.pci import zpci_list, zpci_list_lock

        functions = []
        spin_lock(zpci_list_lock)
        zdevs = list(zpci_list)
        spin_unlock(zpci_list_lock)
        for zdev in zdevs:
            entry: dict[str, Any] = {
                "fid": zdev.fid,
                "fh": zdev.fh,
                "state": int(zdev.state),
                "enabled": zdev_enabled(zdev),
            }
            bus = zdev.zbus.bus if zdev.zbus is not None else None
            if bus is not None:
                for pdev in bus.devices:
                    if pdev.devfn == zdev.devfn:
                        entry["pci_name"] = pci_name(pdev)
                        entry["error_state"] = int(pdev.error_state)
                        drv = pdev.dev.driver
                        entry["driver"] = drv.name if drv is not None else None
                        for d in self.drivers:
                            if pdev in d.bound:
                                entry["controller_config"] = d.controller_config(pdev)
            functions.append(entry)
        calls = [c for d in self.drivers for c in d.calls]
        return {"functions": functions, "driver_calls": calls}

    def run(self) -> None:
        while True:
            seq, op, args = self.commands.get()
            if op == "boot":
                result: Any = self.boot(*args)
            elif op == "crw":
                result = self.crw()
            elif op == "status":
                result = self.status()
            elif op == "shutdown":
                self.chan.send("done", seq, True)
                return
            else:
                raise ValueError(f"unknown command {op!r}")
            self.chan.send("done", seq, result)


def preload() -> None:
    """Import the kernel image now, while the VMM sets up; boot is then quick."""
    from kernel.init.main import KERNEL_MODULES

    for name in KERNEL_MODULES:
        importlib.import_module(name)
    importlib.import_module("sim.drivers.nvme_like")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--fd":
        print("usage: python -m sim.guest --fd N", file=sys.stderr)
        return 2
    fd = int(args[1])
    # a socket from socket.socketpair(): wrap it the way multiprocessing does
    sock = socket.socket(fileno=fd)
    chan = Channel(Connection(sock.detach()))
    guest = Guest(chan)
    cov = index_coverage()
    threading.Thread(target=guest.reader, name="guest-reader", daemon=True).start()
    try:
        preload()
        chan.send("ready")
        guest.run()
    except BaseException:
        chan.send("crash", traceback.format_exc())
        return 1
    finally:
        if cov is not None:
            cov.stop()
            cov.save()
    return 0


def index_coverage() -> Any:
    """While the test suite records the execution index (tools/index.py), record which
    kernel lines this guest runs, under the context the VMM was in when it started
    us, into a data file of the index's directory.  None otherwise."""
    out = os.environ.get("ZPCISIM_INDEX_GUEST_DIR")
    if not out:
        return None
    import coverage

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cov = coverage.Coverage(
        data_file=os.path.join(out, f"guest.{os.getpid()}"),
        source=[os.path.join(root, "kernel"), os.path.join(root, "uapi")],
        config_file=False,
    )
    cov.start()
    cov.switch_context(os.environ.get("ZPCISIM_INDEX_CONTEXT", ""))
    return cov
