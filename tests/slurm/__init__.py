"""Helpers of the cluster and data-versioning tests: the local SLURM scripts and the shared smoke run."""
