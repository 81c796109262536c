"""Measure what error tracking costs the baked service: `make bench`."""
