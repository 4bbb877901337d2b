"""The world around the kernel: the zPCI machine below it (firmware, PCI functions)
and the programs above it (a QEMU-like VMM, a guest, a userspace driver, scenarios,
the ``zpcisim`` command line)."""

__version__ = "0.1.0"
