"""Hypothesis strategies for the ioctl fuzzer (:mod:`sim.fuzz`): operations on the
vfio device of fid 0x10 and firmware error events, and the settings profiles.

The operations lean towards what drives the error queue (well-formed GETs of
``VFIO_DEVICE_FEATURE_ZPCI_ERROR`` and error events) so that queues fill, overflow,
drain and are cleared at close within a short sequence; the rest is any header in any
buffer: argsz from 0 to 2**32-1, any flag bits, feature numbers 0..20 and random,
buffers shorter than argsz, longer, or with a faulting range.  The same operations run
on both uAPIs of the error feature: :data:`~sim.fuzz.RECORD` is the well-formed argsz
and buffer of the kernel's uAPI, and on the merged one ``data`` points to the
example's record buffer (:data:`~sim.fuzz.RECBUF`), is NULL, or any other address,
and the record buffer may fault from any byte on."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import uapi.linux.vfio as V
from sim.fuzz import (
    DEVFD,
    EVENTFD,
    IOMMUFD,
    RECBUF,
    RECORD,
    RECORD_SPARE,
    Close,
    Feature,
    GetInfo,
    GetIrqInfo,
    Inject,
    Op,
    Open,
    Reset,
    Rw,
    SetIrqs,
)

GET, SET, PROBE = V.VFIO_DEVICE_FEATURE_GET, V.VFIO_DEVICE_FEATURE_SET, V.VFIO_DEVICE_FEATURE_PROBE
ZPCI_ERROR = V.VFIO_DEVICE_FEATURE_ZPCI_ERROR
V17_RECORD = 8 + 72  # v17: header + its struct vfio_device_feature_zpci_err

u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
argsz = st.one_of(st.just(RECORD), st.integers(0, 128), u32)
size = st.one_of(st.just(RECORD), st.integers(0, 160))
fault = st.one_of(st.none(), st.tuples(st.integers(0, 160), st.integers(1, 96)))
#: merged uAPI: where the record goes (mostly the example's buffer), and a fault in it
data = st.one_of(st.just(RECBUF), st.just(RECBUF), st.just(0), u64)
data_fault = st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 40), st.integers(1, 64)))

feature_nr = st.one_of(st.just(ZPCI_ERROR), st.integers(0, 20), st.integers(0, 0xFFFF))
feature_flags = st.one_of(
    st.builds(
        lambda nr, bits: nr | bits,
        feature_nr,
        st.sampled_from([0, GET, SET, PROBE, GET | SET, PROBE | GET, PROBE | SET, PROBE | GET | SET]),
    ),
    u32,  # unknown bits too
)

#: A well-formed GET of the error feature, into a buffer that fits, sometimes faulting.
get_error = st.builds(
    Feature,
    st.just(RECORD),
    st.just(GET | ZPCI_ERROR),
    st.sampled_from([RECORD, RECORD_SPARE]),
    st.one_of(st.none(), st.none(), st.none(), st.tuples(st.integers(0, V17_RECORD), st.integers(1, 96))),
    st.one_of(st.just(RECBUF), st.just(RECBUF), st.just(RECBUF), st.just(0), u64),
    data_fault,
)
any_feature = st.builds(Feature, argsz, feature_flags, size, fault, data, data_fault)

irq_word = st.one_of(
    st.sampled_from([EVENTFD, DEVFD, IOMMUFD, -1, -2, 0x7FFFFFFF]), st.integers(-(2**31), 2**31 - 1)
)
irq_flags = st.one_of(
    st.builds(
        lambda d, a: d | a,
        st.sampled_from(
            [V.VFIO_IRQ_SET_DATA_NONE, V.VFIO_IRQ_SET_DATA_BOOL, V.VFIO_IRQ_SET_DATA_EVENTFD, 0, 7]
        ),
        st.sampled_from(
            [V.VFIO_IRQ_SET_ACTION_TRIGGER, V.VFIO_IRQ_SET_ACTION_MASK, V.VFIO_IRQ_SET_ACTION_UNMASK, 0, 0x38]
        ),
    ),
    u32,
)
small = st.one_of(st.integers(0, 4), u32)
set_irqs = st.builds(
    SetIrqs,
    argsz=st.one_of(st.sampled_from([20, 24, 28]), argsz),
    flags=irq_flags,
    index=st.one_of(st.integers(0, 6), u32),
    start=small,
    count=small,
    data=st.lists(irq_word, max_size=3).map(tuple),
    size=st.one_of(st.sampled_from([24, 28]), st.integers(0, 40)),
)
#: well-formed: the error (3) or request (4) eventfd set, cleared (-1), or triggered
good_set_irqs = st.builds(
    lambda index, word, flags: SetIrqs(24, flags, index, 0, 1, (word,), 24),
    st.sampled_from([V.VFIO_PCI_ERR_IRQ_INDEX, V.VFIO_PCI_REQ_IRQ_INDEX]),
    st.sampled_from([EVENTFD, -1, 1 << 24]),
    st.sampled_from(
        [
            V.VFIO_IRQ_SET_DATA_EVENTFD | V.VFIO_IRQ_SET_ACTION_TRIGGER,
            V.VFIO_IRQ_SET_DATA_BOOL | V.VFIO_IRQ_SET_ACTION_TRIGGER,
            V.VFIO_IRQ_SET_DATA_NONE | V.VFIO_IRQ_SET_ACTION_TRIGGER,
        ]
    ),
)
get_irq_info = st.builds(
    GetIrqInfo,
    st.one_of(st.just(16), argsz),
    st.one_of(st.integers(0, 6), u32),
    st.one_of(st.just(16), st.integers(0, 24)),
)
get_info = st.builds(GetInfo, st.one_of(st.sampled_from([24, 512]), argsz), st.one_of(st.just(512), size))

pec = st.one_of(st.sampled_from([0x2A, 0x2B, 0x2C, 0x3A, 0x3A, 0x3B, 0x40]), st.integers(0, 0xFFFF))
ccdf_fields = st.tuples(
    st.integers(0, 15), st.integers(0, 4095), st.integers(0, 255), st.integers(0, 1), st.integers(0, 1)
)
inject = st.builds(Inject, pec, ccdf_fields)

rw = st.builds(
    Rw,
    write=st.booleans(),
    region=st.one_of(
        st.sampled_from([V.VFIO_PCI_CONFIG_REGION_INDEX] * 3 + [0, 6, 8, 9]), st.integers(0, 0xFFFF)
    ),
    offset=st.one_of(st.integers(0, 0x40), st.integers(0, 0x1000), st.integers(0, 2**40 - 1)),
    size=st.one_of(st.sampled_from([1, 2, 4]), st.integers(0, 64)),
    data=st.binary(min_size=0, max_size=64),
)

op: st.SearchStrategy[Op] = st.one_of(
    rw,
    inject,
    inject,
    get_error,
    get_error,
    any_feature,
    set_irqs,
    good_set_irqs,
    get_irq_info,
    get_info,
    st.just(Reset()),
    st.just(Close()),
    st.builds(Open, st.booleans()),
)
#: a burst of errors before userspace looks: fills and overflows the queue
burst = st.lists(inject, min_size=4, max_size=6)
ops: st.SearchStrategy[list[Op]] = st.lists(
    st.one_of(op.map(lambda o: [o]), burst), min_size=1, max_size=12
).map(lambda groups: [o for g in groups for o in g])

#: Examples of the suite's fuzz test: 800 by default (about 15 s; the smallest derandomized
#: run tried that still reaches every outcome test_the_fuzz_run_reached_every_outcome
#: asks for), 2,000 when ``CI=true`` (what CI runs; about 50 s).
FUZZ_EXAMPLES = 2000 if os.environ.get("CI") == "true" else 800

settings.register_profile(
    "fuzz",
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "soak",
    max_examples=200_000,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
