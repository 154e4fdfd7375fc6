"""Velero through the Kubernetes API: Backups, Schedules, BackupStorageLocations and Restores (``velero.io/v1``),
read as raw JSON and created as objects, the way the velero CLI does it. Velero's own controller does the work;
the bot reads the phase it reports."""

from __future__ import annotations

from typing import Any

from runbooks.kube.client import Cluster, path
from runbooks.kube.velero_objects import (
    EPOCH,
    SCHEDULE_LABEL,
    BackupInfo,
    LocationInfo,
    RestoreInfo,
    ScheduleInfo,
    backup_info,
    location_info,
    restore_info,
    schedule_info,
)

GROUP = "/apis/velero.io/v1"


def backups(cluster: Cluster, namespace: str, schedule: str | None = None) -> list[BackupInfo]:
    """Every Backup, newest first (optionally of one Schedule)."""
    selector = f"{SCHEDULE_LABEL}={schedule}" if schedule else None
    found = [backup_info(b) for b in cluster.list_all(path(GROUP, namespace, "backups"), labelSelector=selector)]
    if schedule:  # the label selector again, here: not every API (or stand-in) applies it
        found = [b for b in found if b.schedule == schedule]
    return sorted(found, key=lambda b: b.when or EPOCH, reverse=True)


def schedules(cluster: Cluster, namespace: str) -> list[ScheduleInfo]:
    return [schedule_info(s) for s in cluster.list_all(path(GROUP, namespace, "schedules"))]


def locations(cluster: Cluster, namespace: str) -> list[LocationInfo]:
    return [location_info(s) for s in cluster.list_all(path(GROUP, namespace, "backupstoragelocations"))]


def backup(cluster: Cluster, namespace: str, name: str) -> BackupInfo:
    return backup_info(cluster.get(path(GROUP, namespace, "backups", name)))


def create_backup(
    cluster: Cluster, namespace: str, name: str, namespaces: list[str], selector: dict[str, str]
) -> BackupInfo:
    spec: dict[str, Any] = {"includedNamespaces": namespaces or ["*"]}
    if selector:
        spec["labelSelector"] = {"matchLabels": selector}
    body = {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "chatops-bot"}},
        "spec": spec,
    }
    return backup_info(cluster.create(path(GROUP, namespace, "backups"), body))


def restore(cluster: Cluster, namespace: str, name: str) -> RestoreInfo:
    return restore_info(cluster.get(path(GROUP, namespace, "restores", name)))


def create_restore(cluster: Cluster, namespace: str, name: str, backup_name: str, namespaces: list[str]) -> RestoreInfo:
    spec: dict[str, Any] = {"backupName": backup_name}
    if namespaces:
        spec["includedNamespaces"] = namespaces
    body = {
        "apiVersion": "velero.io/v1",
        "kind": "Restore",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "chatops-bot"}},
        "spec": spec,
    }
    return restore_info(cluster.create(path(GROUP, namespace, "restores"), body))
