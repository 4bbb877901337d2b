"""PCI v21 3/4 (mainline ad05c16b290b, "PCI: Fail FLR when config space is
inaccessible"): the findings of its automated review
<20260630171310.F25D41F000E9@smtp.kernel.org>, unanswered on the list.

1. [High] pcie_flr()'s -ENOTTY for an inaccessible function lets the reset core give
   up without a reset, and vfio_pci_core_enable() then opens the device with
   ``reset_works`` false.  Holds for a function whose only reset method is FLR -- but
   the base gave the same -ENOTTY, 64 s later (pci_dev_wait() gives up); on s390 the
   per-function hotplug slot's reset comes next and does reset the function.
2. [High] The "Device config space inaccessible" warning is a plain pci_warn(), not
   rate-limited; with the 64 s wait gone, a reset loop can flood the log.  Holds.
"""

from __future__ import annotations

import errno

from kernel.lib import delay
from kernel.lib.printk import (
    DEFAULT_RATELIMIT_BURST,
    DEFAULT_RATELIMIT_INTERVAL_S,
    KERN_WARNING,
    dev_warn_ratelimited,
    dmesg,
)
from kernel.pci import pci
from sim.pci.function import PciFunction
from tests.kernel.pci.test_pci import RootBus

SAVE = " 0000:00:00.0: Device config space inaccessible; unable to save state"
FLR = " 0000:00:00.0: Device config space inaccessible; unable to FLR"
#: What a reset of an inaccessible function costs: the restore's BAR retries.
RESTORE_MS = 6 * 10 * 1


def _warnings() -> list[str]:
    return [line.text for line in dmesg(KERN_WARNING) if line.level == KERN_WARNING]


def test_flr_only_function_in_error_state_is_left_unreset_at_once() -> None:
    """Holds (as in the base, only sooner): FLR is the function's only method; in an
    error state pci_reset_function() returns -ENOTTY without any reset reaching the
    function; the only time spent is the restore's 60 ms (pci_restore_config_dword()
    retries each of the six BARs ten times, 1 ms apart, as they read back all
    ones) -- the base waited 64 s in pci_dev_wait() for the same -ENOTTY.
    vfio_pci_core_enable() turns this into ``reset_works = false``."""
    fn = PciFunction(0x1014, 0x04ED, pm=False)
    dev = RootBus().add(fn)
    assert [pci.pci_reset_fn_methods[m].name for m in dev.reset_methods if m] == ["flr"]
    fn.set_accessible(False)
    t0 = delay.ktime_get_ms()

    assert pci.pci_reset_function(dev) == -errno.ENOTTY

    assert fn.resets == []
    assert delay.ktime_get_ms() - t0 == RESTORE_MS
    assert _warnings() == [SAVE, FLR]


def test_inaccessible_warnings_are_not_ratelimited() -> None:
    """Holds: three bursts' worth of resets within 2 s of simulated time print every
    warning, two per reset, at KERN_WARNING; a rate-limited print at one call site
    would stop at DEFAULT_RATELIMIT_BURST (shown with dev_warn_ratelimited)."""
    fn = PciFunction(0x1014, 0x04ED, pm=False)
    dev = RootBus().add(fn)
    fn.set_accessible(False)
    n = 3 * DEFAULT_RATELIMIT_BURST
    t0 = delay.ktime_get_ms()

    for _ in range(n):
        assert pci.pci_reset_function(dev) == -errno.ENOTTY

    assert delay.ktime_get_ms() - t0 == n * RESTORE_MS < 1000 * DEFAULT_RATELIMIT_INTERVAL_S
    assert _warnings() == [SAVE, FLR] * n

    for _ in range(n):
        dev_warn_ratelimited(dev.dev, "Device config space inaccessible; unable to %s\n", "FLR")
    assert _warnings()[2 * n :] == [FLR] * DEFAULT_RATELIMIT_BURST
