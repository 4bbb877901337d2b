"""include/uapi/linux/pci_regs.h (Linux 7.1-rc4): PCI configuration-space register
offsets and bits.  Not changed by the v17 series.

Only the registers the PCI core, vfio and the PCI function model use are carried
(standard header, capability list, PM, MSI, MSI-X, AF, PCI Express capability, the
extended-capability header helpers).  Values are exactly the header's; the
``PCI_EXT_CAP_*`` function-like macros are functions.  Bridge (type 1) and CardBus
(type 2) header registers, AGP, VPD, EA, PCI-X, AER and the other extended
capabilities' register layouts are left out: nothing in the port reads them.
"""

from __future__ import annotations

from typing import Final

# Conventional PCI / PCI-X Mode 1 functions have 256 bytes of configuration space;
# PCI-X Mode 2 and PCI Express functions have 4096.
PCI_CFG_SPACE_SIZE: Final = 256
PCI_CFG_SPACE_EXP_SIZE: Final = 4096

# The first 64 bytes are the standardised header.
PCI_STD_HEADER_SIZEOF: Final = 64
PCI_STD_NUM_BARS: Final = 6  # number of standard BARs
PCI_VENDOR_ID: Final = 0x00  # 16 bits
PCI_DEVICE_ID: Final = 0x02  # 16 bits
PCI_COMMAND: Final = 0x04  # 16 bits
PCI_COMMAND_IO: Final = 0x1  # respond to I/O space accesses
PCI_COMMAND_MEMORY: Final = 0x2  # respond to memory space accesses
PCI_COMMAND_MASTER: Final = 0x4  # bus mastering
PCI_COMMAND_SPECIAL: Final = 0x8  # special cycles
PCI_COMMAND_INVALIDATE: Final = 0x10  # memory write and invalidate
PCI_COMMAND_VGA_PALETTE: Final = 0x20  # palette snooping
PCI_COMMAND_PARITY: Final = 0x40  # parity checking
PCI_COMMAND_WAIT: Final = 0x80  # address/data stepping
PCI_COMMAND_SERR: Final = 0x100  # SERR
PCI_COMMAND_FAST_BACK: Final = 0x200  # back-to-back writes
PCI_COMMAND_INTX_DISABLE: Final = 0x400  # INTx emulation disable

PCI_STATUS: Final = 0x06  # 16 bits
PCI_STATUS_IMM_READY: Final = 0x01  # immediate readiness
PCI_STATUS_INTERRUPT: Final = 0x08  # interrupt status
PCI_STATUS_CAP_LIST: Final = 0x10  # capability list present
PCI_STATUS_66MHZ: Final = 0x20
PCI_STATUS_UDF: Final = 0x40
PCI_STATUS_FAST_BACK: Final = 0x80
PCI_STATUS_PARITY: Final = 0x100  # detected parity error
PCI_STATUS_DEVSEL_MASK: Final = 0x600
PCI_STATUS_DEVSEL_FAST: Final = 0x000
PCI_STATUS_DEVSEL_MEDIUM: Final = 0x200
PCI_STATUS_DEVSEL_SLOW: Final = 0x400
PCI_STATUS_SIG_TARGET_ABORT: Final = 0x800
PCI_STATUS_REC_TARGET_ABORT: Final = 0x1000
PCI_STATUS_REC_MASTER_ABORT: Final = 0x2000
PCI_STATUS_SIG_SYSTEM_ERROR: Final = 0x4000
PCI_STATUS_DETECTED_PARITY: Final = 0x8000

PCI_CLASS_REVISION: Final = 0x08  # high 24 bits class, low 8 revision
PCI_REVISION_ID: Final = 0x08
PCI_CLASS_PROG: Final = 0x09  # programming interface
PCI_CLASS_DEVICE: Final = 0x0A  # device class

PCI_CACHE_LINE_SIZE: Final = 0x0C  # 8 bits
PCI_LATENCY_TIMER: Final = 0x0D  # 8 bits
PCI_HEADER_TYPE: Final = 0x0E  # 8 bits
PCI_HEADER_TYPE_MASK: Final = 0x7F
PCI_HEADER_TYPE_NORMAL: Final = 0
PCI_HEADER_TYPE_BRIDGE: Final = 1
PCI_HEADER_TYPE_CARDBUS: Final = 2
PCI_HEADER_TYPE_MFD: Final = 0x80  # multi-function device (possible)

PCI_BIST: Final = 0x0F  # 8 bits
PCI_BIST_CODE_MASK: Final = 0x0F
PCI_BIST_START: Final = 0x40
PCI_BIST_CAPABLE: Final = 0x80

# Base address registers.  Writing all ones and reading back gives the decoded size.
PCI_BASE_ADDRESS_0: Final = 0x10  # 32 bits
PCI_BASE_ADDRESS_1: Final = 0x14
PCI_BASE_ADDRESS_2: Final = 0x18
PCI_BASE_ADDRESS_3: Final = 0x1C
PCI_BASE_ADDRESS_4: Final = 0x20
PCI_BASE_ADDRESS_5: Final = 0x24
PCI_BASE_ADDRESS_SPACE: Final = 0x01  # 0 = memory, 1 = I/O
PCI_BASE_ADDRESS_SPACE_IO: Final = 0x01
PCI_BASE_ADDRESS_SPACE_MEMORY: Final = 0x00
PCI_BASE_ADDRESS_MEM_TYPE_MASK: Final = 0x06
PCI_BASE_ADDRESS_MEM_TYPE_32: Final = 0x00
PCI_BASE_ADDRESS_MEM_TYPE_1M: Final = 0x02
PCI_BASE_ADDRESS_MEM_TYPE_64: Final = 0x04
PCI_BASE_ADDRESS_MEM_PREFETCH: Final = 0x08
PCI_BASE_ADDRESS_MEM_MASK: Final = ~0x0F & 0xFFFFFFFFFFFFFFFF  # (~0x0fUL)
PCI_BASE_ADDRESS_IO_MASK: Final = ~0x03 & 0xFFFFFFFFFFFFFFFF  # (~0x03UL)

# Header type 0 (normal devices)
PCI_CARDBUS_CIS: Final = 0x28
PCI_SUBSYSTEM_VENDOR_ID: Final = 0x2C
PCI_SUBSYSTEM_ID: Final = 0x2E
PCI_ROM_ADDRESS: Final = 0x30
PCI_ROM_ADDRESS_ENABLE: Final = 0x01
PCI_ROM_ADDRESS_MASK: Final = ~0x7FF & 0xFFFFFFFF  # (~0x7ffU)

PCI_CAPABILITY_LIST: Final = 0x34  # offset of the first capability

PCI_INTERRUPT_LINE: Final = 0x3C  # 8 bits
PCI_INTERRUPT_PIN: Final = 0x3D  # 8 bits
PCI_MIN_GNT: Final = 0x3E
PCI_MAX_LAT: Final = 0x3F

# Header type 1 (PCI-to-PCI bridges): only what pci_is_bridge() callers read.
PCI_PRIMARY_BUS: Final = 0x18
PCI_SECONDARY_BUS: Final = 0x19
PCI_SUBORDINATE_BUS: Final = 0x1A
PCI_BRIDGE_CONTROL: Final = 0x3E
PCI_BRIDGE_CTL_BUS_RESET: Final = 0x40  # secondary bus reset

# Capability lists
PCI_CAP_ID_MASK: Final = 0x00FF
PCI_CAP_LIST_NEXT_MASK: Final = 0xFF00

PCI_CAP_LIST_ID: Final = 0  # capability ID
PCI_CAP_ID_PM: Final = 0x01  # power management
PCI_CAP_ID_AGP: Final = 0x02
PCI_CAP_ID_VPD: Final = 0x03
PCI_CAP_ID_SLOTID: Final = 0x04
PCI_CAP_ID_MSI: Final = 0x05  # message signalled interrupts
PCI_CAP_ID_CHSWP: Final = 0x06
PCI_CAP_ID_PCIX: Final = 0x07
PCI_CAP_ID_HT: Final = 0x08
PCI_CAP_ID_VNDR: Final = 0x09  # vendor specific
PCI_CAP_ID_DBG: Final = 0x0A
PCI_CAP_ID_CCRC: Final = 0x0B
PCI_CAP_ID_SHPC: Final = 0x0C
PCI_CAP_ID_SSVID: Final = 0x0D
PCI_CAP_ID_AGP3: Final = 0x0E
PCI_CAP_ID_SECDEV: Final = 0x0F
PCI_CAP_ID_EXP: Final = 0x10  # PCI Express
PCI_CAP_ID_MSIX: Final = 0x11  # MSI-X
PCI_CAP_ID_SATA: Final = 0x12
PCI_CAP_ID_AF: Final = 0x13  # advanced features
PCI_CAP_ID_EA: Final = 0x14  # enhanced allocation
PCI_CAP_ID_MAX: Final = PCI_CAP_ID_EA
PCI_CAP_LIST_NEXT: Final = 1  # next capability in the list
PCI_CAP_FLAGS: Final = 2  # capability-defined flags (16 bits)
PCI_CAP_SIZEOF: Final = 4

# Power management registers
PCI_PM_PMC: Final = 2  # PM capabilities
PCI_PM_CAP_VER_MASK: Final = 0x0007
PCI_PM_CAP_PME_CLOCK: Final = 0x0008
PCI_PM_CAP_RESERVED: Final = 0x0010
PCI_PM_CAP_DSI: Final = 0x0020
PCI_PM_CAP_AUX_POWER: Final = 0x01C0
PCI_PM_CAP_D1: Final = 0x0200
PCI_PM_CAP_D2: Final = 0x0400
PCI_PM_CAP_PME: Final = 0x0800
PCI_PM_CAP_PME_MASK: Final = 0xF800
PCI_PM_CAP_PME_D0: Final = 0x0800
PCI_PM_CAP_PME_D1: Final = 0x1000
PCI_PM_CAP_PME_D2: Final = 0x2000
PCI_PM_CAP_PME_D3hot: Final = 0x4000
PCI_PM_CAP_PME_D3cold: Final = 0x8000
PCI_PM_CAP_PME_SHIFT: Final = 11
PCI_PM_CTRL: Final = 4  # PM control and status
PCI_PM_CTRL_STATE_MASK: Final = 0x0003  # current power state (D0 to D3)
PCI_PM_CTRL_NO_SOFT_RESET: Final = 0x0008  # no reset for D3hot->D0
PCI_PM_CTRL_PME_ENABLE: Final = 0x0100
PCI_PM_CTRL_DATA_SEL_MASK: Final = 0x1E00
PCI_PM_CTRL_DATA_SCALE_MASK: Final = 0x6000
PCI_PM_CTRL_PME_STATUS: Final = 0x8000
PCI_PM_PPB_EXTENSIONS: Final = 6
PCI_PM_PPB_B2_B3: Final = 0x40
PCI_PM_BPCC_ENABLE: Final = 0x80
PCI_PM_DATA_REGISTER: Final = 7
PCI_PM_SIZEOF: Final = 8

# Message signalled interrupts
PCI_MSI_FLAGS: Final = 0x02  # message control
PCI_MSI_FLAGS_ENABLE: Final = 0x0001
PCI_MSI_FLAGS_QMASK: Final = 0x000E
PCI_MSI_FLAGS_QSIZE: Final = 0x0070
PCI_MSI_FLAGS_64BIT: Final = 0x0080
PCI_MSI_FLAGS_MASKBIT: Final = 0x0100
PCI_MSI_RFU: Final = 3
PCI_MSI_ADDRESS_LO: Final = 0x04
PCI_MSI_ADDRESS_HI: Final = 0x08
PCI_MSI_DATA_32: Final = 0x08
PCI_MSI_MASK_32: Final = 0x0C
PCI_MSI_PENDING_32: Final = 0x10
PCI_MSI_DATA_64: Final = 0x0C
PCI_MSI_MASK_64: Final = 0x10
PCI_MSI_PENDING_64: Final = 0x14

# MSI-X (in the MSI-X capability)
PCI_MSIX_FLAGS: Final = 2  # message control
PCI_MSIX_FLAGS_QSIZE: Final = 0x07FF  # table size
PCI_MSIX_FLAGS_MASKALL: Final = 0x4000
PCI_MSIX_FLAGS_ENABLE: Final = 0x8000
PCI_MSIX_TABLE: Final = 4
PCI_MSIX_TABLE_BIR: Final = 0x00000007
PCI_MSIX_TABLE_OFFSET: Final = 0xFFFFFFF8
PCI_MSIX_PBA: Final = 8
PCI_MSIX_PBA_BIR: Final = 0x00000007
PCI_MSIX_PBA_OFFSET: Final = 0xFFFFFFF8
PCI_MSIX_FLAGS_BIRMASK: Final = PCI_MSIX_PBA_BIR  # deprecated
PCI_CAP_MSIX_SIZEOF: Final = 12

# MSI-X Table entry format (in memory mapped by a BAR)
PCI_MSIX_ENTRY_SIZE: Final = 16
PCI_MSIX_ENTRY_LOWER_ADDR: Final = 0x0  # Message Address
PCI_MSIX_ENTRY_UPPER_ADDR: Final = 0x4  # Message Upper Address
PCI_MSIX_ENTRY_DATA: Final = 0x8  # Message Data
PCI_MSIX_ENTRY_VECTOR_CTRL: Final = 0xC  # Vector Control
PCI_MSIX_ENTRY_CTRL_MASKBIT: Final = 0x00000001

# Advanced Features
PCI_AF_LENGTH: Final = 2
PCI_AF_CAP: Final = 3
PCI_AF_CAP_TP: Final = 0x01  # transactions pending supported
PCI_AF_CAP_FLR: Final = 0x02  # function level reset supported
PCI_AF_CTRL: Final = 4
PCI_AF_CTRL_FLR: Final = 0x01  # initiate FLR
PCI_AF_STATUS: Final = 5
PCI_AF_STATUS_TP: Final = 0x01  # transactions pending
PCI_CAP_AF_SIZEOF: Final = 6

# PCI Express capability
PCI_EXP_FLAGS: Final = 0x02  # capabilities register
PCI_EXP_FLAGS_VERS: Final = 0x000F  # capability version
PCI_EXP_FLAGS_TYPE: Final = 0x00F0  # device/port type
PCI_EXP_TYPE_ENDPOINT: Final = 0x0
PCI_EXP_TYPE_LEG_END: Final = 0x1
PCI_EXP_TYPE_ROOT_PORT: Final = 0x4
PCI_EXP_TYPE_UPSTREAM: Final = 0x5
PCI_EXP_TYPE_DOWNSTREAM: Final = 0x6
PCI_EXP_TYPE_PCI_BRIDGE: Final = 0x7
PCI_EXP_TYPE_PCIE_BRIDGE: Final = 0x8
PCI_EXP_TYPE_RC_END: Final = 0x9
PCI_EXP_TYPE_RC_EC: Final = 0xA
PCI_EXP_FLAGS_SLOT: Final = 0x0100  # slot implemented
PCI_EXP_FLAGS_IRQ: Final = 0x3E00
PCI_EXP_FLAGS_FLIT: Final = 0x8000
PCI_EXP_DEVCAP: Final = 0x04  # device capabilities
PCI_EXP_DEVCAP_PAYLOAD: Final = 0x00000007
PCI_EXP_DEVCAP_PHANTOM: Final = 0x00000018
PCI_EXP_DEVCAP_EXT_TAG: Final = 0x00000020
PCI_EXP_DEVCAP_L0S: Final = 0x000001C0
PCI_EXP_DEVCAP_L1: Final = 0x00000E00
PCI_EXP_DEVCAP_ATN_BUT: Final = 0x00001000
PCI_EXP_DEVCAP_ATN_IND: Final = 0x00002000
PCI_EXP_DEVCAP_PWR_IND: Final = 0x00004000
PCI_EXP_DEVCAP_RBER: Final = 0x00008000
PCI_EXP_DEVCAP_PWR_VAL: Final = 0x03FC0000
PCI_EXP_DEVCAP_PWR_SCL: Final = 0x0C000000
PCI_EXP_DEVCAP_FLR: Final = 0x10000000  # function level reset
PCI_EXP_DEVCTL: Final = 0x08  # device control
PCI_EXP_DEVCTL_CERE: Final = 0x0001
PCI_EXP_DEVCTL_NFERE: Final = 0x0002
PCI_EXP_DEVCTL_FERE: Final = 0x0004
PCI_EXP_DEVCTL_URRE: Final = 0x0008
PCI_EXP_DEVCTL_RELAX_EN: Final = 0x0010
PCI_EXP_DEVCTL_PAYLOAD: Final = 0x00E0
PCI_EXP_DEVCTL_EXT_TAG: Final = 0x0100
PCI_EXP_DEVCTL_PHANTOM: Final = 0x0200
PCI_EXP_DEVCTL_AUX_PME: Final = 0x0400
PCI_EXP_DEVCTL_NOSNOOP_EN: Final = 0x0800
PCI_EXP_DEVCTL_READRQ: Final = 0x7000
PCI_EXP_DEVCTL_BCR_FLR: Final = 0x8000  # bridge configuration retry / FLR
PCI_EXP_DEVSTA: Final = 0x0A  # device status
PCI_EXP_DEVSTA_CED: Final = 0x0001
PCI_EXP_DEVSTA_NFED: Final = 0x0002
PCI_EXP_DEVSTA_FED: Final = 0x0004
PCI_EXP_DEVSTA_URD: Final = 0x0008
PCI_EXP_DEVSTA_AUXPD: Final = 0x0010
PCI_EXP_DEVSTA_TRPND: Final = 0x0020  # transactions pending
PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1: Final = 12
PCI_EXP_LNKCAP: Final = 0x0C  # link capabilities
PCI_EXP_LNKCTL: Final = 0x10  # link control
PCI_EXP_LNKCTL_LD: Final = 0x0010  # link disable
PCI_EXP_LNKCTL_RL: Final = 0x0020  # retrain link
PCI_EXP_LNKSTA: Final = 0x12  # link status
PCI_CAP_EXP_ENDPOINT_SIZEOF_V1: Final = 20
PCI_EXP_SLTCAP: Final = 0x14  # slot capabilities
PCI_EXP_SLTCTL: Final = 0x18  # slot control
PCI_EXP_SLTSTA: Final = 0x1A  # slot status
PCI_EXP_SLTSTA_PDS: Final = 0x0040  # presence detect state
PCI_EXP_RTCTL: Final = 0x1C  # root control
PCI_EXP_RTCAP: Final = 0x1E  # root capabilities
PCI_EXP_RTSTA: Final = 0x20  # root status
# Registers below exist only with PCIe capability version 2.
PCI_EXP_DEVCAP2: Final = 0x24
PCI_EXP_DEVCTL2: Final = 0x28
PCI_EXP_DEVSTA2: Final = 0x2A
PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2: Final = 0x2C
PCI_EXP_LNKCAP2: Final = 0x2C
PCI_EXP_LNKCTL2: Final = 0x30
PCI_EXP_LNKSTA2: Final = 0x32
PCI_CAP_EXP_ENDPOINT_SIZEOF_V2: Final = 0x32
PCI_EXP_SLTCAP2: Final = 0x34
PCI_EXP_SLTCTL2: Final = 0x38
PCI_EXP_SLTSTA2: Final = 0x3A


# Extended capabilities (PCI-X 2.0 and Express): the header's three fields.
def PCI_EXT_CAP_ID(header: int) -> int:
    return header & 0x0000FFFF


def PCI_EXT_CAP_VER(header: int) -> int:
    return (header >> 16) & 0xF


def PCI_EXT_CAP_NEXT(header: int) -> int:
    return (header >> 20) & 0xFFC


PCI_EXT_CAP_ID_ERR: Final = 0x01  # advanced error reporting
PCI_EXT_CAP_ID_VC: Final = 0x02
PCI_EXT_CAP_ID_DSN: Final = 0x03  # device serial number
PCI_EXT_CAP_ID_PWR: Final = 0x04
PCI_EXT_CAP_ID_RCLD: Final = 0x05
PCI_EXT_CAP_ID_RCILC: Final = 0x06
PCI_EXT_CAP_ID_RCEC: Final = 0x07
PCI_EXT_CAP_ID_MFVC: Final = 0x08
PCI_EXT_CAP_ID_VC9: Final = 0x09
PCI_EXT_CAP_ID_RCRB: Final = 0x0A
PCI_EXT_CAP_ID_VNDR: Final = 0x0B
PCI_EXT_CAP_ID_CAC: Final = 0x0C
PCI_EXT_CAP_ID_ACS: Final = 0x0D  # access control services
PCI_EXT_CAP_ID_ARI: Final = 0x0E
PCI_EXT_CAP_ID_ATS: Final = 0x0F
PCI_EXT_CAP_ID_SRIOV: Final = 0x10
PCI_EXT_CAP_ID_MRIOV: Final = 0x11
PCI_EXT_CAP_ID_MCAST: Final = 0x12
PCI_EXT_CAP_ID_PRI: Final = 0x13
PCI_EXT_CAP_ID_AMD_XXX: Final = 0x14
PCI_EXT_CAP_ID_REBAR: Final = 0x15
PCI_EXT_CAP_ID_DPA: Final = 0x16
PCI_EXT_CAP_ID_TPH: Final = 0x17
PCI_EXT_CAP_ID_LTR: Final = 0x18
PCI_EXT_CAP_ID_SECPCI: Final = 0x19
PCI_EXT_CAP_ID_PMUX: Final = 0x1A
PCI_EXT_CAP_ID_PASID: Final = 0x1B
PCI_EXT_CAP_ID_DPC: Final = 0x1D
PCI_EXT_CAP_ID_L1SS: Final = 0x1E
PCI_EXT_CAP_ID_PTM: Final = 0x1F
PCI_EXT_CAP_ID_DVSEC: Final = 0x23
PCI_EXT_CAP_ID_VF_REBAR: Final = 0x24
PCI_EXT_CAP_ID_DLF: Final = 0x25
PCI_EXT_CAP_ID_PL_16GT: Final = 0x26
PCI_EXT_CAP_ID_NPEM: Final = 0x29
PCI_EXT_CAP_ID_PL_32GT: Final = 0x2A
PCI_EXT_CAP_ID_DOE: Final = 0x2E
PCI_EXT_CAP_ID_PL_64GT: Final = 0x31
PCI_EXT_CAP_ID_MAX: Final = PCI_EXT_CAP_ID_PL_64GT

PCI_EXT_CAP_DSN_SIZEOF: Final = 12

# CardBus, PCI-X, ACS and DVSEC registers the reset and save/restore paths use.
PCI_CB_CAPABILITY_LIST: Final = 0x14
PCI_X_CMD: Final = 2  # Modes & Features
PCI_ACS_CTRL: Final = 0x06  # ACS Control Register
PCI_DVSEC_HEADER1: Final = 0x4  # Designated Vendor-Specific Header1
PCI_DVSEC_HEADER2: Final = 0x8  # Designated Vendor-Specific Header2

# Capability and extended-capability sizes and registers vfio-pci's config space
# virtualisation (drivers/vfio/pci/vfio_pci_config.c) reads.
PCI_AGP_SIZEOF: Final = 12
PCI_VPD_ADDR: Final = 2  # Address to access (15 bits!)
PCI_VPD_DATA: Final = 4  # 32-bits of data returned here
PCI_CAP_VPD_SIZEOF: Final = 8
PCI_X_ECC_CSR: Final = 8  # ECC control and status
PCI_CAP_PCIX_SIZEOF_V0: Final = 8  # size of registers for Version 0
PCI_CAP_PCIX_SIZEOF_V1: Final = 24  # size for Version 1
PCI_CAP_PCIX_SIZEOF_V2: Final = PCI_CAP_PCIX_SIZEOF_V1  # Same for v2
PCI_EXP_DEVCTL2_ARI: Final = 0x0020  # Alternative Routing-ID
PCI_ERR_ROOT_COMMAND: Final = 0x2C  # Root Error Command
PCI_PWR_DATA: Final = 0x08  # Data Register
PCI_EXT_CAP_PWR_SIZEOF: Final = 0x10
PCI_VNDR_HEADER: Final = 4  # Vendor-Specific Header
PCI_EXT_CAP_ARI_SIZEOF: Final = 8
PCI_EXT_CAP_ATS_SIZEOF: Final = 8
PCI_EXT_CAP_PRI_SIZEOF: Final = 16
PCI_EXT_CAP_SRIOV_SIZEOF: Final = 0x40
PCI_EXT_CAP_LTR_SIZEOF: Final = 8
PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF: Final = 40
HT_3BIT_CAP_MASK: Final = 0xE0
HT_CAP_SIZEOF_LONG: Final = 28  # slave & primary
HT_CAP_SIZEOF_SHORT: Final = 24  # host & secondary
PCI_SATA_REGS: Final = 4  # SATA REGs specifier
PCI_SATA_REGS_MASK: Final = 0xF  # location - BAR#/inline
PCI_SATA_REGS_INLINE: Final = 0xF  # REGS in config space
PCI_SATA_SIZEOF_SHORT: Final = 8
PCI_SATA_SIZEOF_LONG: Final = 16


def PCI_X_CMD_VERSION(x: int) -> int:
    return (x >> 12) & 3


def PCI_VNDR_HEADER_LEN(x: int) -> int:
    return (x >> 20) & 0xFFF


def PCI_DVSEC_HEADER1_LEN(x: int) -> int:
    return (x >> 20) & 0xFFF
