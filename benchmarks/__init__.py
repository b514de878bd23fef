"""Benchmarks that print figures (not timed tests): run each with ``python -m benchmarks.<name>``."""
