"""Maintenance windows (announced on time, run from the guide's checklist) and EKS upgrades."""
