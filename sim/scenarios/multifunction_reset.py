"""multifunction-reset (v17 1/7, "PCI: Allow per function PCI slots to fix slot reset
on s390"): a two-function device (fids 0x20 and 0x21, devfn 0 and 1, one PCHID, so
one PCI domain).  Neither function has FLR or a PM reset, so a function reset of
function 1 must go through its hotplug slot.  On s390 each function has a slot of its
own: VFIO_DEVICE_RESET of function 1 hot-resets function 1 only, and the state the
host programmed into function 0 is still there afterwards.

Without patch 1 (``zpcisim run multifunction-reset --kernel baseline``) the function
has no reset the kernel can use: VFIO_DEVICE_RESET fails with -EINVAL, and the run
names that and every other expectation that then does not hold.
"""

from __future__ import annotations

from typing import Final

from kernel.lib.errno import errname
from kernel.pci.access import pci_read_config_dword, pci_write_config_dword
from sim.host import Host
from sim.pci.function import SCRATCH_OFFSET, PciFunction
from sim.scenarios import Run, scenario
from sim.scenarios._common import bind_vfio_pci
from sim.userspace.driver import UserDriver
from sim.zpci.firmware import ZpciFirmware

FN0: Final = 0x20
FN1: Final = 0x21
MARK: Final = 0x5A5A0001


@scenario(
    "multifunction-reset",
    "patch 1: resetting one function of a multifunction device resets that function only",
)
def run(r: Run) -> None:
    fw = ZpciFirmware()
    f0 = PciFunction(0x1AF4, 0x1041, multifunction=True, flr=False, no_soft_reset=True)
    f1 = PciFunction(0x1AF4, 0x1041, multifunction=True, flr=False, no_soft_reset=True)
    fw.add_function(FN0, f0, pchid=0x100, devfn=0)
    fw.add_function(FN1, f1, pchid=0x100, devfn=1)
    r.record(fw)
    fw.boot()
    host = Host(fw)
    pdev0 = host.pdev(FN0)
    pci_write_config_dword(pdev0, SCRATCH_OFFSET, MARK)
    r.note(f"the host programs function 0 (fid 0x{FN0:x}): scratch register = 0x{MARK:08x}")

    drv = UserDriver(bind_vfio_pci(r, host, FN1))
    drv.open()
    r.on_exit(drv.close)
    start = r.timeline.steps[-1].seq
    try:
        rc = drv.reset()
    except OSError as e:  # a kernel without patch 1 has no reset for the function: -EINVAL
        rc = -(e.errno or 0)
    r.expect(
        rc == 0,
        "VFIO_DEVICE_RESET of function 1 succeeds" + (f" (it returned -{errname(rc)})" if rc else ""),
    )
    r.expect_order(
        ("host", "log", "vfio-pci 0000:00:00.1: resetting"),
        ("firmware", "clp", f"CLP Set PCI Function disable fid 0x{FN1:x}"),
        ("firmware", "reset", f"fid 0x{FN1:x} reset by the hardware: hot reset"),
        ("firmware", "clp", f"CLP Set PCI Function enable fid 0x{FN1:x}"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        after=start,
    )
    r.expect(r.find(f"fid 0x{FN0:x} reset") is None, "function 0 is never reset")
    r.expect(r.find(f"CLP Set PCI Function disable fid 0x{FN0:x}") is None, "function 0 is never disabled")
    r.expect(f0.resets == [] and "hot" in f1.resets, "the model: only function 1 went through a reset")
    r.expect(pci_read_config_dword(pdev0, SCRATCH_OFFSET)[1] == MARK, "function 0 keeps its state")
