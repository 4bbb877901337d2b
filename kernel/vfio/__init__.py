"""vfio/ (drivers/vfio)"""
