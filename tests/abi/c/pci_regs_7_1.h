/*
 * Definitions of Linux 7.1-rc4's include/uapi/linux/pci_regs.h that Debian's s390x
 * cross headers (a 6.1 header) do not have yet, transcribed from the newer header.
 */
#ifndef PCI_HEADER_TYPE_MFD
#define  PCI_HEADER_TYPE_MFD		0x80	/* Multi-Function Device (possible) */
#endif
#ifndef PCI_CAP_ID_MASK
#define  PCI_CAP_ID_MASK	0x00ff
#endif
#ifndef PCI_CAP_LIST_NEXT_MASK
#define  PCI_CAP_LIST_NEXT_MASK	0xff00
#endif
#ifndef PCI_EXP_FLAGS_FLIT
#define  PCI_EXP_FLAGS_FLIT	0x8000	/* Flit Mode Supported */
#endif
#ifndef PCI_EXT_CAP_ID_VF_REBAR
#define PCI_EXT_CAP_ID_VF_REBAR	0x24	/* VF Resizable BAR */
#endif
#ifndef PCI_EXT_CAP_ID_NPEM
#define PCI_EXT_CAP_ID_NPEM	0x29	/* Native PCIe Enclosure Management */
#endif
#ifndef PCI_EXT_CAP_ID_PL_32GT
#define PCI_EXT_CAP_ID_PL_32GT  0x2A    /* Physical Layer 32.0 GT/s */
#endif
#ifndef PCI_EXT_CAP_ID_PL_64GT
#define PCI_EXT_CAP_ID_PL_64GT	0x31	/* Physical Layer 64.0 GT/s */
#endif
/* 7.1 ends the extended capability list at PL_64GT. */
#undef PCI_EXT_CAP_ID_MAX
#define PCI_EXT_CAP_ID_MAX	PCI_EXT_CAP_ID_PL_64GT
