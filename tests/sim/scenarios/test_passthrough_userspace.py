"""sim/scenarios/passthrough_userspace.py: the cover letter's flow with a userspace driver."""

from __future__ import annotations

from sim.scenarios import run_scenario


def test_error_is_left_to_userspace_which_fetches_the_record_and_resets() -> None:
    res = run_scenario("passthrough-userspace")
    assert res.passed, res.failed
    first = res.order(
        ("firmware", "event", "error event PEC 0x3a for fid 0x10"),
        ("host", "log", "zpci: 0000:00:00.0: Event 0x3a reports an error for PCI function 0x10"),
        ("host", "irq", "eventfd_signal"),
        ("host", "log", "zpci: 0000:00:00.0: Leaving recovery of pass-through device to user-space"),
        ("user-driver", "irq", "read eventfd"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3a fid 0x10"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to save state"),
        ("host", "log", "vfio-pci 0000:00:00.0: Device config space inaccessible; unable to FLR"),
        ("firmware", "clp", "CLP Set PCI Function disable fid 0x10"),
        ("firmware", "reset", "fid 0x10 reset by the hardware: hot reset"),
        ("firmware", "clp", "CLP Set PCI Function enable fid 0x10"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
    )
    # the second error recovers the same way
    res.order(
        ("firmware", "event", "error event PEC 0x3d for fid 0x10"),
        ("host", "log", "Leaving recovery of pass-through device to user-space"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = 0 (PEC 0x3d fid 0x10"),
        ("user-driver", "ioctl", "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR) = -ENOMSG"),
        ("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0"),
        after=first[-1],
    )
    # the host never tries to recover the function itself, nor reports records lost
    assert res.find("Initiating reset") is None
    assert res.find("Unhandled PCI error events") is None


def test_ioctl_steps_carry_request_and_result() -> None:
    res = run_scenario("passthrough-userspace")
    gets = [s for s in res.steps if s.request == "VFIO_DEVICE_FEATURE(GET|ZPCI_ERROR)"]
    assert [(s.actor, s.ret, s.fields.get("pec")) for s in gets] == [
        ("user-driver", 0, 0x3A),
        ("user-driver", -42, None),
        ("user-driver", 0, 0x3D),
        ("user-driver", -42, None),
    ]
    resets = [s for s in res.steps if s.request == "VFIO_DEVICE_RESET"]
    assert [s.ret for s in resets] == [0, 0]


def test_runs_are_deterministic() -> None:
    a = [(s.actor, s.kind, s.text) for s in run_scenario("passthrough-userspace").steps]
    b = [(s.actor, s.kind, s.text) for s in run_scenario("passthrough-userspace").steps]
    assert a == b
