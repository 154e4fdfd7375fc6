"""Disaster-recovery drills: Velero restores into scratch namespaces and RDS snapshot restores, verified, timed and
cleaned up (the guide's weekly "Test disaster recovery procedures")."""
