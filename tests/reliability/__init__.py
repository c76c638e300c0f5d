"""Reliability scenarios (issue 7): a fault matrix in-process, races and crashes with real processes, and the
script that turns a run of them into RELIABILITY.md."""
