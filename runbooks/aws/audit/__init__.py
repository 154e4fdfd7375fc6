"""Who did what in the clusters: the EKS control plane's audit log (CloudWatch Logs), read by ``logs`` and summed up
per person by the pure ``model``."""
