"""Velero's objects in a cluster, as its controller leaves them: schedules with their backups (a healthy one, a
stale one, a failing one), storage locations (one Unavailable), and manual backups in each terminal phase."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.cluster_seed import iso

NS = "velero"
Obj = dict[str, Any]


def backup(name: str, phase: str, finished: datetime, *, schedule: str | None = None, **status: Any) -> Obj:
    labels = {"velero.io/schedule-name": schedule} if schedule else {}
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": labels,
            "creationTimestamp": iso(finished - timedelta(minutes=5)),
        },
        "spec": {"includedNamespaces": ["production"], "ttl": "720h0m0s"},
        "status": {
            "phase": phase,
            "startTimestamp": iso(finished - timedelta(minutes=4)),
            "completionTimestamp": iso(finished),
            "expiration": iso(finished + timedelta(days=30)),
            "progress": {"totalItems": 120, "itemsBackedUp": 120 if phase == "Completed" else 80},
            **status,
        },
    }


def schedule(name: str, cron: str, last: datetime) -> Obj:
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"schedule": cron, "template": {"includedNamespaces": ["production", "staging"], "ttl": "720h0m0s"}},
        "status": {"phase": "Enabled", "lastBackup": iso(last)},
    }


def location(name: str, phase: str, message: str | None = None) -> Obj:
    status = {"phase": phase} | ({"message": message} if message else {})
    return {
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"provider": "aws", "objectStorage": {"bucket": "eks-backup-bucket"}},
        "status": status,
    }


def seed(now: datetime) -> dict[str, list[Obj]]:
    hourly = now.replace(minute=0, second=0, microsecond=0)
    return {
        "velero.io/v1/schedules": [
            schedule("daily-backup", "0 2 * * *", now - timedelta(hours=3)),  # healthy: 3 h old
            schedule("stale-backup", "0 3 * * *", now - timedelta(days=3)),  # last good 3 days ago (> 36 h)
            schedule("failing-backup", "@every 6h", now - timedelta(hours=1)),  # latest run Failed
        ],
        "velero.io/v1/backups": [
            backup("daily-backup-20261127020000", "Completed", now - timedelta(hours=3), schedule="daily-backup"),
            backup("stale-backup-20261124030000", "Completed", now - timedelta(days=3), schedule="stale-backup"),
            backup("failing-backup-good", "Completed", now - timedelta(hours=7), schedule="failing-backup"),
            backup(
                "failing-backup-bad",
                "Failed",
                now - timedelta(hours=1),
                schedule="failing-backup",
                errors=3,
                failureReason="error getting backup store: bucket eks-backup-bucket access denied",
            ),
            backup("manual-complete", "Completed", hourly - timedelta(hours=2)),
            backup("manual-partial", "PartiallyFailed", hourly - timedelta(hours=4), errors=2, warnings=5),
            backup("manual-failed", "Failed", hourly - timedelta(hours=5), errors=1, failureReason="timed out"),
        ],
        "velero.io/v1/backupstoragelocations": [
            location("default", "Available"),
            location("secondary", "Unavailable", "BackupStorageLocation secondary is unavailable: bucket not found"),
        ],
        "velero.io/v1/restores": [],
    }
