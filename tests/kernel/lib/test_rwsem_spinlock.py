import threading
import time

import pytest

from kernel.lib.bug import KernelBug
from kernel.lib.cleanup import guard
from kernel.lib.rwsem import (
    DECLARE_RWSEM,
    down_read,
    down_read_trylock,
    down_write,
    down_write_trylock,
    rwsem_is_locked,
    rwsem_read,
    up_read,
    up_write,
)
from kernel.lib.spinlock import (
    DEFINE_SPINLOCK,
    spin_lock,
    spin_lock_irqsave,
    spin_trylock,
    spin_unlock,
    spin_unlock_irqrestore,
)


def test_readers_share_writer_excludes() -> None:
    sem = DECLARE_RWSEM("pci_bus_sem")
    down_read(sem)
    results: list[int] = []
    t = threading.Thread(target=lambda: results.extend([down_read_trylock(sem), down_write_trylock(sem)]))
    t.start()
    t.join()
    assert results == [1, 0]  # the other reader got in (and left its hold), the writer did not
    up_read(sem)


def test_writer_waits_for_reader() -> None:
    sem = DECLARE_RWSEM("sem")
    order: list[str] = []
    down_read(sem)

    def writer() -> None:
        down_write(sem)
        order.append("writer")
        up_write(sem)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.05)
    order.append("reader done")
    up_read(sem)
    t.join()
    assert order == ["reader done", "writer"]
    assert not rwsem_is_locked(sem)


def test_up_read_without_hold_is_reported() -> None:
    sem = DECLARE_RWSEM("pci_bus_sem")
    with pytest.raises(KernelBug, match="pci_bus_sem"):
        up_read(sem)
    with pytest.raises(KernelBug, match="pci_bus_sem"):
        up_write(sem)


def test_rwsem_guard() -> None:
    sem = DECLARE_RWSEM("pci_bus_sem")
    with guard(rwsem_read)(sem):
        assert rwsem_is_locked(sem)
    assert not rwsem_is_locked(sem)


def test_spinlock_irqsave_round_trip_and_misuse() -> None:
    lock = DEFINE_SPINLOCK("zdev->dom_lock")
    flags = spin_lock_irqsave(lock)
    assert spin_trylock(lock) == 0
    spin_unlock_irqrestore(lock, flags)
    spin_lock(lock)
    spin_unlock(lock)
    with pytest.raises(KernelBug, match="zdev->dom_lock"):
        spin_unlock(lock)
