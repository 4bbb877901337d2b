"""iommu/iommufd/ (drivers/iommu/iommufd)"""
