"""Kernel infrastructure the ported code calls: errno, locks, printk, kref, eventfd,
uaccess, Kconfig.  Each module stands for one kernel header and says which."""
