"""init/main.c: ``start_kernel()``, reduced to what a model kernel in one Python
process needs: forget every trace of a previous boot (log ring, lock graph, which
``WARN_ON_ONCE`` fired, user address space, configuration), re-run the static
initialisers of every kernel module, then the initcalls.

What the previous kernel *reported* -- its lockdep reports and WARNs
(:data:`kernel.lib.lockdep.reports`, :data:`kernel.lib.bug.warnings`) -- survives the
boot, so that a test or a run that boots twice is still judged on the first kernel's
reports; whoever checks them clears them.

:data:`KERNEL_MODULES` lists the modules that make up the kernel image; booting
imports them, so their initcalls are registered even when nobody imported them yet.
"""

from __future__ import annotations

import importlib
from typing import Final

from kernel.lib import bug, kconfig, kobject, lockdep, printk, uaccess
from kernel.lib.init import run_initcalls
from kernel.lib.kconfig import kconfig_defaults

__all__ = ["KERNEL_MODULES", "start_kernel"]

#: The kernel image, in link order.  Every port issue adds its modules here.
KERNEL_MODULES: Final[tuple[str, ...]] = (
    "kernel.pci.search",
    "kernel.pci.access",
    "kernel.pci.probe",
    "kernel.pci.bus",
    "kernel.pci.remove",
    "kernel.pci.pci_driver",
    "kernel.pci.slot",
    "kernel.pci.pci",
    "kernel.pci.hotplug.pci_hotplug_core",
    "kernel.pci.hotplug.rpaphp_slot",
    "kernel.pci.hotplug.s390_pci_hpc",
    "kernel.s390.char.sclp_pci",
    "kernel.s390.cio.chsc",
    "kernel.s390.pci.pci_debug",
    "kernel.s390.pci.pci_clp",
    "kernel.s390.pci.pci",
    "kernel.s390.pci.pci_event",
    "kernel.s390.pci.pci_kvm_hook",
    "kernel.s390.kvm.pci",
    "kernel.lib.fs",
    "kernel.iommu.iommufd.main",
    "kernel.vfio.vfio_main",
    "kernel.vfio.pci.vfio_pci_core",
    "kernel.vfio.pci.vfio_pci",
)


def start_kernel(**config: bool) -> None:
    """Boot a fresh kernel in this process.  ``config`` overrides Kconfig options
    (``start_kernel(CONFIG_VFIO_PCI_ZDEV_KVM=False)``) for this boot."""
    printk.dmesg_clear()
    lockdep.lockdep_reset()
    bug.bug_reset()
    uaccess.user_address_space_reset()
    kobject.kobject_uevents_reset()
    kconfig_defaults()
    for name, value in config.items():
        kconfig.IS_ENABLED(name)  # rejects unknown options
        kconfig._config[name] = value
    for mod in KERNEL_MODULES:
        importlib.import_module(mod)
    run_initcalls()
