"""Benchmarks of the model (``python -m bench``): ratios measured in one run."""
