"""Periodic jobs: the scheduler process, its lease, and the record of every run."""
