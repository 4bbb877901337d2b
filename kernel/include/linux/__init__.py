"""include/linux/"""
