"""sim/diagram.py: a run as a Mermaid sequence diagram."""

from __future__ import annotations

from sim.diagram import escape, mermaid
from sim.timeline import Timeline


def test_escape_replaces_what_mermaid_treats_as_syntax() -> None:
    assert escape('a;b #1 <x> "q"\nz') == "a#59;b #35;1 #lt;x#gt; #quot;q#quot; z"


def test_one_arrow_or_note_per_step_and_participants_as_used() -> None:
    t = Timeline()
    t.record("firmware", "event", "error event PEC 0x3a for fid 0x10")
    t.record("host", "log", "zpci: 0000:00:00.0: Leaving recovery; of pass-through device")
    t.record("host", "irq", "eventfd_signal")
    t.record("user-driver", "ioctl", "VFIO_DEVICE_RESET = 0", request="VFIO_DEVICE_RESET", ret=0)
    t.record("firmware", "clp", "CLP Set PCI Function disable fid 0x10")
    t.record("firmware", "reset", "fid 0x10 reset by the hardware: hot reset")
    text = mermaid(t.steps, "run")
    body = text.split("```mermaid\n", 1)[1].split("```", 1)[0].splitlines()
    assert body == [
        "sequenceDiagram",
        "    participant firmware",
        "    participant host",
        "    participant user_driver as user-driver",
        "    firmware->>host: 1. error event PEC 0x3a for fid 0x10",
        "    Note over host: 2. zpci: 0000:00:00.0: Leaving recovery#59; of pass-through device",
        "    host-)user_driver: 3. eventfd_signal",
        "    user_driver->>host: 4. VFIO_DEVICE_RESET = 0",
        "    host->>firmware: 5. CLP Set PCI Function disable fid 0x10",
        "    Note over firmware: 6. fid 0x10 reset by the hardware: hot reset",
    ]
    assert text.startswith("# run\n")


def test_the_guests_clp_seen_by_the_vmm_is_an_arrow_guest_to_qemu() -> None:
    t = Timeline()
    t.record("qemu", "clp", "guest CLP disable fid 0x10")
    body = mermaid(t.steps).splitlines()
    assert body[2:5] == [
        "    participant qemu",
        "    participant guest",
        "    guest->>qemu: 1. guest CLP disable fid 0x10",
    ]
