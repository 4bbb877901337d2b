"""The vfio uAPI as ctypes layouts, byte-exact to the s390x ABI (big-endian, natural
alignment).  ``include/uapi/linux/vfio.h`` is :mod:`uapi.linux.vfio`."""
