/*
 * The v17 series' addition to include/uapi/linux/vfio.h (patch 5/7, "vfio-pci/zdev:
 * Add a device feature for error information"), transcribed field by field.  The
 * userspace programs carry their own copy of it (sim/userspace/zpci_err.py), on the
 * baseline tree too, and the kernel's uapi/linux/vfio.py has it with the series; both
 * are checked against this.
 */
#include <linux/types.h>

struct vfio_device_feature_zpci_err {
	__u32 feature_flags;		/* Indicate future features */
	__u32 reserved1;
	__u32 fh;			/* function handle */
	__u32 fid;			/* function id */
	__u32 ett		:  4;	/* expected table type */
	__u32 mvn		: 12;	/* MSI vector number */
	__u32 dmaas		:  8;	/* DMA address space */
	__u32 reserved2		:  6;
	__u32 q			:  1;	/* event qualifier */
	__u32 rw		:  1;	/* read/write */
	__u64 faddr;			/* failing address */
	__u32 reserved3;
	__u16 reserved4;
	__u16 pec;			/* PCI event code */
	__u8 reserved5[28];		/* Allow for future expansion */
};

#define VFIO_DEVICE_FEATURE_ZPCI_ERROR 13
