"""drivers/pci/msi/: PCI MSI and MSI-X."""
