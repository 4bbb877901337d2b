"""vfio/pci/ (drivers/vfio/pci)"""
