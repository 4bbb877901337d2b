"""include/uapi/asm-generic/"""
