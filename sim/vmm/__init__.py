"""A QEMU-like VMM (the ``qemu`` actor): vfio-pci pass-through of zPCI functions to a
guest that runs the ported kernel in its own process (:mod:`sim.guest`)."""
