"""Benchmarks for policy-ray (issue 5): `make bench` or `.venv/bin/python -m bench.run --help`.

Every figure is a ratio of two things measured side by side in the same run; absolute timings are
printed for context only. Sample nights and scratch files live under bench/out/ (git-ignored).
"""
