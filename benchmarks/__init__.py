"""`make bench`: tap-coda + target-files against the fake Coda API with Coda's real limits.

`python -m benchmarks.run --help`; README.md beside this file explains each scenario and
the lower-bound formula, RESULTS.md holds the latest full run.
"""
