"""drivers/pci/msi/msi.c (Linux 7.1-rc4): PCI MSI-X setup and the restore of MSI-X state
after a reset.

Source: ColinIanKing/linux-next @ 7b025f3f85ed4283d5a414371bb2ffd38d19033f,
drivers/pci/msi/msi.c.  Its ``__pci_restore_msix_state()`` is the pre-image of
"PCI/MSI: Enable memory decoding before restoring MSI-X messages" (PCI v21 4/4,
Message-ID <20260630164807.643-5-alifm@linux.ibm.com>, mainline commit
231c7a57d19304beb0931e6cbe3a4929daf49747), which the series as merged for Linux 7.3
adds; this module is the baseline *before* that patch.  Not changed by the v17
series.

Before that patch the restore writes the MSI-X table (in BAR memory) with whatever
Command register ``pci_restore_config_space()`` has just put back.  When the saved
state has Memory Space decoding off, every ``writel()`` to the table is an
Unsupported Request and is lost: after a reset the function comes back with MSI-X
enabled and an empty table.

Ported in C order, as far as MSI-X needs: ``pci_msi_supported``,
``pci_setup_msi_context``, ``pci_write_msg_msix``, ``__pci_write_msi_msg``,
``pci_intx_for_msi``, ``arch_restore_msi_irqs`` (``__weak``),
``__pci_restore_msi_state``, ``pci_msix_clear_and_set_ctrl``, ``msix_map_region``,
``msix_prepare_msi_desc``, ``msix_setup_msi_descs``, ``msix_mask_all``,
``__msix_setup_interrupts``/``msix_setup_interrupts``, ``msix_capability_init``,
``pci_msix_validate_entries``, ``__pci_enable_msix_range``,
``__pci_restore_msix_state``, ``pci_free_msi_irqs``.

Model notes (what differs from running the C, and why):

* ``arch_restore_msi_irqs()``: the generic ``__weak`` one returns true.  s390
  overrides it (arch/s390/pci/pci_irq.c): it registers the adapter interrupts again
  with ``zpci_set_irq()`` and also returns true, so the messages are written back
  either way.  Adapter interrupts are not modelled, so the weak default stands here.
* The IRQ core behind ``pci_msi_setup_msi_irqs()`` (drivers/pci/msi/irqdomain.c and
  kernel/irq/: the per-device MSI domain, virq allocation, affinity, and the
  architecture composing each message) is replaced by :func:`pci_msi_setup_msi_irqs`
  here, documented as the model's stand-in: it gives each descriptor the next virq
  and a message (address ``MSI_MODEL_ADDRESS``, data = the virq) and writes it with
  ``__pci_write_msi_msg()``, as activating an MSI interrupt ends up doing
  (``MSI_FLAG_ACTIVATE_EARLY``: at allocation).  ``pci_msi_domain_supports()`` has no
  domain to ask: MSI-X is supported, masking is (no ``MSI_FLAG_NO_MASK``), no
  contiguity constraint.
* ``struct resource`` is not modelled: ``msix_map_region()`` takes the BAR's flags
  and start from :func:`pci_bar_resource`, which asks the architecture what
  ``pdev->resource[bir]`` would hold (on s390 the iomap cookie
  ``zpci_map_resources()`` stores).
* ``readl``/``writel`` are s390's (kernel/s390/include/asm/io.py): PCI load/store
  instructions to BAR space.
* MSI (not MSI-X) is never enabled here (no ``pci_enable_msi()`` path):
  ``__pci_restore_msi_state()`` returns at its first test; its body and the MSI
  helpers (``pci_write_msg_msi``, mask updates) are left out.

Left out as well: devres (``pcim_*``: no managed devices), MSI-X entries arrays
(``entries`` is always NULL), ``PCI_IRQ_VIRTUAL`` descriptors, dynamic MSI-X,
shutdown/teardown, ``__pci_read_msi_msg``, ``pci_msi_mask_irq`` and friends.
"""

from __future__ import annotations

import errno
from typing import Any, Final

from kernel.include.linux.ioport import IORESOURCE_UNSET
from kernel.include.linux.msi import (
    MSI_DESC_ALL,
    msi_desc,
    msi_descs_lock,
    msi_for_each_desc,
    msi_msg,
)
from kernel.include.linux.pci import (
    PCI_D0,
    PCI_DEV_FLAGS_MSI_INTX_DISABLE_BUG,
    pci_bus,
    pci_dev,
    pci_dev_is_disconnected,
    to_pci_dev,
)
from kernel.irq.msi import msi_insert_msi_desc, msi_setup_device_data
from kernel.lib.bug import WARN, WARN_ON_ONCE
from kernel.lib.cleanup import guard, scoped_guard
from kernel.lib.init import static_init
from kernel.lib.printk import pci_info
from kernel.pci.access import pci_read_config_dword, pci_read_config_word, pci_write_config_word
from kernel.pci.msi.msi_h import msix_table_size, pci_msix_desc_addr, pci_msix_write_vector_ctrl
from kernel.s390.include.asm.io import ioremap, iounmap, readl, writel
from uapi.linux.pci_regs import (
    PCI_CAP_ID_MSIX,
    PCI_MSIX_ENTRY_CTRL_MASKBIT,
    PCI_MSIX_ENTRY_DATA,
    PCI_MSIX_ENTRY_LOWER_ADDR,
    PCI_MSIX_ENTRY_SIZE,
    PCI_MSIX_ENTRY_UPPER_ADDR,
    PCI_MSIX_ENTRY_VECTOR_CTRL,
    PCI_MSIX_FLAGS,
    PCI_MSIX_FLAGS_ENABLE,
    PCI_MSIX_FLAGS_MASKALL,
    PCI_MSIX_TABLE,
    PCI_MSIX_TABLE_BIR,
    PCI_MSIX_TABLE_OFFSET,
)

__all__ = [
    "MSI_MODEL_ADDRESS",
    "__pci_enable_msix_range",
    "__pci_restore_msi_state",
    "__pci_restore_msix_state",
    "__pci_write_msi_msg",
    "arch_restore_msi_irqs",
    "pci_free_msi_irqs",
    "pci_msi_enable",
    "pci_msi_setup_msi_irqs",
]

#: ``int pci_msi_enable = 1;`` ("pci=nomsi" clears it)
pci_msi_enable = 1

#: include/linux/pci.h: ``PCI_BUS_FLAGS_NO_MSI`` and ``PCI_IRQ_VIRTUAL``
PCI_BUS_FLAGS_NO_MSI: Final = 1
PCI_IRQ_VIRTUAL: Final = 1 << 4

#: The message address of the model's IRQ core stand-in (Python only; see the
#: module docstring): x86's 0xFEE00000 local-APIC window, a recognisable non-zero value.
MSI_MODEL_ADDRESS: Final = 0x00000000FEE00000
#: The first virq the stand-in hands out (Python only): past the legacy range.
_FIRST_VIRQ: Final = 32
_next_virq = _FIRST_VIRQ


@static_init
def msi_static_init() -> None:
    global pci_msi_enable, _next_virq
    pci_msi_enable = 1
    _next_virq = _FIRST_VIRQ


def pci_msi_supported(dev: pci_dev, nvec: int) -> int:
    """Whether MSI/-X may be enabled on the device: 1, else 0."""
    # MSI must be globally enabled and supported by the device
    if not pci_msi_enable:
        return 0

    if dev is None or dev.no_msi:
        return 0

    # You can't ask to have 0 or less MSIs configured.
    if nvec < 1:
        return 0

    # Any bridge which does NOT route MSI transactions from its secondary bus to its
    # primary bus must set NO_MSI flag on the secondary pci_bus.
    bus: pci_bus | None = dev.bus
    while bus is not None:
        if bus.bus_flags & PCI_BUS_FLAGS_NO_MSI:
            return 0
        bus = bus.parent

    return 1


def pcim_setup_msi_release(dev: pci_dev) -> int:
    # if (!pci_is_managed(dev) || dev->is_msi_managed) return 0: no managed devices
    return 0


def pci_setup_msi_context(dev: pci_dev) -> int:
    """Ordering vs. devres: msi device data has to be installed first so that
    pcim_msi_release() is invoked before it on device release."""
    ret = msi_setup_device_data(dev.dev)

    if ret:
        return ret

    return pcim_setup_msi_release(dev)


def pci_write_msg_msix(desc: msi_desc, msg: msi_msg) -> None:
    base = pci_msix_desc_addr(desc)
    ctrl = desc.pci.msix_ctrl
    unmasked = not (ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT)

    if desc.pci.msi_attrib.is_virtual:
        return
    # The specification mandates that the entry is masked when the message is
    # modified: "If software changes the Address or Data value of an entry while
    # the entry is unmasked, the result is undefined."
    if unmasked:
        pci_msix_write_vector_ctrl(desc, ctrl | PCI_MSIX_ENTRY_CTRL_MASKBIT)

    writel(msg.address_lo, base + PCI_MSIX_ENTRY_LOWER_ADDR)
    writel(msg.address_hi, base + PCI_MSIX_ENTRY_UPPER_ADDR)
    writel(msg.data, base + PCI_MSIX_ENTRY_DATA)

    if unmasked:
        pci_msix_write_vector_ctrl(desc, ctrl)

    # Ensure that the writes are visible in the device
    readl(base + PCI_MSIX_ENTRY_DATA)


def __pci_write_msi_msg(entry: msi_desc, msg: msi_msg) -> None:
    assert entry.dev is not None
    dev = to_pci_dev(entry.dev)

    if dev.current_state != PCI_D0 or pci_dev_is_disconnected(dev):
        pass  # Don't touch the hardware now
    elif entry.pci.msi_attrib.is_msix:
        pci_write_msg_msix(entry, msg)
    else:
        WARN(True, "pci_write_msg_msi: MSI (not MSI-X) is not modelled")

    entry.msg = msi_msg(msg.address_lo, msg.address_hi, msg.data)  # entry->msg = *msg

    if entry.write_msi_msg is not None:
        entry.write_msi_msg(entry, entry.write_msi_msg_data)


# PCI/MSI specific functionality


def pci_intx_for_msi(dev: pci_dev, enable: int) -> None:
    from kernel.pci.pci import pci_intx  # pci.c, which imports this module; imported late

    if not dev.dev_flags & PCI_DEV_FLAGS_MSI_INTX_DISABLE_BUG:
        pci_intx(dev, enable)


def arch_restore_msi_irqs_default(dev: pci_dev) -> bool:
    """``bool __weak arch_restore_msi_irqs(dev)``: the architecture override returns
    true when the PCI MSI message should be written by the generic restore function.
    (s390's override also returns true; see the module docstring.)"""
    return True


#: ``__weak``: an architecture may replace ``kernel.pci.msi.msi.arch_restore_msi_irqs``.
arch_restore_msi_irqs = arch_restore_msi_irqs_default


def __pci_restore_msi_state(dev: pci_dev) -> None:
    if not dev.msi_enabled:
        return

    WARN(True, "__pci_restore_msi_state: MSI (not MSI-X) is not modelled")


# PCI/MSI-X specific functionality


def pci_msix_clear_and_set_ctrl(dev: pci_dev, clear: int, set: int) -> None:
    _, ctrl = pci_read_config_word(dev, dev.msix_cap + PCI_MSIX_FLAGS)
    ctrl &= ~clear
    ctrl |= set
    pci_write_config_word(dev, dev.msix_cap + PCI_MSIX_FLAGS, ctrl)


def pci_bar_resource(dev: pci_dev, bar: int) -> tuple[int, int]:
    """Python only: ``(pci_resource_flags(dev, bar), pci_resource_start(dev, bar))``
    while ``struct resource`` is not modelled.  s390 is this kernel's architecture:
    the answer is what ``zpci_map_resources()`` put into the resource."""
    from kernel.s390.pci.pci import zpci_bar_resource  # arch code; imported late

    return zpci_bar_resource(dev, bar)


def msix_map_region(dev: pci_dev, nr_entries: int) -> int | None:
    _, table_offset = pci_read_config_dword(dev, dev.msix_cap + PCI_MSIX_TABLE)
    bir = table_offset & PCI_MSIX_TABLE_BIR
    flags, start = pci_bar_resource(dev, bir)
    if not flags or flags & IORESOURCE_UNSET:
        return None

    table_offset &= PCI_MSIX_TABLE_OFFSET
    phys_addr = start + table_offset

    return ioremap(phys_addr, nr_entries * PCI_MSIX_ENTRY_SIZE)


def msix_prepare_msi_desc(dev: pci_dev, desc: msi_desc) -> None:
    """Prepare a half initialized MSI descriptor for operation: only ``msi_index``
    (and ``is_virtual``) are set; fill in the rest."""
    desc.nvec_used = 1
    desc.pci.msi_attrib.is_msix = True
    desc.pci.msi_attrib.is_64 = True
    desc.pci.msi_attrib.default_irq = dev.irq
    desc.pci.mask_base = dev.msix_base

    # !pci_msi_domain_supports(dev, MSI_FLAG_NO_MASK, DENY_LEGACY): no domain says NO_MASK
    if not desc.pci.msi_attrib.is_virtual:
        addr = pci_msix_desc_addr(desc)

        desc.pci.msi_attrib.can_mask = True
        desc.pci.msix_ctrl = readl(addr + PCI_MSIX_ENTRY_VECTOR_CTRL)


def msix_setup_msi_descs(dev: pci_dev, entries: Any, nvec: int, masks: Any) -> int:
    from kernel.pci.msi.api import pci_msix_vec_count  # api.c imports this module

    ret = 0
    vec_count = pci_msix_vec_count(dev)

    for i in range(nvec):
        # memset(&desc, 0, sizeof(desc)) once in C; the insert copies it, so a fresh
        # one per entry is the same
        desc = msi_desc()
        desc.msi_index = entries[i].entry if entries else i
        desc.pci.msi_attrib.is_virtual = desc.msi_index >= vec_count

        msix_prepare_msi_desc(dev, desc)

        ret = msi_insert_msi_desc(dev.dev, desc)
        if ret:
            break
    return ret


def msix_mask_all(base: int, tsize: int) -> None:
    ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT

    for _ in range(tsize):
        writel(ctrl, base + PCI_MSIX_ENTRY_VECTOR_CTRL)
        base += PCI_MSIX_ENTRY_SIZE


def pci_msi_setup_msi_irqs(dev: pci_dev, nvec: int, type: int) -> int:
    """drivers/pci/msi/irqdomain.c ``pci_msi_setup_msi_irqs()`` and the IRQ core
    behind it, replaced by the model's stand-in (Python only; see the module
    docstring): each descriptor gets the next virq and the message
    ``{MSI_MODEL_ADDRESS, data = virq}``, written to the device with
    ``__pci_write_msi_msg()``.  Called with the descriptor mutex held; 0."""
    global _next_virq

    for desc in msi_for_each_desc(dev.dev, MSI_DESC_ALL):
        desc.irq = _next_virq
        _next_virq += 1
        msg = msi_msg(
            address_lo=MSI_MODEL_ADDRESS & 0xFFFFFFFF,
            address_hi=MSI_MODEL_ADDRESS >> 32,
            data=desc.irq,
        )
        __pci_write_msi_msg(desc, msg)
    return 0


def pci_msi_teardown_msi_irqs(dev: pci_dev) -> None:
    """irqdomain.c; the stand-in frees the descriptors (Python only)."""
    md = dev.dev.msi.data
    if md is not None:
        md.store.clear()


def msi_verify_entries(dev: pci_dev) -> int:
    # if (!dev->no_64bit_msi) return 0: no model device sets no_64bit_msi
    return 0


def __msix_setup_interrupts(dev: pci_dev, entries: Any, nvec: int, masks: Any) -> int:
    # struct pci_dev *dev __free(free_msi_irqs) = __dev: freed on every error return
    ret = msix_setup_msi_descs(dev, entries, nvec, masks)
    if ret:
        pci_free_msi_irqs(dev)
        return ret

    ret = pci_msi_setup_msi_irqs(dev, nvec, PCI_CAP_ID_MSIX)
    if ret:
        pci_free_msi_irqs(dev)
        return ret

    # Check if all MSI entries honor device restrictions
    ret = msi_verify_entries(dev)
    if ret:
        pci_free_msi_irqs(dev)
        return ret

    # retain_ptr(dev); msix_update_entries(dev, entries): entries is NULL
    return 0


def msix_setup_interrupts(dev: pci_dev, entries: Any, nvec: int, affd: Any) -> int:
    masks = None  # affd ? irq_create_affinity_masks(nvec, affd) : NULL: no affinity

    with guard(msi_descs_lock)(dev.dev):
        return __msix_setup_interrupts(dev, entries, nvec, masks)


def msix_capability_init(dev: pci_dev, entries: Any, nvec: int, affd: Any) -> int:
    """Set up the MSI-X capability of the function: 0, or a negative errno."""
    # Some devices require MSI-X to be enabled before the MSI-X registers can be
    # accessed.  Mask all the vectors to prevent interrupts coming in before
    # they're fully set up.
    pci_msix_clear_and_set_ctrl(dev, 0, PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE)

    # Mark it enabled so setup functions can query it
    dev.msix_enabled = True

    _, control = pci_read_config_word(dev, dev.msix_cap + PCI_MSIX_FLAGS)
    # Request & Map MSI-X table region
    tsize = msix_table_size(control)
    dev.msix_base = msix_map_region(dev, tsize)
    if dev.msix_base is None:
        ret = -errno.ENOMEM
    else:
        ret = msix_setup_interrupts(dev, entries, nvec, affd)
    if ret:
        # out_disable:
        dev.msix_enabled = False
        pci_msix_clear_and_set_ctrl(dev, PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE, 0)
        return ret

    # Disable INTX
    pci_intx_for_msi(dev, 0)

    # !pci_msi_domain_supports(dev, MSI_FLAG_NO_MASK, DENY_LEGACY):
    # Ensure that all table entries are masked to prevent stale entries from firing
    # in a crash kernel.  Done late to deal with a broken Marvell NVME device which
    # takes the MSI-X mask bits into account even when MSI-X is disabled, which
    # prevents MSI delivery.
    assert dev.msix_base is not None
    msix_mask_all(dev.msix_base, tsize)
    pci_msix_clear_and_set_ctrl(dev, PCI_MSIX_FLAGS_MASKALL, 0)

    # pcibios_free_irq(dev): the __weak default does nothing
    return 0


def pci_msix_validate_entries(dev: pci_dev, entries: Any, nvec: int) -> bool:
    if not entries:
        return True

    for i in range(nvec):
        # Check for duplicate entries
        for j in range(i + 1, nvec):
            if entries[i].entry == entries[j].entry:
                return False
        # nogap: no domain asks for MSI_FLAG_MSIX_CONTIGUOUS
    return True


def __pci_enable_msix_range(
    dev: pci_dev, entries: Any, minvec: int, maxvec: int, affd: Any, flags: int
) -> int:
    nvec = maxvec

    if maxvec < minvec:
        return -errno.ERANGE

    if dev.msi_enabled:
        pci_info(dev, "can't enable MSI-X (MSI already enabled)\n")
        return -errno.EINVAL

    if WARN_ON_ONCE(dev.msix_enabled):
        return -errno.EINVAL

    # Check MSI-X early on irq domain enabled architectures:
    # pci_msi_domain_supports(dev, MSI_FLAG_PCI_MSIX, ALLOW_LEGACY) holds

    if not pci_msi_supported(dev, nvec) or dev.current_state != PCI_D0:
        return -errno.EINVAL

    from kernel.pci.msi.api import pci_msix_vec_count  # api.c imports this module

    hwsize = pci_msix_vec_count(dev)
    if hwsize < 0:
        return hwsize

    if not pci_msix_validate_entries(dev, entries, nvec):
        return -errno.EINVAL

    if hwsize < nvec:
        # Keep the IRQ virtual hackery working
        if flags & PCI_IRQ_VIRTUAL:
            hwsize = nvec
        else:
            nvec = hwsize

    if nvec < minvec:
        return -errno.ENOSPC

    rc = pci_setup_msi_context(dev)
    if rc:
        return rc

    # pci_setup_msix_device_domain(dev, hwsize): no per-device domain is modelled

    while True:
        # if (affd) nvec = irq_calc_affinity_vectors(...): no affinity

        rc = msix_capability_init(dev, entries, nvec, affd)
        if rc == 0:
            return nvec

        if rc < 0:
            return rc
        if rc < minvec:
            return -errno.ENOSPC

        nvec = rc


def __pci_restore_msix_state(dev: pci_dev) -> None:
    if not dev.msix_enabled:
        return

    # route the table
    pci_intx_for_msi(dev, 0)
    pci_msix_clear_and_set_ctrl(dev, 0, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL)

    write_msg = arch_restore_msi_irqs(dev)

    with scoped_guard(msi_descs_lock, dev.dev):
        for entry in msi_for_each_desc(dev.dev, MSI_DESC_ALL):
            if write_msg:
                __pci_write_msi_msg(entry, entry.msg)
            pci_msix_write_vector_ctrl(entry, entry.pci.msix_ctrl)

    pci_msix_clear_and_set_ctrl(dev, PCI_MSIX_FLAGS_MASKALL, 0)


# Common interfaces


def pci_free_msi_irqs(dev: pci_dev) -> None:
    pci_msi_teardown_msi_irqs(dev)

    if dev.msix_base is not None:
        iounmap(dev.msix_base)
        dev.msix_base = None
