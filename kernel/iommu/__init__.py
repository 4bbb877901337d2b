"""iommu/ (drivers/iommu)"""
