"""sim/faults.py: the faults a test injects into the reset path, and how a guest gets
them from its environment."""

from __future__ import annotations

import pytest

from kernel.s390.pci import pci_event
from sim import faults

ORIG = vars(pci_event)["zpci_hot_reset_device"]


@pytest.fixture(autouse=True)
def restore_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test installs is taken out after it."""
    monkeypatch.setattr(pci_event, "zpci_hot_reset_device", ORIG)


def reset_fn() -> object:
    return vars(pci_event)["zpci_hot_reset_device"]


def test_install_wraps_the_reset_and_remove_puts_it_back() -> None:
    remove = faults.install("abba-reset")
    wrapped = reset_fn()
    assert wrapped is not ORIG
    assert getattr(wrapped, "__name__", None) == "zpci_hot_reset_device"
    remove()
    assert reset_fn() is ORIG


def test_install_from_env_installs_each_named_fault() -> None:
    assert faults.install_from_env({}) == []
    assert faults.install_from_env({faults.ENV: " , "}) == []
    assert reset_fn() is ORIG
    assert faults.install_from_env({faults.ENV: " abba-reset, warn-reset ,"}) == ["abba-reset", "warn-reset"]
    assert reset_fn() is not ORIG


def test_an_unknown_fault_is_refused_before_any_is_installed() -> None:
    with pytest.raises(ValueError) as e:
        faults.install_from_env({faults.ENV: "abba-reset,nope"})
    assert str(e.value) == "unknown fault 'nope'; faults: abba-reset, warn-reset"
    assert reset_fn() is ORIG
    with pytest.raises(ValueError) as e:
        faults.install("nope")
    assert str(e.value) == "unknown fault 'nope'; faults: abba-reset, warn-reset"
