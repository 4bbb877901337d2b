"""arch/s390/pci/pci.c: the zPCI base (Linux 7.1-rc4 with the v17 series).

Source read: legoater/linux @ 11c5ae1f979a, arch/s390/pci/pci.c, an older text, with
``zpci_reenable_device()``/``zpci_hot_reset_device()`` in their newer form as in
Kingxukai/linux @ 0291023e7330 (same path); not byte-exact to 7.1-rc4, whose text is
known only by its blob id (39bd2adfc240, the v17 4/7 pre-image);
v17 4/7 adds one line here (``mutex_init(&zdev->pending_errs_lock)`` in
``zpci_create_device()``).  ``pr_fmt`` is "zpci: ".

What the event path, the hotplug driver and the PCI core reach is ported in C order:
``get_zdev_by_fid`` over ``zpci_list``/``zpci_list_lock``, the domain allocator,
config-space access (``zpci_cfg_load``/``zpci_cfg_store`` behind the s390
``pci_root_ops``), ``zpci_update_fh``, enable/disable/re-enable/hot-reset,
create/add/scan/deconfigure/reserve/release of a zdev, the error-state controls and
``pci_base_init()``.  A function handle travels by value as in C; out-parameters are
return values.

Left out and why:
* ``struct resource``: ``zpci_setup_bus_resources`` allocates an iomap entry per BAR
  and names the resources, but no resource is allocated or claimed; what
  ``zpci_map_resources()`` stores in ``pdev->resource[i].start`` (the BAR's iomap
  cookie) is what :func:`zpci_bar_resource` returns (Python only).  The iomap
  itself (``zpci_iomap_start``, ``zpci_alloc_iomap``/``zpci_free_iomap``,
  ``zpci_do_update_iomap_fh``, ``pci_iomap_range_fh``/``pci_iounmap_fh``) is
  ported: ``readl``/``writel`` reach BAR space through it (asm/io.h).  The other
  ``pci_iomap*`` entry points and MIO are left out;
* the FMB (``zpci_fmb_enable_device``/``disable``): function measurement is not
  modelled; ``pcibios_enable_device``/``disable`` therefore only do their debugfs
  part, which is not modelled either, and are left out;
* the IOMMU (``zpci_init_iommu``/``zpci_destroy_iommu``), DMA tables: the s390 IOMMU
  driver is not ported; ``zpci_iommu_register_ioat`` below is a Python stand-in (see
  its docstring);
* IRQ setup (``zpci_irq_init``), MIO (``have_mio`` is false), ``pcibios_setup``
  options other than the modelled ``s390_pci_probe``/``s390_pci_no_rid``.
"""

from __future__ import annotations

import errno
import functools
from typing import Final

from kernel.include.linux.ioport import IORESOURCE_MEM
from kernel.include.linux.pci import pci_bus, pci_dev, pci_ops
from kernel.include.linux.pci_hotplug import hotplug_slot
from kernel.lib.bug import WARN_ON
from kernel.lib.context_analysis import context_unsafe, data_race, publish
from kernel.lib.errno import ERR_PTR, ErrPtr
from kernel.lib.init import static_init, subsys_initcall
from kernel.lib.kref import kref_init
from kernel.lib.mutex import lockdep_assert_held, mutex_init
from kernel.lib.printk import pr_err, pr_info, pr_warn
from kernel.lib.spinlock import DEFINE_SPINLOCK, spin_lock, spin_lock_init, spin_unlock
from kernel.s390.char.sclp_pci import sclp_pci_deconfigure, sclp_pci_report
from kernel.s390.include.asm.pci import (
    ZPCI_BUS_NR,
    ZPCI_FN_STATE_CONFIGURED,
    ZPCI_FN_STATE_RESERVED,
    ZPCI_FN_STATE_STANDBY,
    ZPCI_NR_DEVICES,
    ZPCI_NR_DMA_SPACES,
    to_zpci,
    zdev_enabled,
    zpci_bus,
    zpci_dev,
    zpci_state,
    zpci_use_mio,
)
from kernel.s390.include.asm.pci_clp import CLP_RC_SETPCIFN_ALRDY
from kernel.s390.include.asm.pci_debug import zpci_dbg
from kernel.s390.include.asm.pci_insn import (
    ZPCI_MOD_FC_DEREG_IOAT,
    ZPCI_MOD_FC_REG_IOAT,
    ZPCI_MOD_FC_RESET_BLOCK,
    ZPCI_MOD_FC_RESET_ERROR,
    ZPCI_PCIAS_CFGSPC,
    zpci_fib,
)
from kernel.s390.include.asm.pci_io import (
    ZPCI_ADDR,
    ZPCI_CREATE_REQ,
    ZPCI_IDX,
    ZPCI_IOMAP_MAX_ENTRIES,
    zpci_iomap_entry,
)
from kernel.s390.include.asm.sclp import zpci_report_error_header
from kernel.s390.machine import machine
from kernel.s390.pci import pci_clp
from kernel.s390.pci.pci_bus import (
    zdev_from_bus,
    zpci_bus_device_register,
    zpci_bus_device_unregister,
    zpci_bus_remove_device,
    zpci_bus_scan_busses,
    zpci_bus_scan_device,
    zpci_zdev_get,
    zpci_zdev_put,
)
from kernel.s390.pci.pci_clp import (
    clp_disable_fh,
    clp_enable_fh,
    clp_get_state,
    clp_query_pci_fn,
    clp_refresh_fh,
    clp_scan_pci_devices,
    update_uid_checking,
)
from kernel.s390.pci.pci_debug import zpci_debug_exit, zpci_debug_init
from uapi.linux.pci_regs import PCI_STD_NUM_BARS

__all__ = [
    "get_zdev_by_fid",
    "pci_domain_nr",
    "pci_proc_domain",
    "pci_root_ops",
    "pcibios_device_add",
    "pcibios_release_device",
    "s390_pci_no_rid",
    "zpci_add_device",
    "zpci_alloc_domain",
    "zpci_bar_resource",
    "zpci_clear_error_state",
    "zpci_create_device",
    "zpci_deconfigure_device",
    "zpci_device_reserved",
    "zpci_disable_device",
    "zpci_enable_device",
    "zpci_free_domain",
    "zpci_hot_reset_device",
    "zpci_iomap_start",
    "zpci_is_device_configured",
    "zpci_is_enabled",
    "zpci_list",
    "zpci_list_lock",
    "zpci_register_ioat",
    "zpci_reenable_device",
    "zpci_release_device",
    "zpci_remove_reserved_devices",
    "zpci_report_error",
    "zpci_reset_load_store_blocked",
    "zpci_scan_configured_device",
    "zpci_scan_devices",
    "zpci_setup_bus_resources",
    "zpci_unregister_ioat",
    "zpci_update_fh",
]


def pr_fmt(fmt: str) -> str:
    return "zpci: " + fmt


#: list of all detected zpci devices (``static LIST_HEAD(zpci_list)``)
zpci_list: list[zpci_dev] = []
zpci_list_lock = DEFINE_SPINLOCK("zpci_list_lock")

#: ``static DECLARE_BITMAP(zpci_domain, ZPCI_DOMAIN_BITMAP_SIZE)``, as a set of bits
zpci_domain: set[int] = set()
zpci_domain_lock = DEFINE_SPINLOCK("zpci_domain_lock")

#: ``struct zpci_iomap_entry *zpci_iomap_start`` (allocated by ``zpci_mem_init()``)
#: and ``static unsigned long *zpci_iomap_bitmap``, as a set of bits.
ZPCI_IOMAP_ENTRIES: Final = min(ZPCI_NR_DEVICES * PCI_STD_NUM_BARS // 2, ZPCI_IOMAP_MAX_ENTRIES)
zpci_iomap_start: list[zpci_iomap_entry] = []
zpci_iomap_bitmap: set[int] = set()
zpci_iomap_lock = DEFINE_SPINLOCK("zpci_iomap_lock")

#: ``unsigned int s390_pci_no_rid`` ("pci=norid")
s390_pci_no_rid = 0

#: ``s390_pci_probe`` ("pci=off" clears it) and ``s390_pci_initialized``
s390_pci_probe = 1
s390_pci_initialized = 0


@static_init
def pci_static_init() -> None:
    global s390_pci_no_rid, s390_pci_probe, s390_pci_initialized
    zpci_list.clear()
    spin_lock_init(zpci_list_lock)
    zpci_domain.clear()
    spin_lock_init(zpci_domain_lock)
    zpci_iomap_start.clear()
    zpci_iomap_bitmap.clear()
    spin_lock_init(zpci_iomap_lock)
    s390_pci_no_rid = 0
    s390_pci_probe = 1
    s390_pci_initialized = 0


def get_zdev_by_fid(fid: int) -> zpci_dev | None:
    zdev = None

    spin_lock(zpci_list_lock)
    for tmp in zpci_list:
        if tmp.fid == fid:
            zdev = tmp
            zpci_zdev_get(zdev)
            break
    spin_unlock(zpci_list_lock)
    return zdev


def zpci_remove_reserved_devices() -> None:
    remove: list[zpci_dev] = []

    spin_lock(zpci_list_lock)
    for zdev in list(zpci_list):
        if zdev.state == ZPCI_FN_STATE_STANDBY:
            rc, state = clp_get_state(zdev.fid)
            if not rc and state == ZPCI_FN_STATE_RESERVED:
                zpci_list.remove(zdev)
                remove.append(zdev)
    spin_unlock(zpci_list_lock)

    for zdev in remove:
        # list_move_tail() took it off zpci_list: zpci_device_reserved()'s list_del()
        # unlinks it from the private list
        zpci_device_reserved(zdev)


def pci_domain_nr(bus: pci_bus) -> int:
    return int(bus.sysdata.domain_nr)


def pci_proc_domain(bus: pci_bus) -> int:
    return pci_domain_nr(bus)


# Modify PCI: Register I/O address translation parameters
def zpci_register_ioat(zdev: zpci_dev, dmaas: int, base: int, limit: int, iota: int) -> tuple[int, int]:
    """-> (cc, status)"""
    req = ZPCI_CREATE_REQ(zdev.fh, dmaas, ZPCI_MOD_FC_REG_IOAT)
    fib = zpci_fib()

    fib.pba = base
    fib.pal = limit
    fib.iota = iota
    fib.gd = zdev.gisa
    cc, status = machine_mod_fc(req, fib)
    if cc:
        zpci_dbg(3, "reg ioat fid:%x, cc:%d, status:%d\n", zdev.fid, cc, status)
    return cc, status


# Modify PCI: Unregister I/O address translation parameters
def zpci_unregister_ioat(zdev: zpci_dev, dmaas: int) -> int:
    req = ZPCI_CREATE_REQ(zdev.fh, dmaas, ZPCI_MOD_FC_DEREG_IOAT)
    fib = zpci_fib()

    fib.gd = zdev.gisa

    cc, status = machine_mod_fc(req, fib)
    if cc:
        zpci_dbg(3, "unreg ioat fid:%x, cc:%d, status:%d\n", zdev.fid, cc, status)
    return cc


def machine_mod_fc(req: int, fib: zpci_fib) -> tuple[int, int]:
    """``zpci_mod_fc()`` of pci_insn.c, imported late: exists only in Python so the
    import graph stays one-way."""
    from kernel.s390.pci.pci_insn import zpci_mod_fc

    return zpci_mod_fc(req, fib)


def bswap64(v: int) -> int:
    """le64_to_cpu()/cpu_to_le64() on a big-endian machine.  Exists only in Python."""
    return int.from_bytes((v & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big"), "little")


def zpci_cfg_load(zdev: zpci_dev, offset: int, len: int) -> tuple[int, int]:
    """``int zpci_cfg_load(struct zpci_dev *zdev, int offset, u32 *val, u8 len)`` ->
    (rc, val); val is all ones when the load failed."""
    from kernel.s390.pci.pci_insn import __zpci_load

    with data_race():  # the function handle as the instruction finds it: no state_lock
        req = ZPCI_CREATE_REQ(zdev.fh, ZPCI_PCIAS_CFGSPC, len)

    rc, data = __zpci_load(req, offset)
    if not rc:
        data = bswap64(data)
        data >>= (8 - len) * 8
        val = data & 0xFFFFFFFF
    else:
        val = 0xFFFFFFFF
    return rc, val


def zpci_cfg_store(zdev: zpci_dev, offset: int, val: int, len: int) -> int:
    from kernel.s390.pci.pci_insn import __zpci_store

    with data_race():  # the function handle as the instruction finds it: no state_lock
        req = ZPCI_CREATE_REQ(zdev.fh, ZPCI_PCIAS_CFGSPC, len)
    data = val & 0xFFFFFFFF

    data <<= (8 - len) * 8
    data = bswap64(data)
    rc = __zpci_store(data, req, offset)
    return rc


def pci_read(bus: pci_bus, devfn: int, where: int, size: int) -> tuple[int, int]:
    zdev = zdev_from_bus(bus, devfn)

    return zpci_cfg_load(zdev, where, size) if zdev is not None else (-errno.ENODEV, 0)


def pci_write(bus: pci_bus, devfn: int, where: int, size: int, val: int) -> int:
    zdev = zdev_from_bus(bus, devfn)

    return zpci_cfg_store(zdev, where, val, size) if zdev is not None else -errno.ENODEV


pci_root_ops = pci_ops(read=pci_read, write=pci_write)


def zpci_update_fh(zdev: zpci_dev, fh: int) -> None:
    if not fh or zdev.fh == fh:
        return

    zdev.fh = fh
    if zpci_use_mio(zdev):
        return
    if zdev.has_resources and zdev_enabled(zdev):
        zpci_do_update_iomap_fh(zdev, fh)


def zpci_alloc_iomap(zdev: zpci_dev) -> int:
    spin_lock(zpci_iomap_lock)
    entry = next((i for i in range(ZPCI_IOMAP_ENTRIES) if i not in zpci_iomap_bitmap), ZPCI_IOMAP_ENTRIES)
    if entry == ZPCI_IOMAP_ENTRIES:
        spin_unlock(zpci_iomap_lock)
        return -errno.ENOSPC
    zpci_iomap_bitmap.add(entry)
    spin_unlock(zpci_iomap_lock)
    return entry


def zpci_free_iomap(zdev: zpci_dev, entry: int) -> None:
    spin_lock(zpci_iomap_lock)
    e = zpci_iomap_start[entry]
    e.fh, e.bar, e.count = 0, 0, 0  # memset(&zpci_iomap_start[entry], 0, ...)
    zpci_iomap_bitmap.discard(entry)
    spin_unlock(zpci_iomap_lock)


def zpci_do_update_iomap_fh(zdev: zpci_dev, fh: int) -> None:
    spin_lock(zpci_iomap_lock)
    for bar in range(PCI_STD_NUM_BARS):
        if not zdev.bars[bar].size:
            continue
        idx = zdev.bars[bar].map_idx
        if not zpci_iomap_start[idx].count:
            continue
        zpci_iomap_start[idx].fh = zdev.fh  # WRITE_ONCE
    spin_unlock(zpci_iomap_lock)


def pci_iomap_range_fh(pdev: pci_dev, bar: int, offset: int, max: int) -> int:
    zdev = to_zpci(pdev)

    idx = zdev.bars[bar].map_idx
    spin_lock(zpci_iomap_lock)
    # Detect overrun
    zpci_iomap_start[idx].count = (zpci_iomap_start[idx].count + 1) & 0xFFFF
    WARN_ON(not zpci_iomap_start[idx].count)
    with data_race():  # the C reads zdev->fh here without zdev->state_lock
        zpci_iomap_start[idx].fh = zdev.fh
    zpci_iomap_start[idx].bar = bar
    spin_unlock(zpci_iomap_lock)

    return ZPCI_ADDR(idx) + offset


def pci_iounmap_fh(pdev: pci_dev, addr: int) -> None:
    idx = ZPCI_IDX(addr)

    spin_lock(zpci_iomap_lock)
    # Detect underrun
    WARN_ON(not zpci_iomap_start[idx].count)
    zpci_iomap_start[idx].count = (zpci_iomap_start[idx].count - 1) & 0xFFFF
    if not zpci_iomap_start[idx].count:
        zpci_iomap_start[idx].fh = 0
        zpci_iomap_start[idx].bar = 0
    spin_unlock(zpci_iomap_lock)


def zpci_bar_resource(pdev: pci_dev, bar: int) -> tuple[int, int]:
    """Python only: ``(pci_resource_flags(pdev, bar), pci_resource_start(pdev, bar))``
    as s390 sets them up -- IORESOURCE_MEM for a BAR the platform reports, its start
    the iomap cookie ``zpci_map_resources()`` stored -- for code that needs a BAR's
    address while ``struct resource`` is not modelled.  (0, 0) for a BAR without
    size, or a device that is not a zPCI function."""
    zdev = to_zpci(pdev) if isinstance(pdev.sysdata, zpci_bus) else None
    if zdev is None or not zdev.bars[bar].size or zpci_use_mio(zdev):
        return 0, 0
    return IORESOURCE_MEM, ZPCI_ADDR(zdev.bars[bar].map_idx)


def zpci_map_resources(pdev: pci_dev) -> None:
    """Maps each BAR through the iomap (``pci_iomap_range_fh(pdev, i, 0, 0)``).  The
    length comes from the zdev's BAR size (``pci_resource_len()`` in C: no
    ``struct resource`` is modelled), and the cookie is not stored in a resource
    (see :func:`zpci_bar_resource`)."""
    zdev = to_zpci(pdev)

    for i in range(PCI_STD_NUM_BARS):
        if not zdev.bars[i].size:  # len = pci_resource_len(pdev, i)
            continue

        if zpci_use_mio(zdev):
            continue  # pdev->resource[i].start = zdev->bars[i].mio_wt: no MIO here
        pci_iomap_range_fh(pdev, i, 0, 0)


def zpci_unmap_resources(pdev: pci_dev) -> None:
    zdev = to_zpci(pdev)

    if zpci_use_mio(zdev):
        return

    for i in range(PCI_STD_NUM_BARS):
        if not zdev.bars[i].size:  # len = pci_resource_len(pdev, i)
            continue
        pci_iounmap_fh(pdev, ZPCI_ADDR(zdev.bars[i].map_idx))


def zpci_setup_bus_resources(zdev: zpci_dev) -> int:
    """An iomap entry per BAR and the resource name; the resources themselves are
    not modelled (see the module docstring)."""
    zdev.res_name = f"PCI Bus {zdev.uid & 0xFFFF:04x}:{ZPCI_BUS_NR:02x}"[:15]  # char res_name[16]

    for i in range(PCI_STD_NUM_BARS):
        if not zdev.bars[i].size:
            continue
        entry = zpci_alloc_iomap(zdev)
        if entry < 0:
            return entry
        zdev.bars[i].map_idx = entry
        # flags, addr = ZPCI_ADDR(entry), size; res = __alloc_res(...): not modelled
        zdev.bars[i].res = f"{zdev.res_name} BAR{i}"  # stands for the resource

    zdev.has_resources = 1
    return 0


def zpci_cleanup_bus_resources(zdev: zpci_dev) -> None:
    for i in range(PCI_STD_NUM_BARS):
        if not zdev.bars[i].res:
            continue
        # release_resource(res); pci_bus_remove_resource(): not modelled
        zpci_free_iomap(zdev, zdev.bars[i].map_idx)
        zdev.bars[i].res = None
    zdev.has_resources = 0


def pcibios_device_add(pdev: pci_dev) -> int:
    zdev = to_zpci(pdev)

    # The pdev has a reference to the zdev via its bus
    zpci_zdev_get(zdev)

    zpci_map_resources(pdev)
    # pci_claim_resource() of each BAR: resources are not modelled
    return 0


def pcibios_release_device(pdev: pci_dev) -> None:
    zdev = to_zpci(pdev)

    zpci_unmap_resources(pdev)
    zpci_zdev_put(zdev)


def __zpci_register_domain(domain: int) -> int:
    spin_lock(zpci_domain_lock)
    if domain in zpci_domain:
        spin_unlock(zpci_domain_lock)
        pr_err("Domain %04x is already assigned\n", domain)
        return -errno.EEXIST
    zpci_domain.add(domain)
    spin_unlock(zpci_domain_lock)
    return domain


def __zpci_alloc_domain() -> int:
    spin_lock(zpci_domain_lock)
    # We can always auto allocate domains below ZPCI_NR_DEVICES.  There is either a
    # free domain or we have reached the maximum in which case we would have bailed
    # earlier.
    domain = next(d for d in range(ZPCI_NR_DEVICES + 1) if d not in zpci_domain)
    zpci_domain.add(domain)
    spin_unlock(zpci_domain_lock)
    return domain


def zpci_alloc_domain(domain: int) -> int:
    if pci_clp.zpci_unique_uid:
        if domain:
            return __zpci_register_domain(domain)
        pr_warn("UID checking was active but no UID is provided: switching to automatic domain allocation\n")
        update_uid_checking(False)
    return __zpci_alloc_domain()


def zpci_free_domain(domain: int) -> None:
    spin_lock(zpci_domain_lock)
    zpci_domain.discard(domain)
    spin_unlock(zpci_domain_lock)


def zpci_enable_device(zdev: zpci_dev) -> int:
    rc = 0

    cc, fh = clp_enable_fh(zdev, ZPCI_NR_DMA_SPACES)
    if cc:
        rc = -errno.EIO
    else:
        zpci_update_fh(zdev, fh)
    return rc


def zpci_iommu_register_ioat(zdev: zpci_dev) -> tuple[int, int]:
    """drivers/iommu/s390-iommu.c is not ported (no DMA is modelled).  This stand-in
    issues what the IOMMU driver's version ends in: MPCIFC Register I/O Address
    Translation for the function's DMA window, without a translation table (iota 0).
    Returns (rc, status); rc is -EIO when the machine refused it.  Exists only in
    Python."""
    cc, status = zpci_register_ioat(zdev, 0, zdev.start_dma, zdev.end_dma, 0)
    return (-errno.EIO if cc else 0), status


def zpci_reenable_device(zdev: zpci_dev) -> int:
    rc = zpci_enable_device(zdev)
    if rc:
        return rc

    rc, _status = zpci_iommu_register_ioat(zdev)
    if rc:
        zpci_disable_device(zdev)

    return rc


def zpci_disable_device(zdev: zpci_dev) -> int:
    rc = 0

    cc, fh = clp_disable_fh(zdev)
    if not cc:
        zpci_update_fh(zdev, fh)
    elif cc == CLP_RC_SETPCIFN_ALRDY:
        pr_info("Disabling PCI function %08x had no effect as it was already disabled\n", zdev.fid)
        # Function is already disabled - update handle
        rc, fh = clp_refresh_fh(zdev.fid)
        if not rc:
            zpci_update_fh(zdev, fh)
            rc = -errno.EINVAL
    else:
        rc = -errno.EIO
    return rc


def zpci_hot_reset_device(zdev: zpci_dev) -> int:
    """Low-level reset of a zPCI function: disable (if enabled) and re-enable it,
    re-registering its DMA translation.  The function's state afterwards is that of a
    freshly probed one.  The caller holds ``zdev->state_lock`` (asserted) and must guard
    against concurrent resets.  Returns 0 or an error."""
    lockdep_assert_held(zdev.state_lock)
    zpci_dbg(3, "rst fid:%x, fh:%x\n", zdev.fid, zdev.fh)
    if zdev_enabled(zdev):
        # Disables device access, DMAs and IRQs (reset state)
        rc = zpci_disable_device(zdev)
        # Due to a z/VM vs LPAR inconsistency in the error state the FH may indicate an
        # enabled device but disable says the device is already disabled: don't treat
        # it as an error here.
        if rc == -errno.EINVAL:
            rc = 0
        if rc:
            return rc

    rc = zpci_reenable_device(zdev)

    return rc


def zpci_create_device(fid: int, fh: int, state: zpci_state) -> zpci_dev | ErrPtr:
    """Allocate a zpci_dev and query the platform for its details.  On success it can be
    added with zpci_add_device(); returns the zdev or an error pointer."""
    zdev = zpci_dev()
    zdev.hotplug_slot = hotplug_slot(container=zdev)

    # FID and Function Handle are the static/dynamic identifiers
    zdev.fid = fid
    zdev.fh = fh

    # Query function properties and update zdev
    rc = clp_query_pci_fn(zdev)
    if rc:
        # error:
        zpci_dbg(0, "crt fid:%x, rc:%d\n", fid, rc)
        return ERR_PTR(rc)
    zdev.state = state

    mutex_init(zdev.state_lock)
    mutex_init(zdev.fmb_lock)
    mutex_init(zdev.kzdev_lock)
    mutex_init(zdev.pending_errs_lock)

    return zdev


def zpci_add_device(zdev: zpci_dev) -> int:
    """Add a created zpci_dev to the zPCI subsystem and to a zbus (creating it as needed);
    a hotplug slot is created and events start to be handled.  From then on
    zpci_zdev_get()/zpci_zdev_put() manage its life.  On failure the zdev was not added."""
    zpci_dbg(1, "add fid:%x, fh:%x, c:%d\n", zdev.fid, zdev.fh, int(zdev.state))
    # zpci_init_iommu(zdev): the IOMMU is not modelled

    rc = zpci_bus_device_register(zdev, pci_root_ops)
    if rc:
        # error_destroy_iommu: / error:
        zpci_dbg(0, "add fid:%x, rc:%d\n", zdev.fid, rc)
        return rc

    kref_init(zdev.kref)
    spin_lock(zpci_list_lock)
    zpci_list.append(zdev)
    spin_unlock(zpci_list_lock)
    publish(zdev)  # on zpci_list: from here its __guarded_by fields are checked
    return 0


def zpci_is_device_configured(zdev: zpci_dev) -> bool:
    with data_race():  # a snapshot for sysfs (adapter status): no zdev->state_lock
        state = zdev.state

    return state != ZPCI_FN_STATE_RESERVED and state != ZPCI_FN_STATE_STANDBY


def zpci_scan_configured_device(zdev: zpci_dev, fh: int) -> int:
    """Enable, scan and add a freshly configured zdev to the PCI core; on failure it is
    left disabled."""
    zpci_update_fh(zdev, fh)
    return zpci_bus_scan_device(zdev)


def zpci_deconfigure_device(zdev: zpci_dev) -> int:
    """Deconfigure a configured zPCI function (removing it from the PCI core); on
    failure it is left as is."""
    lockdep_assert_held(zdev.state_lock)
    if zdev.state != ZPCI_FN_STATE_CONFIGURED:
        return 0

    if zdev.zbus is not None and zdev.zbus.bus is not None:
        zpci_bus_remove_device(zdev, False)

    if zdev_enabled(zdev):
        rc = zpci_disable_device(zdev)
        if rc:
            return rc

    rc = sclp_pci_deconfigure(zdev.fid)
    zpci_dbg(3, "deconf fid:%x, rc:%d\n", zdev.fid, rc)
    if rc:
        return rc
    zdev.state = ZPCI_FN_STATE_STANDBY

    return 0


def zpci_device_reserved(zdev: zpci_dev) -> None:
    """The function was reserved by another system: drop it from zpci_list (so events
    for it are ignored from now on) and drop the list's reference."""
    spin_lock(zpci_list_lock)
    if zdev in zpci_list:
        zpci_list.remove(zdev)
    spin_unlock(zpci_list_lock)
    zdev.state = ZPCI_FN_STATE_RESERVED
    zpci_dbg(3, "rsv fid:%x\n", zdev.fid)
    zpci_zdev_put(zdev)


def zpci_release_device(zdev: zpci_dev) -> None:
    """The kref release of a zpci_dev."""
    from kernel.pci.hotplug.s390_pci_hpc import zpci_exit_slot

    # the last reference is gone: nobody else reads or writes this zdev any more
    with context_unsafe():
        WARN_ON(zdev.state != ZPCI_FN_STATE_RESERVED)

    if zdev.zbus is not None and zdev.zbus.bus is not None:
        zpci_bus_remove_device(zdev, False)

    if zdev_enabled(zdev):
        zpci_disable_device(zdev)

    if zdev.has_hp_slot:
        zpci_exit_slot(zdev)

    if zdev.has_resources:
        zpci_cleanup_bus_resources(zdev)

    zpci_bus_device_unregister(zdev)
    zpci_dbg(3, "rem fid:%x\n", zdev.fid)


def zpci_report_error(pdev: pci_dev, report: zpci_report_error_header) -> int:
    zdev = to_zpci(pdev)

    return sclp_pci_report(report, zdev.fh, zdev.fid)


def zpci_clear_error_state(zdev: zpci_dev) -> int:
    """Clear the zPCI error state of the function (MPCIFC Reset Error).  On failure the
    function is left in the error state.  Returns 0 or -EIO."""
    req = ZPCI_CREATE_REQ(zdev.fh, 0, ZPCI_MOD_FC_RESET_ERROR)
    fib = zpci_fib()

    cc, status = machine_mod_fc(req, fib)
    if cc:
        zpci_dbg(3, "ces fid:%x, cc:%d, status:%x\n", zdev.fid, cc, status)
        return -errno.EIO

    return 0


def zpci_reset_load_store_blocked(zdev: zpci_dev) -> int:
    """Re-enable load/store of a function in the error state while DMA stays blocked
    (MPCIFC Reset Block), so a driver can examine MMIO.  Returns 0 or -EIO."""
    req = ZPCI_CREATE_REQ(zdev.fh, 0, ZPCI_MOD_FC_RESET_BLOCK)
    fib = zpci_fib()

    cc, status = machine_mod_fc(req, fib)
    if cc:
        zpci_dbg(3, "rls fid:%x, cc:%d, status:%x\n", zdev.fid, cc, status)
        return -errno.EIO

    return 0


def zpci_is_enabled() -> bool:
    return bool(s390_pci_initialized)


def zpci_cmp_rid(za: zpci_dev, zb: zpci_dev) -> int:
    # PCI functions without RID available maintain original order between themselves
    # but sort before those with RID.
    if za.rid == zb.rid:
        return int(za.rid_available > zb.rid_available)
    # PCI functions with RID sort by RID ascending.
    return int(za.rid > zb.rid)


def zpci_add_devices(scan_list: list[zpci_dev]) -> None:
    # list_sort() is a stable merge sort that asks "a > b?": a three-way key gives the
    # same order
    scan_list.sort(key=functools.cmp_to_key(lambda a, b: zpci_cmp_rid(a, b) - zpci_cmp_rid(b, a)))
    for zdev in list(scan_list):
        scan_list.remove(zdev)
        zpci_add_device(zdev)  # on failure the zdev is dropped (kfree)


def zpci_scan_devices() -> int:
    scan_list: list[zpci_dev] = []

    rc = clp_scan_pci_devices(scan_list)
    if rc:
        return rc

    zpci_add_devices(scan_list)
    zpci_bus_scan_busses()
    return 0


@subsys_initcall
def pci_base_init() -> int:
    """``subsys_initcall_sync(pci_base_init)``.  With no machine installed this process
    has no zPCI hardware, which the model treats as ``pci=off`` (see
    :mod:`kernel.s390.machine`)."""
    global s390_pci_initialized, s390_pci_probe

    m = machine()
    if m is None:
        s390_pci_probe = 0
    if not s390_pci_probe:
        return 0

    assert m is not None
    if not m.test_facility(69) or not m.test_facility(71):
        pr_info("PCI is not supported because CPU facilities 69 or 71 are not available\n")
        return 0

    rc = zpci_debug_init()
    if rc:
        return rc

    # zpci_mem_init(): the FMB cache is not modelled; the iomap table
    zpci_iomap_start[:] = [zpci_iomap_entry() for _ in range(ZPCI_IOMAP_ENTRIES)]
    # zpci_irq_init(): interrupts are not modelled

    rc = zpci_scan_devices()
    if rc:
        # out_find: / out_irq: / out_mem:
        zpci_debug_exit()
        return rc

    s390_pci_initialized = 1
    return 0

