"""Benchmarks (`make bench`): the bench runner and the generator of its local portal."""
