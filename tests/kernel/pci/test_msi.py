"""kernel/pci/msi/ (drivers/pci/msi/msi.c, api.c): MSI-X set-up writes the messages
into the function's table through BAR memory, and ``pci_restore_state()`` writes
them back after a reset -- or, before "PCI/MSI: Enable memory decoding before
restoring MSI-X messages" (PCI v21 4/4, Message-ID
<20260630164807.643-5-alifm@linux.ibm.com>, mainline 231c7a57d193), loses them when
the saved Command register has Memory Space decoding off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kernel.include.linux.msi import MSI_DESC_ALL, msi_descs_lock, msi_for_each_desc
from kernel.include.linux.pci import pci_dev
from kernel.lib.cleanup import guard
from kernel.pci.access import pci_read_config_word, pci_write_config_word
from kernel.pci.msi.api import PCI_IRQ_MSIX, pci_alloc_irq_vectors, pci_msix_vec_count, pci_restore_msi_state
from kernel.pci.msi.msi import MSI_MODEL_ADDRESS
from kernel.pci.pci import pci_reset_function, pci_restore_state, pci_save_state
from sim.host import Host
from sim.pci.function import MSIX_CAP_OFFSET, PciFunction
from uapi.linux.pci_regs import (
    PCI_COMMAND,
    PCI_COMMAND_MEMORY,
    PCI_MSIX_ENTRY_CTRL_MASKBIT,
    PCI_MSIX_FLAGS,
    PCI_MSIX_FLAGS_ENABLE,
    PCI_MSIX_FLAGS_MASKALL,
)

FID = 0x10
NVEC = 4
MASKED = PCI_MSIX_ENTRY_CTRL_MASKBIT
LOST = [(0, 0, 0, MASKED)] * NVEC


@pytest.fixture
def msix() -> Iterator[tuple[PciFunction, pci_dev]]:
    """A zPCI function with a 4-entry MSI-X table, Memory Space on, and MSI-X set up
    (``pci_alloc_irq_vectors(pdev, 1, 4, PCI_IRQ_MSIX)``) as a driver does."""
    fn = PciFunction(0x1AF4, 0x1041, msix=True, msix_table_size=NVEC)
    host = Host.boot({FID: fn})
    pdev = host.pdev(FID)
    set_memory_decoding(pdev, True)
    assert pci_alloc_irq_vectors(pdev, 1, NVEC, PCI_IRQ_MSIX) == NVEC
    yield fn, pdev
    host.shutdown()


def set_memory_decoding(pdev: pci_dev, on: bool) -> None:
    _, cmd = pci_read_config_word(pdev, PCI_COMMAND)
    cmd = cmd | PCI_COMMAND_MEMORY if on else cmd & ~PCI_COMMAND_MEMORY
    pci_write_config_word(pdev, PCI_COMMAND, cmd)


def table(fn: PciFunction) -> list[tuple[int, int, int, int]]:
    return [fn.msix_entry(i) for i in range(NVEC)]


def cached_messages(pdev: pci_dev) -> list[tuple[int, int, int]]:
    with guard(msi_descs_lock)(pdev.dev):
        return [
            (d.msg.address_lo, d.msg.address_hi, d.msg.data)
            for d in msi_for_each_desc(pdev.dev, MSI_DESC_ALL)
        ]


def msix_ctrl(fn: PciFunction) -> int:
    return fn.config_read(MSIX_CAP_OFFSET + PCI_MSIX_FLAGS, 2)


def test_alloc_irq_vectors_writes_each_message_into_the_table_and_enables_msix(
    msix: tuple[PciFunction, pci_dev],
) -> None:
    fn, pdev = msix
    msgs = cached_messages(pdev)
    virqs = [data for _, _, data in msgs]
    assert len(set(virqs)) == NVEC
    assert msgs == [(MSI_MODEL_ADDRESS & 0xFFFFFFFF, MSI_MODEL_ADDRESS >> 32, v) for v in virqs]
    # msix_mask_all() leaves every entry masked; the messages are in the table
    assert table(fn) == [(lo, hi, data, MASKED) for lo, hi, data in msgs]
    assert pdev.msix_enabled
    assert msix_ctrl(fn) & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) == PCI_MSIX_FLAGS_ENABLE
    assert pci_msix_vec_count(pdev) == NVEC


def test_restore_with_memory_decoding_on_restores_the_msix_messages(
    msix: tuple[PciFunction, pci_dev],
) -> None:
    """The function is reset (FLR through ``pci_reset_function()``, which saves the
    state first) with Memory Space on: the reset empties the table, and
    ``pci_restore_state()`` writes every cached message back."""
    fn, pdev = msix
    before = table(fn)

    assert pci_reset_function(pdev) == 0
    assert fn.resets == ["flr"]

    assert table(fn) == before
    assert msix_ctrl(fn) & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) == PCI_MSIX_FLAGS_ENABLE
    assert fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY

    # and again: a second reset restores the same messages
    assert pci_reset_function(pdev) == 0
    assert table(fn) == before


def test_restore_with_memory_decoding_off_loses_the_msix_messages(msix: tuple[PciFunction, pci_dev]) -> None:
    """The behaviour BEFORE "PCI/MSI: Enable memory decoding before restoring MSI-X
    messages" (PCI v21 4/4, Message-ID <20260630164807.643-5-alifm@linux.ibm.com>,
    mainline 231c7a57d19304beb0931e6cbe3a4929daf49747).

    The state is saved with Memory Space decoding off (``pci_reset_function()``
    saves it), the FLR empties the table, and ``pci_restore_state()`` puts the
    Command register back -- decoding off -- before ``__pci_restore_msix_state()``
    writes the table: each ``writel()`` is an Unsupported Request, dropped by the
    function.  MSI-X comes back enabled with every entry lost (address and data 0,
    masked as after reset), while the kernel's descriptors still hold the messages.

    The test then repeats the loss through ``pci_save_state()``, a hot reset and
    ``pci_restore_state()``.

    With the patch applied this test must flip: the entries equal ``before`` (both
    times), no Unsupported Request is counted, and the Command register still ends
    with decoding off (the patch restores ``cmd``)."""
    fn, pdev = msix
    before = table(fn)
    cached = cached_messages(pdev)
    set_memory_decoding(pdev, False)
    urs = fn.unsupported_requests

    assert pci_reset_function(pdev) == 0
    assert fn.resets == ["flr"]

    # the pre-fix behaviour: the messages are lost
    assert before != LOST
    assert table(fn) == LOST
    assert fn.unsupported_requests > urs
    # MSI-X itself is back on, unmasked as a whole; the Command register as saved
    assert msix_ctrl(fn) & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) == PCI_MSIX_FLAGS_ENABLE
    assert not fn.config_read(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY
    # the kernel believes the messages are in place
    assert cached_messages(pdev) == cached
    assert pdev.msix_enabled

    # turning decoding on afterwards does not bring them back
    set_memory_decoding(pdev, True)
    assert table(fn) == LOST

    # The same through pci_save_state() / a reset from outside the function (the
    # zPCI firmware resets it when it is disabled and enabled again) /
    # pci_restore_state(), the sequence a recovery path runs.
    set_memory_decoding(pdev, False)
    assert pci_save_state(pdev) == 0
    fn.hot_reset()
    pci_restore_state(pdev)
    assert fn.resets == ["flr", "hot"]
    assert table(fn) == LOST


def test_restore_msi_state_without_msix_enabled_writes_nothing() -> None:
    fn = PciFunction(0x1AF4, 0x1041, msix=True, msix_table_size=NVEC)
    host = Host.boot({FID: fn})
    try:
        pdev = host.pdev(FID)
        set_memory_decoding(pdev, True)
        ctrl = msix_ctrl(fn)
        pci_restore_msi_state(pdev)
        assert msix_ctrl(fn) == ctrl
        assert not ctrl & PCI_MSIX_FLAGS_ENABLE
        assert table(fn) == LOST
    finally:
        host.shutdown()
