"""drivers/pci/: the PCI core (slot.c, pci.c, access.c, probe.c, search.c,
pci-driver.c) and hotplug/."""
