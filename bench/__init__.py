"""Benchmarks of sis-maint: speed, cost and scale beside bare Bolt apps and the physical floor.

Run them all with ``make bench`` (or ``.venv/bin/python -m bench``); ``--help`` lists the
options for smaller runs. docs/performance.md explains each figure.
"""
