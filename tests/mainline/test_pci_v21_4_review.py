"""PCI v21 4/4 ("PCI/MSI: Enable memory decoding before restoring MSI-X messages",
mainline 231c7a57d193): the finding of its automated review
<20260630171255.20BD91F000E9@smtp.kernel.org>, unanswered on the list.

[Medium] __pci_restore_msix_state() reads Command into ``cmd``, writes ``cmd |
PCI_COMMAND_MEMORY``, restores the messages (under msi_descs_lock, which may sleep)
and writes ``cmd`` back: a change another context makes to Command in between is
lost; and when Memory was already on, both writes are needless.

The expectations below follow the C of PCI v21 4/4 (series/mainline 0005).  Result:
the finding holds -- a Command bit set by another context during the restore is
overwritten, and Command is written twice even when Memory decoding was already on.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from kernel.pci.access import pci_read_config_word, pci_write_config_word
from kernel.pci.msi.api import PCI_IRQ_MSIX, pci_alloc_irq_vectors
from sim.host import Host
from sim.pci.function import PciFunction
from uapi.linux.pci_regs import (
    PCI_COMMAND,
    PCI_COMMAND_INTX_DISABLE,
    PCI_COMMAND_MASTER,
    PCI_COMMAND_MEMORY,
)


def _msi() -> ModuleType | None:
    try:
        return importlib.import_module("kernel.pci.msi.msi")
    except ImportError:
        return None


msi = _msi()
pytestmark = pytest.mark.skipif(
    msi is None,
    reason="kernel/pci/msi/msi.py (PCI v21 4/4, mainline 231c7a57d193) is not in this tree yet",
)


def _restore(initial: int, concurrent: int) -> tuple[list[int], int]:
    """__pci_restore_msix_state() on a zPCI function with MSI-X set up as a driver
    does (``pci_alloc_irq_vectors()``) and its Command register holding ``initial``;
    right after the restore's first Command write, another context sets
    ``concurrent`` in Command.  Returns the values written to Command from the start
    of the restore, in order, and Command at the end."""
    assert msi is not None
    fn = PciFunction(0x1AF4, 0x1041, msix=True, msix_table_size=4)
    host = Host.boot({0x10: fn})
    try:
        dev = host.pdev(0x10)
        pci_write_config_word(dev, PCI_COMMAND, PCI_COMMAND_MEMORY)
        assert pci_alloc_irq_vectors(dev, 1, 4, PCI_IRQ_MSIX) == 4
        pci_write_config_word(dev, PCI_COMMAND, initial)
        write = fn.config_write
        command_writes: list[int] = []

        def spy(where: int, size: int, value: int) -> None:
            write(where, size, value)
            if where == PCI_COMMAND:
                command_writes.append(value)
                if len(command_writes) == 1 and concurrent:
                    # e.g. pci_set_master() from another context
                    write(PCI_COMMAND, 2, fn.config_read(PCI_COMMAND, 2) | concurrent)

        fn.config_write = spy  # type: ignore[method-assign]
        msi.__pci_restore_msix_state(dev)
        fn.config_write = write  # type: ignore[method-assign]
        return command_writes, pci_read_config_word(dev, PCI_COMMAND)[1]
    finally:
        host.shutdown()


def test_restore_writes_back_the_command_value_read_before_the_messages() -> None:
    """Memory decoding off in the restored state (as after vfio's pre-reset Command
    write): Memory is turned on around the message writes and the value read before
    is written back -- Bus Master set meanwhile by another context is lost."""
    writes, final = _restore(PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MASTER)

    assert writes == [PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_MEMORY, PCI_COMMAND_INTX_DISABLE]
    assert final == PCI_COMMAND_INTX_DISABLE
    assert not final & PCI_COMMAND_MASTER


def test_restore_writes_command_twice_even_when_memory_is_already_on() -> None:
    """The finding's second point: with Memory already on, both writes still happen."""
    # INTx already off: pci_intx() writes nothing
    on = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE
    writes, final = _restore(on, 0)

    assert writes == [on, on]
    assert final == on
