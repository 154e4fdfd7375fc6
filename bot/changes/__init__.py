"""The change feed: what changed in the clusters, on ``/changes``, on every incident and at every hand-off."""
