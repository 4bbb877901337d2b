"""Host drivers for the host-recovery scenarios: an NVMe-like storage driver with the
full set of PCI error handlers, and a driver without any.

Not kernel code and not a port of drivers/nvme: a small driver that behaves the way
a real PCI driver does towards the PCI core's error recovery
(Documentation/PCI/pci-error-recovery.rst) and says so in the kernel log with
``dev_info``/``dev_warn`` lines of its own wording.

:class:`NvmeLikeDriver` (``"nvme-like"``): at probe it enables the function's memory
space and bus mastering, programs its "controller configuration" (the function
model's first scratch register, ``SCRATCH_OFFSET``) and saves the config state.
Its error handlers:

* ``error_detected``: ``pci_channel_io_normal`` -> CAN_RECOVER;
  ``pci_channel_io_frozen`` -> the result chosen at construction (NEED_RESET by
  default, or CAN_RECOVER to let the platform unblock the function first);
  ``pci_channel_io_perm_failure`` -> DISCONNECT;
* ``mmio_enabled``: the controller can be reached again -> RECOVERED;
* ``slot_reset``: restores the saved config state and re-programs the controller
  -> RECOVERED;
* ``resume``: I/O goes on.

:class:`PlainDriver` (``"plain-nic"``) binds the same way and has no error handlers
(``err_handler`` NULL): the platform can only give up on it.

Both record the callbacks they get in :attr:`calls` (``(callback, pci_name, state)``).
"""

from __future__ import annotations

from typing import Final

from kernel.include.linux.pci import (
    PCI_ERS_RESULT_CAN_RECOVER,
    PCI_ERS_RESULT_DISCONNECT,
    PCI_ERS_RESULT_NEED_RESET,
    PCI_ERS_RESULT_RECOVERED,
    pci_channel_io_frozen,
    pci_channel_io_normal,
    pci_channel_state_t,
    pci_dev,
    pci_device_id,
    pci_driver,
    pci_error_handlers,
    pci_ers_result_t,
    pci_name,
)
from kernel.lib.printk import dev_info, dev_warn
from kernel.pci.access import pci_read_config_dword, pci_write_config_dword
from kernel.pci.pci import (
    pci_disable_device,
    pci_enable_device_mem,
    pci_restore_state,
    pci_save_state,
    pci_set_master,
)
from sim.pci.function import SCRATCH_OFFSET

__all__ = ["CONTROLLER_CONFIG", "NvmeLikeDriver", "PlainDriver"]

#: The value the driver programs into the controller configuration register.
CONTROLLER_CONFIG: Final = 0x00460001

_STATE_NAMES: Final = {1: "normal", 2: "frozen", 3: "perm_failure"}


def state_name(state: pci_channel_state_t) -> str:
    return _STATE_NAMES.get(int(state), str(int(state)))


class NvmeLikeDriver:
    """An NVMe-like PCI driver with full error handlers (module docstring)."""

    def __init__(
        self,
        vendor: int,
        device: int,
        *,
        frozen_result: pci_ers_result_t = PCI_ERS_RESULT_NEED_RESET,
        name: str = "nvme-like",
    ) -> None:
        self.frozen_result = frozen_result
        self.calls: list[tuple[str, str, str | None]] = []
        self.bound: list[pci_dev] = []
        self.driver = pci_driver(
            name=name,
            id_table=[pci_device_id(vendor=vendor, device=device)],
            probe=self.probe,
            remove=self.remove,
            err_handler=pci_error_handlers(
                error_detected=self.error_detected,
                mmio_enabled=self.mmio_enabled,
                slot_reset=self.slot_reset,
                resume=self.resume,
            ),
        )

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def controller_config(self, pdev: pci_dev) -> int:
        """What the controller configuration register reads now."""
        _, val = pci_read_config_dword(pdev, SCRATCH_OFFSET)
        return val

    def enable_controller(self, pdev: pci_dev) -> None:
        pci_write_config_dword(pdev, SCRATCH_OFFSET, CONTROLLER_CONFIG)

    def probe(self, pdev: pci_dev, id: pci_device_id | None) -> int:
        rc = pci_enable_device_mem(pdev)
        if rc:
            return rc
        pci_set_master(pdev)
        self.enable_controller(pdev)
        pci_save_state(pdev)
        self.bound.append(pdev)
        dev_info(pdev.dev, "controller enabled (CC 0x%08x)\n", CONTROLLER_CONFIG)
        return 0

    def remove(self, pdev: pci_dev) -> None:
        if pdev in self.bound:
            self.bound.remove(pdev)
            pci_disable_device(pdev)

    def error_detected(self, pdev: pci_dev, state: pci_channel_state_t) -> pci_ers_result_t:
        self.calls.append(("error_detected", pci_name(pdev), state_name(state)))
        if state == pci_channel_io_normal:
            return PCI_ERS_RESULT_CAN_RECOVER
        if state == pci_channel_io_frozen:
            if self.frozen_result == PCI_ERS_RESULT_NEED_RESET:
                dev_warn(pdev.dev, "frozen state error detected, controller needs a reset\n")
            else:
                dev_warn(pdev.dev, "frozen state error detected, trying to recover without a reset\n")
            return self.frozen_result
        dev_warn(pdev.dev, "permanent failure detected, giving up on the controller\n")
        return PCI_ERS_RESULT_DISCONNECT

    def mmio_enabled(self, pdev: pci_dev) -> pci_ers_result_t:
        self.calls.append(("mmio_enabled", pci_name(pdev), None))
        dev_info(pdev.dev, "MMIO enabled, controller reachable (CC 0x%08x)\n", self.controller_config(pdev))
        return PCI_ERS_RESULT_RECOVERED

    def slot_reset(self, pdev: pci_dev) -> pci_ers_result_t:
        self.calls.append(("slot_reset", pci_name(pdev), None))
        dev_info(pdev.dev, "restarting the controller after slot reset\n")
        pci_restore_state(pdev)
        self.enable_controller(pdev)
        return PCI_ERS_RESULT_RECOVERED

    def resume(self, pdev: pci_dev) -> None:
        self.calls.append(("resume", pci_name(pdev), None))
        dev_info(pdev.dev, "resuming I/O\n")


class PlainDriver:
    """A PCI driver without error handlers (module docstring)."""

    def __init__(self, vendor: int, device: int, *, name: str = "plain-nic") -> None:
        self.bound: list[pci_dev] = []
        self.driver = pci_driver(
            name=name,
            id_table=[pci_device_id(vendor=vendor, device=device)],
            probe=self.probe,
            remove=self.remove,
            err_handler=None,
        )

    def probe(self, pdev: pci_dev, id: pci_device_id | None) -> int:
        rc = pci_enable_device_mem(pdev)
        if rc:
            return rc
        self.bound.append(pdev)
        dev_info(pdev.dev, "probed\n")
        return 0

    def remove(self, pdev: pci_dev) -> None:
        if pdev in self.bound:
            self.bound.remove(pdev)
            pci_disable_device(pdev)
