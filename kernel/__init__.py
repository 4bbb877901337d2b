"""The ported kernel: the C of Linux 7.1-rc4 that the v17 series touches, and the code
around it that the series needs to run, translated function by function.

Layout: ``drivers/`` and ``arch/`` are stripped from the C path, the rest is kept
(``drivers/pci/slot.c`` -> ``kernel/pci/slot.py``).  Kernel infrastructure lives in
``kernel/lib/``, one module per header it stands for.  Nothing here imports ``sim``.
"""
