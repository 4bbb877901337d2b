"""Every scenario that hands a function to vfio-pci unbinds it at the end of the run,
after the programs have closed it, as an administrator would: a step of ``admin``."""

from __future__ import annotations

import pytest

from sim.scenarios import run_scenario

BINDS_VFIO = {
    "passthrough-userspace": "0000:00:00.0",
    "queue-overflow": "0000:00:00.0",
    "perm-failure": "0000:00:00.0",
    "close-with-pending": "0000:00:00.0",
    "multifunction-reset": "0000:00:00.1",
    "inaccessible-reset": "0000:00:00.0",
    "ism-error-irq": "0000:00:00.0",
    "efault-lost-record": "0000:00:00.0",
}


@pytest.mark.parametrize(("name", "dev"), sorted(BINDS_VFIO.items()))
def test_the_last_step_is_the_unbind_after_the_close(name: str, dev: str) -> None:
    res = run_scenario(name)
    assert res.passed, res.unmet
    last = res.steps[-1]
    assert (last.actor, last.kind, last.text) == (
        "admin",
        "sysfs",
        f"echo {dev} > /sys/bus/pci/drivers/vfio-pci/unbind",
    )
    closes = [s.seq for s in res.steps if s.kind == "close"]
    assert closes and max(closes) < last.seq
    assert [s for s in res.steps if s.actor == "admin"] == [last]


def test_passthrough_kvm_unbinds_after_the_vmm_shut_down() -> None:
    res = run_scenario("passthrough-kvm")
    assert res.passed, res.unmet
    assert [(s.actor, s.kind, s.text) for s in res.steps[-4:]] == [
        ("qemu", "note", "shut down: stop the guest, close the device files"),
        ("qemu", "close", "/dev/vfio/devices/vfio0"),
        ("firmware", "reset", "fid 0x10 reset by the hardware: FLR"),
        ("admin", "sysfs", "echo 0000:00:00.0 > /sys/bus/pci/drivers/vfio-pci/unbind"),
    ]


def test_host_recovery_binds_no_vfio_and_unbinds_nothing() -> None:
    res = run_scenario("host-recovery")
    assert res.passed, res.unmet
    assert [s for s in res.steps if s.actor == "admin"] == []


def test_a_device_still_open_is_not_unbound_and_the_run_fails() -> None:
    """The guard: vfio-pci's remove would wait for the holder forever."""
    from sim.pci.function import PciFunction
    from sim.scenarios import Run, scenario
    from sim.scenarios._common import VIRTIO_NET, bind_vfio_pci
    from sim.userspace.driver import UserDriver

    held: list[UserDriver] = []

    @scenario("test-holds-the-device", "a program keeps the device open past the unbind")
    def holds(r: Run) -> None:
        host = r.boot({0x10: PciFunction(*VIRTIO_NET)})
        drv = UserDriver(bind_vfio_pci(r, host, 0x10))
        drv.open()
        held.append(drv)

    try:
        res = run_scenario("test-holds-the-device")
    finally:
        from sim import scenarios

        scenarios.SCENARIOS.pop("test-holds-the-device", None)
    assert res.unmet == ["fid 0x10 is closed by every program before it is unbound"]
    assert [s for s in res.steps if s.actor == "admin"] == []
