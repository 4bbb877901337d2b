"""include/linux/kconfig.h: ``IS_ENABLED()`` over this model's kernel configuration.

The configuration is that of an s390x distribution kernel as far as the ported code
branches on it.  ``IS_ENABLED(CONFIG_S390)`` reads as in C: each ``CONFIG_*`` name
below is the option's name, and ``IS_ENABLED`` looks its value up when called, so
a test can build "another kernel" with :func:`kconfig_override`.  Booting restores
the defaults.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = [
    "CONFIG_ACPI",
    "CONFIG_CXL_BUS",
    "CONFIG_HOTPLUG_PCI",
    "CONFIG_HOTPLUG_PCI_S390",
    "CONFIG_IOMMUFD",
    "CONFIG_KVM",
    "CONFIG_PCI",
    "CONFIG_PCIEAER",
    "CONFIG_PCI_IOV",
    "CONFIG_S390",
    "CONFIG_VFIO",
    "CONFIG_VFIO_DEVICE_CDEV",
    "CONFIG_VFIO_GROUP",
    "CONFIG_VFIO_PCI",
    "CONFIG_VFIO_PCI_CORE",
    "CONFIG_VFIO_PCI_DMABUF",
    "CONFIG_VFIO_PCI_ZDEV_KVM",
    "IS_ENABLED",
    "kconfig_defaults",
    "kconfig_override",
]

CONFIG_S390: Final = "CONFIG_S390"
CONFIG_PCI: Final = "CONFIG_PCI"
CONFIG_PCI_IOV: Final = "CONFIG_PCI_IOV"
CONFIG_PCIEAER: Final = "CONFIG_PCIEAER"
CONFIG_ACPI: Final = "CONFIG_ACPI"
CONFIG_CXL_BUS: Final = "CONFIG_CXL_BUS"
CONFIG_HOTPLUG_PCI: Final = "CONFIG_HOTPLUG_PCI"
CONFIG_HOTPLUG_PCI_S390: Final = "CONFIG_HOTPLUG_PCI_S390"
CONFIG_KVM: Final = "CONFIG_KVM"
CONFIG_IOMMUFD: Final = "CONFIG_IOMMUFD"
CONFIG_VFIO: Final = "CONFIG_VFIO"
CONFIG_VFIO_DEVICE_CDEV: Final = "CONFIG_VFIO_DEVICE_CDEV"
CONFIG_VFIO_GROUP: Final = "CONFIG_VFIO_GROUP"
CONFIG_VFIO_PCI: Final = "CONFIG_VFIO_PCI"
CONFIG_VFIO_PCI_CORE: Final = "CONFIG_VFIO_PCI_CORE"
CONFIG_VFIO_PCI_ZDEV_KVM: Final = "CONFIG_VFIO_PCI_ZDEV_KVM"
CONFIG_VFIO_PCI_DMABUF: Final = "CONFIG_VFIO_PCI_DMABUF"

#: y/n of an s390x distribution kernel (modules count as enabled: IS_ENABLED is
#: true for =m too).
_DEFAULTS: Final[dict[str, bool]] = {
    CONFIG_S390: True,
    CONFIG_PCI: True,
    CONFIG_PCI_IOV: True,
    CONFIG_PCIEAER: False,
    CONFIG_ACPI: False,
    CONFIG_CXL_BUS: False,
    CONFIG_HOTPLUG_PCI: True,
    CONFIG_HOTPLUG_PCI_S390: True,
    CONFIG_KVM: True,
    CONFIG_IOMMUFD: True,
    CONFIG_VFIO: True,
    # the model builds the vfio device cdev (iommufd) path, not the legacy group path
    CONFIG_VFIO_DEVICE_CDEV: True,
    CONFIG_VFIO_GROUP: False,
    CONFIG_VFIO_PCI: True,
    CONFIG_VFIO_PCI_CORE: True,
    CONFIG_VFIO_PCI_ZDEV_KVM: True,
    CONFIG_VFIO_PCI_DMABUF: False,
}

_config: dict[str, bool] = dict(_DEFAULTS)


def IS_ENABLED(option: str) -> bool:
    try:
        return _config[option]
    except KeyError:
        raise KeyError(f"{option} is not an option this model knows") from None


def kconfig_defaults() -> None:
    """Back to the distribution configuration (boot)."""
    _config.clear()
    _config.update(_DEFAULTS)


@contextmanager
def kconfig_override(**options: bool) -> Iterator[None]:
    """``with kconfig_override(CONFIG_VFIO_PCI_ZDEV_KVM=False): ...``"""
    for name in options:
        if name not in _DEFAULTS:
            raise KeyError(f"{name} is not an option this model knows")
    saved = dict(_config)
    _config.update(options)
    try:
        yield
    finally:
        _config.clear()
        _config.update(saved)
