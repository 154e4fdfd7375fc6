"""Kubernetes through the official client: the client, Deployments and workloads, names, changes, errors."""
