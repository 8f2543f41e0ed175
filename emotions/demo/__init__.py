"""Generated demo data: the synthetic faces a fresh clone trains on, and video clips of them for
tests and benchmarks. Nothing here reads real data."""
