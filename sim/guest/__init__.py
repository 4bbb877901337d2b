"""The guest of the ``passthrough-kvm`` scenario: the ported kernel booted a second time,
in its own process, on a machine that is the VMM (:mod:`sim.vmm`)."""
