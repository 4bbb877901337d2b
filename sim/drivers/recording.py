"""A PCI driver for tests and scenarios: it binds to one vendor/device id, answers each
error-recovery callback with a result chosen when it is made, and records every
callback it gets (with the error state the PCI core had set and whether the
function's config space answered).

``RecordingDriver(name, vendor, device, error_detected=..., mmio_enabled=...,
slot_reset=..., resume=True, err_handler=True)``: a callback given as None is left
out of ``pci_error_handlers`` (NULL in C); ``err_handler=False`` registers the
driver without error handlers at all.  :attr:`calls` lists
``(callback, pci_name, argument, error_state, config_accessible)``.
"""

from __future__ import annotations

from typing import Any

from kernel.include.linux.pci import (
    PCI_ERS_RESULT_CAN_RECOVER,
    PCI_ERS_RESULT_RECOVERED,
    pci_channel_state_t,
    pci_dev,
    pci_device_id,
    pci_driver,
    pci_error_handlers,
    pci_ers_result_t,
    pci_name,
)
from kernel.lib.device import device_driver

__all__ = ["RecordingDriver"]


class RecordingDriver:
    def __init__(
        self,
        name: str,
        vendor: int,
        device: int,
        *,
        error_detected: pci_ers_result_t | None = PCI_ERS_RESULT_CAN_RECOVER,
        mmio_enabled: pci_ers_result_t | None = None,
        slot_reset: pci_ers_result_t | None = PCI_ERS_RESULT_RECOVERED,
        resume: bool = True,
        err_handler: bool = True,
    ) -> None:
        self.results = {
            "error_detected": error_detected,
            "mmio_enabled": mmio_enabled,
            "slot_reset": slot_reset,
        }
        self.calls: list[tuple[str, str, Any, pci_channel_state_t, bool]] = []
        self.bound: list[pci_dev] = []
        handlers = pci_error_handlers(
            error_detected=self.error_detected if error_detected is not None else None,
            mmio_enabled=self.mmio_enabled if mmio_enabled is not None else None,
            slot_reset=self.slot_reset if slot_reset is not None else None,
            resume=self.resume if resume else None,
        )
        self.driver = pci_driver(
            name=name,
            id_table=[pci_device_id(vendor=vendor, device=device)],
            probe=self.probe,
            remove=self.remove,
            err_handler=handlers if err_handler else None,
            driver=device_driver(name),
        )

    def _record(self, what: str, pdev: pci_dev, arg: Any) -> None:
        from kernel.pci.access import pci_read_config_dword

        _, val = pci_read_config_dword(pdev, 0)
        self.calls.append((what, pci_name(pdev), arg, pdev.error_state, val != 0xFFFFFFFF))

    def names(self) -> list[str]:
        """The callbacks received, in order."""
        return [c[0] for c in self.calls]

    def probe(self, pdev: pci_dev, id: pci_device_id | None) -> int:
        self.bound.append(pdev)
        return 0

    def remove(self, pdev: pci_dev) -> None:
        if pdev in self.bound:
            self.bound.remove(pdev)

    def error_detected(self, pdev: pci_dev, state: pci_channel_state_t) -> pci_ers_result_t:
        self._record("error_detected", pdev, state)
        res = self.results["error_detected"]
        assert res is not None
        return res

    def mmio_enabled(self, pdev: pci_dev) -> pci_ers_result_t:
        self._record("mmio_enabled", pdev, None)
        res = self.results["mmio_enabled"]
        assert res is not None
        return res

    def slot_reset(self, pdev: pci_dev) -> pci_ers_result_t:
        self._record("slot_reset", pdev, None)
        res = self.results["slot_reset"]
        assert res is not None
        return res

    def resume(self, pdev: pci_dev) -> None:
        self._record("resume", pdev, None)
