"""include/uapi/linux/"""
