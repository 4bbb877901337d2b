"""queue-overflow: six errors arrive before userspace reads any.  The host queues at
most ZPCI_ERR_PENDING_MAX (4) records per function: the first four are delivered in
order (FIFO), the fifth and sixth are logged ("Maximum number (4) of pending error
events queued") and dropped -- recovery stays with userspace all the same.

The errors can be chosen (``zpcisim run queue-overflow --errors N --pec HEX --fid
HEX``); the expectations follow them (:func:`sim.scenarios._common.mediated`): N of
four or fewer do not overflow; a permanent-failure PEC (0x40, 0x3b) is stored and
signalled but not left to userspace, and the reset fails; a PEC that concerns the
measurement block (0x2a-0x2c) is neither stored nor signalled.
"""

from __future__ import annotations

from typing import Final

from sim.pci.function import PciFunction
from sim.scenarios import Errors, Run, scenario
from sim.scenarios._common import VIRTIO_NET, open_user_driver, user_recovery

FID: Final = 0x10
PECS: Final = (0x3A, 0x3C, 0x3D, 0x3E, 0x3F, 0x41)


@scenario(
    "queue-overflow",
    "more than four errors before userspace reads: four are delivered, the rest dropped",
    errors=Errors(pecs=PECS, count=len(PECS), fid=FID),
)
def run(r: Run) -> None:
    fid = r.errors.fid
    pecs = r.errors.all_pecs()
    host = r.boot({fid: PciFunction(*VIRTIO_NET)})
    drv = open_user_driver(r, host, fid)
    start = r.timeline.steps[-1].seq
    user_recovery(r, host, drv, fid, pecs, start=start)
