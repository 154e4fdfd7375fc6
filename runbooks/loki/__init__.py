"""Loki: error lines counted in the log store (the digest's "Errors in logs" when ``loki.url`` is set)."""
