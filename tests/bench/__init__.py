"""Benchmarks (``make bench``): each prints its figures beside a baseline
measured in the same run; none of them is a pass/fail test."""
