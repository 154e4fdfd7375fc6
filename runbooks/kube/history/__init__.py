"""What changed in a cluster, read from its API (lists, not watches, bounded by a time range)."""
