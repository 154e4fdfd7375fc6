"""Backups and restores from chat (the operations guide's "Backup and Restore"): Velero backups and restores,
RDS snapshots and restores to a new instance, and the morning check that last night's backups exist."""
