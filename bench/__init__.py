"""axon's benchmarks against PyTorch and scikit-learn (issue 9): ``python -m bench [--quick|--full]``.

Not part of the library and not tests: it measures, prints a table and writes bench/RESULTS.md
with the machine, the versions and the command. Every comparison is interleaved in one process
and reported as a ratio, so a busy machine skews both sides alike.
"""
