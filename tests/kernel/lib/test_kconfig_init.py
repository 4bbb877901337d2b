import pytest

from kernel.init.main import start_kernel
from kernel.lib.kconfig import (
    CONFIG_ACPI,
    CONFIG_S390,
    CONFIG_VFIO_PCI_ZDEV_KVM,
    IS_ENABLED,
    kconfig_override,
)
from kernel.lib.printk import dmesg, pr_info


def test_defaults_are_an_s390x_distribution_kernel() -> None:
    assert IS_ENABLED(CONFIG_S390) and IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM)
    assert not IS_ENABLED(CONFIG_ACPI)


def test_override_and_restore() -> None:
    with kconfig_override(CONFIG_VFIO_PCI_ZDEV_KVM=False):
        assert not IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM)
    assert IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM)
    with pytest.raises(KeyError):
        IS_ENABLED("CONFIG_NOPE")


def test_boot_starts_afresh_with_config() -> None:
    pr_info("before\n")
    start_kernel(CONFIG_VFIO_PCI_ZDEV_KVM=False)
    assert dmesg() == []
    assert not IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM)
    start_kernel()
    assert IS_ENABLED(CONFIG_VFIO_PCI_ZDEV_KVM)
