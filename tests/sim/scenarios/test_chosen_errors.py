"""Every scenario that injects errors takes the user's choice (``zpcisim run NAME --pec
HEX --errors N --fid HEX``) and its expectations follow it: non-default runs pass,
and show what the kernel does with those errors."""

from __future__ import annotations

import pytest

from sim.scenarios import Result, load, run_scenario
from sim.scenarios._common import Mediated, mediated
from tests.offered import full_queue_line

WITH_ERRORS = [
    "passthrough-kvm",
    "passthrough-userspace",
    "host-recovery",
    "queue-overflow",
    "perm-failure",
    "close-with-pending",
    "inaccessible-reset",
    "ism-error-irq",
    "efault-lost-record",
]


def texts(res: Result, actor: str, kind: str, start: str = "") -> list[str]:
    return [s.text for s in res.steps if s.actor == actor and s.kind == kind and s.text.startswith(start)]


def passed(name: str, **choice: int) -> Result:
    res = run_scenario(name, **choice)  # type: ignore[arg-type]
    assert res.passed, res.unmet
    return res


def test_every_scenario_that_injects_errors_takes_a_choice() -> None:
    scenarios = load()
    assert [n for n, sc in scenarios.items() if sc.errors is not None] == WITH_ERRORS
    assert [n for n, sc in scenarios.items() if sc.errors is None] == ["multifunction-reset"]


@pytest.mark.parametrize(
    ("pecs", "expected"),
    [
        ([0x3A, 0x3D], Mediated((0x3A, 0x3D), 0, 2, 2, False, True)),
        ([0x3A] * 6, Mediated((0x3A,) * 4, 2, 6, 6, False, True)),
        ([0x2A, 0x2B, 0x2C], Mediated((), 0, 0, 0, False, False)),
        ([0x40, 0x3A, 0x3B], Mediated((0x40, 0x3A, 0x3B), 0, 0, 3, True, True)),
        ([0x3A, 0x40, 0x3A], Mediated((0x3A, 0x40, 0x3A), 0, 1, 3, True, True)),
        ([0x3A, 0x2A, 0x3D], Mediated((0x3A, 0x3D), 0, 2, 2, False, True)),
    ],
)
def test_the_oracle_follows_zpci_event_error(pecs: list[int], expected: Mediated) -> None:
    assert mediated(pecs) == expected


def test_mediated_counts_what_is_already_queued() -> None:
    assert mediated([0x3A, 0x3D], queued=3) == Mediated((0x3A,), 1, 2, 2, False, True)


def test_passthrough_kvm_two_errors_of_pec_0x3d_per_round() -> None:
    res = passed("passthrough-kvm", count=2, pec=0x3D)
    assert texts(res, "firmware", "event", "error event") == [
        "error event PEC 0x3d for fid 0x10 (fh 0x80010001)",
        "error event PEC 0x3d for fid 0x10 (fh 0x80010001)",
        "error event PEC 0x3d for fid 0x10 (fh 0x80030001)",
        "error event PEC 0x3d for fid 0x10 (fh 0x80030001)",
    ]
    assert texts(res, "qemu", "irq", "read eventfd") == ["read eventfd: counter 2"] * 2
    assert (
        texts(res, "qemu", "event")
        == ["inject error event into the guest: PEC 0x3d fh 0x80000001 fid 0x10"] * 4
    )
    # the guest recovers once per event; only its first reset meets the error state
    assert (
        texts(res, "qemu", "clp", "guest CLP disable")
        == [
            "guest CLP disable fid 0x10 (ZPCI_FS_ERROR)",
            "guest CLP disable fid 0x10 (ZPCI_FS_ENABLED)",
        ]
        * 2
    )
    assert texts(res, "qemu", "ioctl", "VFIO_DEVICE_RESET") == ["VFIO_DEVICE_RESET = 0"] * 2
    assert (
        texts(res, "guest", "log", "zpci: 0000:00:00.0: The device")
        == ["zpci: 0000:00:00.0: The device is ready to resume operations"] * 4
    )


def test_passthrough_kvm_six_errors_drop_two_per_round() -> None:
    res = passed("passthrough-kvm", count=6)
    _, full = full_queue_line()  # v17: pr_err; as merged: dev_warn_ratelimited on the device
    assert texts(res, "host", "log", full) == [full] * 4
    gets = texts(res, "qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0")
    assert [g.split("(PEC ")[1][:4] for g in gets] == ["0x3a", "0x3d"] * 4


def test_passthrough_kvm_pec_0x40_reaches_the_guest_which_gives_up() -> None:
    res = passed("passthrough-kvm", pec=0x40)
    assert texts(res, "firmware", "event", "error event") == [
        "error event PEC 0x40 for fid 0x10 (fh 0x80010001)"
    ]
    assert res.find("Leaving recovery") is None
    assert res.find("VFIO_DEVICE_RESET") is None
    res.order(
        ("qemu", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x40 fid 0x10"),
        ("qemu", "event", "inject error event into the guest: PEC 0x40"),
        ("guest", "log", "zpci: 0000:00:00.0: Event 0x40 reports an error for PCI function 0x10"),
        ("guest", "log", "nvme-like 0000:00:00.0: permanent failure detected, giving up on the controller"),
        ("qemu", "note", "fid 0x10 failed for good: the run ends after this round"),
        ("qemu", "note", "shut down: stop the guest, close the device files"),
    )


def test_passthrough_kvm_fmb_pec_reaches_neither_vmm_nor_guest() -> None:
    res = passed("passthrough-kvm", pec=0x2A)
    assert (
        texts(res, "host", "log", "zpci: 0000:00:00.0: Event")
        == ["zpci: 0000:00:00.0: Event 0x2a reports an error for PCI function 0x10"] * 2
    )
    assert texts(res, "qemu", "irq") == []
    assert texts(res, "guest", "log", "zpci: 0000:00:00.0: Event") == []


def test_passthrough_userspace_six_errors_overflow_and_pec_0x40_fails_for_good() -> None:
    res = passed("passthrough-userspace", count=6)
    _, full = full_queue_line()  # v17: pr_err; as merged: dev_warn_ratelimited on the device
    assert texts(res, "host", "log", full) == [full] * 4
    res = passed("passthrough-userspace", pec=0x40)
    assert texts(res, "user-driver", "ioctl", "VFIO_DEVICE_RESET") == ["VFIO_DEVICE_RESET = -EIO"]


def test_host_recovery_three_errors_per_round_on_another_fid() -> None:
    res = passed("host-recovery", count=3, fid=0x20)
    assert (
        texts(res, "host", "log", "zpci: 0000:00:00.0: Initiating reset")
        == ["zpci: 0000:00:00.0: Initiating reset"] * 3
    )
    assert texts(res, "firmware", "clp", "MPCIFC Reset Block") == ["MPCIFC Reset Block fid 0x20: cc 0"] * 3
    unsupported = (
        "zpci: 0001:00:00.0: The plain-nic driver bound to the device does not support error recovery"
    )
    assert texts(res, "host", "log", unsupported) == [unsupported]  # then it is perm_failure: no retry


def test_host_recovery_pec_0x40_the_driver_gives_up_and_gets_no_second_round() -> None:
    res = passed("host-recovery", pec=0x40)
    assert texts(res, "host", "log", "nvme-like") == [
        "nvme-like 0000:00:00.0: controller enabled (CC 0x00460001)",
        "nvme-like 0000:00:00.0: permanent failure detected, giving up on the controller",
    ]
    assert texts(res, "host", "note") == ["fid 0x10 failed for good: no second round"]
    assert res.find("Initiating reset") is None and res.find("does not support error recovery") is None


def test_host_recovery_fmb_pec_changes_nothing() -> None:
    res = passed("host-recovery", pec=0x2B)
    assert len(texts(res, "host", "log", "zpci: 0000:00:00.0: Event 0x2b")) == 2
    assert texts(res, "host", "log", "nvme-like") == [
        "nvme-like 0000:00:00.0: controller enabled (CC 0x00460001)"
    ]


@pytest.mark.parametrize(("count", "dropped"), [(2, 0), (4, 0), (5, 1), (9, 5)])
def test_queue_overflow_drops_what_finds_four_queued(count: int, dropped: int) -> None:
    res = passed("queue-overflow", count=count)
    _, full = full_queue_line()  # v17: pr_err; as merged: dev_warn_ratelimited on the device
    assert texts(res, "host", "log", full) == [full] * dropped
    assert texts(res, "user-driver", "irq") == [f"read eventfd: counter {count}"]
    assert len(texts(res, "user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0")) == min(count, 4)


def test_queue_overflow_permanent_failure_is_stored_not_left_to_userspace() -> None:
    res = passed("queue-overflow", pec=0x3B)
    assert res.find("Leaving recovery") is None
    assert len(texts(res, "user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3b")) == 4
    assert texts(res, "user-driver", "ioctl", "VFIO_DEVICE_RESET") == ["VFIO_DEVICE_RESET = -EIO"]


def test_queue_overflow_fmb_pec_is_neither_stored_nor_signalled() -> None:
    res = passed("queue-overflow", pec=0x2C)
    assert texts(res, "host", "irq") == []
    assert texts(res, "user-driver", "irq") == []
    assert texts(res, "user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET") == []


def test_perm_failure_takes_only_permanent_pecs() -> None:
    with pytest.raises(ValueError, match=r"^--pec 0x3a: the scenario takes 0x3b, 0x40$"):
        run_scenario("perm-failure", pec=0x3A)
    res = passed("perm-failure", pec=0x3B, count=2)
    assert (
        texts(res, "host", "log", "nvme-like 0001:00:00.0: permanent")
        == ["nvme-like 0001:00:00.0: permanent failure detected, giving up on the controller"] * 2
    )
    assert len(texts(res, "user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3b")) == 2


def test_close_with_pending_counts_what_was_queued() -> None:
    res = passed("close-with-pending", count=7, fid=0x21)
    assert texts(res, "host", "log", "zpci: Unhandled") == [
        "zpci: Unhandled PCI error events count=4 for PCI function 0x21"
    ]
    res = passed("close-with-pending", pec=0x2A)
    assert texts(res, "host", "log", "zpci: Unhandled") == []


def test_close_with_pending_after_a_permanent_failure_the_next_open_fails() -> None:
    res = passed("close-with-pending", pec=0x40)
    res.order(
        ("host", "log", "zpci: Unhandled PCI error events count=2 for PCI function 0x10"),
        ("user-driver", "ioctl", "VFIO_DEVICE_BIND_IOMMUFD = -ENODEV"),
    )


def test_ism_error_irq_six_errors() -> None:
    res = passed("ism-error-irq", count=6)
    assert texts(res, "user-driver", "irq") == ["read eventfd: counter 6"]
    assert texts(res, "host", "log", full_queue_line()[1]) == [full_queue_line()[1]] * 2


@pytest.mark.parametrize(("count", "after"), [(1, []), (5, ["0x3d", "0x3a", "0x3d"])])
def test_efault_loses_the_oldest_record_and_the_rest_follow(count: int, after: list[str]) -> None:
    res = passed("efault-lost-record", count=count)
    gets = texts(res, "user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)")
    assert gets[0] == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -EFAULT"
    assert [g.split("(PEC ")[1][:4] for g in gets[1:-1]] == after
    assert gets[-1] == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"


def test_efault_on_an_empty_queue_loses_nothing() -> None:
    res = passed("efault-lost-record", pec=0x2A)
    assert texts(res, "user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)") == [
        "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG",
        "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG",
    ]


@pytest.mark.parametrize("name", ["host-recovery", "perm-failure"])
def test_the_other_functions_fid_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"^--fid 0x11: the scenario's other function has that fid$"):
        run_scenario(name, fid=0x11)


def test_list_names_the_errors_of_each_and_the_pecs_perm_failure_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sim.cli import main

    assert main(["list", "--width", "250"]) == 0
    out = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()}
    assert out["perm-failure"].endswith(
        "[errors: 2 rounds of 1 (fid 0x10, 0x11), PEC 0x40 0x3b in turn; --pec 0x3b|0x40]"
    )
    assert out["queue-overflow"].endswith(
        "[errors: 1 round of 6 on fid 0x10, PEC 0x3a 0x3c 0x3d 0x3e 0x3f 0x41 in turn]"
    )
    assert out["ism-error-irq"].endswith("[errors: 1 round of 1 on fid 0x30, PEC 0x3a]")
    assert [n for n, ln in out.items() if not ln.endswith("]")] == ["multifunction-reset"]
