"""Prometheus: the digest's key metrics."""
