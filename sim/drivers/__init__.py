"""Drivers for tests and scenarios (not ports of kernel drivers)."""
