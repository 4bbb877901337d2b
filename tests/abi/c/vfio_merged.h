/*
 * The uAPI of VFIO_DEVICE_FEATURE_ZPCI_ERROR as merged for Linux 7.3 (mainline
 * fa63a2e3f947, "vfio-pci/zdev: Add a device feature for error information", posted as
 * <20260630165553.725-3-alifm@linux.ibm.com>), transcribed field by field under merged_*
 * names so that it can sit beside v17's form:
 *
 * - include/uapi/linux/vfio.h: struct vfio_device_feature_zpci_err, one pointer;
 * - include/uapi/linux/vfio_zdev.h: struct vfio_device_info_cap_zpci_base, version 3
 *   (ccdf_err_length after fh);
 * - arch/s390/include/asm/pci.h: struct zpci_ccdf_err, the record the kernel copies to
 *   the user's buffer (a kernel header; userspace has to carry it).
 *
 * Checked against: the kernel's uapi/ on the merged tree, and the userspace programs'
 * own copies (sim/userspace/zpci_err.py) on every tree.
 */
#include <linux/types.h>

struct merged_vfio_device_feature_zpci_err {
	__aligned_u64 data;
};

struct merged_vfio_device_info_cap_zpci_base {
	struct vfio_info_cap_header header;
	__u64 start_dma;	/* Start of available DMA addresses */
	__u64 end_dma;		/* End of available DMA addresses */
	__u16 pchid;		/* Physical Channel ID */
	__u16 vfn;		/* Virtual function number */
	__u16 fmb_length;	/* Measurement Block Length (in bytes) */
	__u8 pft;		/* PCI Function Type */
	__u8 gid;		/* PCI function group ID */
	/* End of version 1 */
	__u32 fh;		/* PCI function handle */
	/* End of version 2 */
	__u32 ccdf_err_length;	/* PCI CCDF length */
	/* End of version 3 */
};

struct merged_zpci_ccdf_err {
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
} __attribute__((packed));
