"""kernel/irq/: the generic IRQ core, as far as the ported code uses it."""
