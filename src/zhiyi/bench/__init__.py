"""`zhiyi bench ...`: benchmarks that measure the whole stack against its anchor in one run."""
