"""`make cluster`: the multi-instance harness (harness.py)."""
