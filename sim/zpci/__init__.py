"""The zPCI machine below the kernel: firmware (CLP, MPCIFC, PCI load/store, SCLP, CHSC events)."""
