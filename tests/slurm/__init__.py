"""Helpers that start a throw-away single-node Slurm for the workflow's SLURM tests."""
