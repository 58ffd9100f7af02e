"""The figures the 领导留言板 report publishes, each defined once (``metrics.py``, documented in docs/metrics.md)."""
