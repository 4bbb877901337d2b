"""drivers/pci/hotplug/: the hotplug core and the s390 and rpaphp slot drivers."""
