"""include/: kernel headers (types and constants; no function bodies beyond the
header's own static inlines)."""
