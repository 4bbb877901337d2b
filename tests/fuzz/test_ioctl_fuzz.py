"""The ioctl surface of a vfio-pci zPCI function under random operation sequences
(issue 9, item 4), and pread/pwrite of its regions: :mod:`sim.fuzz` runs each
example on a freshly booted machine and checks that only the syscall entry's OSError
comes out, that every errno is one the C can return for the request, the queue
invariants after every step and that every injected record is accounted for.
:data:`~tests.fuzz.strategies.FUZZ_EXAMPLES` examples (800; 2,000 with ``CI=true``),
derandomized; the soak mode is ``python -m tests.fuzz --soak``.  On either tree, on the
uAPI its kernel offers (each example learns it as a program does; the figures test
checks it is the one :mod:`tests.offered` finds).  Both tests are in one xdist group:
the second reads the figures the first made on the same worker."""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings

from sim.fuzz import ALLOWED, Ledger, Op, Stats, run_example
from tests.fuzz.strategies import FUZZ_EXAMPLES, ops
from tests.offered import zpci_err_uapi

pytestmark = pytest.mark.xdist_group("fuzz")

STATS = Stats()


@settings(settings.get_profile("fuzz"))
@given(ops)
def test_random_operation_sequences_keep_every_property(sequence: list[Op]) -> None:
    run_example(sequence, STATS)


def test_the_fuzz_run_reached_every_outcome() -> None:
    """The examples are not vacuous: they ran on the uAPI this tree's kernel
    offers; records were delivered, dropped, cleared at close, lost to EFAULT and never
    stored; GETs returned ENOMSG; SET_IRQS and RESET were both accepted and refused;
    the config region was read and written, and refused while the function was in the
    error state (EIO).  As merged, a NULL data was refused (EINVAL), a lost record
    was logged, and the full-queue line was rate-limited."""
    if STATS.examples == 0:  # run on its own: make the figures
        test_random_operation_sequences_keep_every_property()
    led = STATS.ledger
    kind, _ = zpci_err_uapi()
    assert STATS.uapis == {kind}
    assert STATS.examples >= FUZZ_EXAMPLES
    assert led.injected == led.accounted()
    assert min(led.delivered, led.dropped, led.cleared, led.efault_lost, led.not_stored, led.fmb) > 0
    seen = set(STATS.results)
    assert ("VFIO_DEVICE_FEATURE", "ENOMSG") in seen and ("VFIO_DEVICE_FEATURE", "ok") in seen
    assert ("VFIO_DEVICE_SET_IRQS", "ok") in seen and ("VFIO_DEVICE_SET_IRQS", "EINVAL") in seen
    assert ("VFIO_DEVICE_RESET", "ok") in seen
    assert {("pread", "ok"), ("pwrite", "ok"), ("pread", "EIO"), ("pread", "EINVAL")} <= seen
    assert ("log", "full-queue line") in seen
    if kind == "opaque":
        assert {("log", "lost-record line"), ("log", "full-queue line rate-limited")} <= seen
    else:
        assert not {r for r in seen if r[1].startswith("lost-record")}


def test_allowed_sets_name_a_function_for_every_errno() -> None:
    assert set(ALLOWED) == {"v17", "opaque"}
    for allowed in ALLOWED.values():
        for request, errs in allowed.items():
            assert errs, request
            for err, where in errs.items():
                assert err in errno.errorcode and where, (request, err)
    # the two kernels differ in why, not in which errno: the merged GET reads its
    # struct (EFAULT) and refuses a NULL data (EINVAL), both already in v17's sets
    feature = ALLOWED["opaque"]["VFIO_DEVICE_FEATURE"]
    assert feature.keys() == ALLOWED["v17"]["VFIO_DEVICE_FEATURE"].keys()
    assert "data == 0" in feature[errno.EINVAL] and "copy_from_user of the struct" in feature[errno.EFAULT]


def test_ledger_sums_every_fate() -> None:
    led = Ledger(
        injected=7, fmb=1, not_stored=1, delivered=1, dropped=1, cleared=1, efault_lost=1, still_queued=1
    )
    assert led.accounted() == led.injected
