"""Performance benchmark of the full saga: ``python -m tests.performance.bench``."""
