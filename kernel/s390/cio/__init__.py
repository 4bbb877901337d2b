"""arch/s390 and drivers/s390 (see the modules)."""
