"""Benchmarks of statemgr against baselines measured in the same run (issue 7).

``python -m bench`` runs them all; ``python -m bench.NAME`` runs one. See run_all.py.
"""
