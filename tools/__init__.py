"""Developer tools that run from a source checkout (not installed)."""
