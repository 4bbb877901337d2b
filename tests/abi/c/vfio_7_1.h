/*
 * Definitions of the Linux 7.1-rc4 vfio uAPI that Debian's s390x cross headers
 * (linux-libc-dev-s390x-cross, a 6.1 header) do not have, or have in an older form.
 * Transcribed field by field from include/uapi/linux/vfio.h of 7.1-rc4 so the s390x
 * compiler lays them out; the ABI test compares the fields these share with the
 * real header against the real header too.  Prefix t71_ where the real header has
 * a struct of the same name.
 */
#include <linux/types.h>

/* 7.1 adds a pad member, making the struct 24 bytes instead of 20. */
struct t71_vfio_device_info {
	__u32	argsz;
	__u32	flags;
	__u32	num_regions;
	__u32	num_irqs;
	__u32	cap_offset;
	__u32	pad;
};

#ifndef VFIO_DEVICE_FLAGS_CDX
#define VFIO_DEVICE_FLAGS_CDX	(1 << 8)
#endif
#ifndef VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP
#define VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP	5
#endif

/* Added after 6.1: the iommufd device cdev ioctls. */
struct vfio_device_bind_iommufd {
	__u32		argsz;
	__u32		flags;
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
	__s32		iommufd;
	__u32		out_devid;
	__aligned_u64	token_uuid_ptr;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32	argsz;
	__u32	flags;
#define VFIO_DEVICE_ATTACH_PASID	(1 << 0)
	__u32	pt_id;
	__u32	pasid;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT		_IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32	argsz;
	__u32	flags;
#define VFIO_DEVICE_DETACH_PASID	(1 << 0)
	__u32	pasid;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT		_IO(VFIO_TYPE, VFIO_BASE + 20)

/* Added after 6.1: PCIe AtomicOp completion capability. */
struct vfio_device_info_cap_pci_atomic_comp {
	struct vfio_info_cap_header header;
	__u32 flags;
#define VFIO_PCI_ATOMIC_COMP32	(1 << 0)
#define VFIO_PCI_ATOMIC_COMP64	(1 << 1)
#define VFIO_PCI_ATOMIC_COMP128	(1 << 2)
	__u32 reserved;
};

/* Added after 6.1: migration pre-copy, and device features 9 to 12. */
#define VFIO_MIGRATION_PRE_COPY			(1 << 2)
#define VFIO_MIG_GET_PRECOPY_INFO		_IO(VFIO_TYPE, VFIO_BASE + 21)
#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE	9
#define VFIO_DEVICE_FEATURE_BUS_MASTER		10
#define VFIO_DEVICE_FEATURE_DMA_BUF		11
#define VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2	12
