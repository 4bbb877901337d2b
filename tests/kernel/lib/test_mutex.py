import threading

import pytest

from kernel.lib import bug, lockdep
from kernel.lib.bug import KernelBug
from kernel.lib.cleanup import guard, scoped_guard
from kernel.lib.mutex import (
    DEFINE_MUTEX,
    lockdep_assert_held,
    mutex,
    mutex_init,
    mutex_is_locked,
    mutex_lock,
    mutex_trylock,
    mutex_unlock,
)


def test_lock_unlock_and_is_locked() -> None:
    m = DEFINE_MUTEX("test_mutex")
    assert not mutex_is_locked(m)
    mutex_lock(m)
    assert mutex_is_locked(m)
    mutex_unlock(m)
    assert not mutex_is_locked(m)


def test_trylock_fails_while_held_by_another_thread() -> None:
    m = DEFINE_MUTEX("test_mutex")
    mutex_lock(m)
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(mutex_trylock(m)))
    t.start()
    t.join()
    assert got == [0]
    mutex_unlock(m)
    assert mutex_trylock(m) == 1
    assert mutex_trylock(m) == 0  # held by this very thread: trylock fails, no deadlock
    mutex_unlock(m)


def test_guard_releases_on_exception() -> None:
    m = DEFINE_MUTEX("zdev->pending_errs_lock")
    with pytest.raises(ZeroDivisionError), guard(mutex)(m):
        assert mutex_is_locked(m)
        _ = 1 / 0
    assert not mutex_is_locked(m)
    assert not lockdep.lock_is_held(m)


def test_guard_releases_on_return() -> None:
    m = DEFINE_MUTEX("test_mutex")

    def f() -> int:
        with scoped_guard(mutex, m):
            return 7

    assert f() == 7
    assert not mutex_is_locked(m)


def test_unlock_by_non_owner_is_reported_naming_the_lock() -> None:
    m = DEFINE_MUTEX("zdev->state_lock")
    mutex_lock(m)
    errors: list[BaseException] = []

    def other() -> None:
        try:
            mutex_unlock(m)
        except KernelBug as e:
            errors.append(e)

    t = threading.Thread(target=other, name="intruder")
    t.start()
    t.join()
    assert len(errors) == 1
    assert "zdev->state_lock" in str(errors[0]) and "intruder" in str(errors[0])
    assert mutex_is_locked(m)  # still held by its owner
    mutex_unlock(m)


def test_unlock_of_unlocked_mutex_is_reported() -> None:
    m = DEFINE_MUTEX("pci_slot_mutex")
    with pytest.raises(KernelBug, match="pci_slot_mutex"):
        mutex_unlock(m)


def test_recursive_lock_is_reported_instead_of_hanging() -> None:
    m = DEFINE_MUTEX("pci_slot_mutex")
    mutex_lock(m)
    with pytest.raises(KernelBug, match=r"recursive locking.*pci_slot_mutex"):
        mutex_lock(m)
    mutex_unlock(m)


def test_mutex_init_of_a_held_mutex_is_a_bug() -> None:
    m = DEFINE_MUTEX("m")
    mutex_lock(m)
    with pytest.raises(KernelBug):
        mutex_init(m)
    mutex_unlock(m)
    mutex_init(m)


def test_lockdep_assert_held_warns_when_not_held() -> None:
    m = DEFINE_MUTEX("zdev->state_lock")
    mutex_lock(m)
    lockdep_assert_held(m)
    mutex_unlock(m)
    assert bug.warnings == []
    lockdep_assert_held(m)
    assert len(bug.warnings) == 1 and "zdev->state_lock" in bug.warnings[0]
    bug.warnings.clear()
