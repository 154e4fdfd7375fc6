"""The morning digest's "Errors in logs": error lines per workload in the last 24 h, counted in Loki when ``loki.url``
is set, else read from the listed pods' logs (bounded per container)."""
