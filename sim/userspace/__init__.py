"""Programs above the kernel and the system-call entry they use."""
