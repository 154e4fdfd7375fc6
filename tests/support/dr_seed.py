"""What a DR drill finds: a Velero Schedule of the ``production`` namespace with its backups (an older Completed one,
the latest Completed one, and a newer Failed one the drill must pass over), the source namespace's own objects (which
a drill must never touch), and in moto an RDS instance in a private DB subnet group and security group with two
snapshots."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.cluster_seed import iso

NS = "velero"
SOURCE = "production"
SCHEDULE = "daily-backup"
LATEST = "daily-backup-20261201020000"  # the latest Completed backup
ITEMS = 12  # the items it holds
Obj = dict[str, Any]


def backup(name: str, phase: str, finished: datetime, namespaces: list[str], items: int = ITEMS) -> Obj:
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Backup",
        "metadata": {
            "name": name,
            "namespace": NS,
            "labels": {"velero.io/schedule-name": SCHEDULE},
            "creationTimestamp": iso(finished - timedelta(minutes=5)),
        },
        "spec": {"includedNamespaces": namespaces, "ttl": "720h0m0s"},
        "status": {
            "phase": phase,
            "startTimestamp": iso(finished - timedelta(minutes=4)),
            "completionTimestamp": iso(finished),
            "progress": {"totalItems": items, "itemsBackedUp": items if phase == "Completed" else 3},
            **({"failureReason": "error getting backup store"} if phase == "Failed" else {}),
        },
    }


def schedule(name: str, namespaces: list[str], last: datetime) -> Obj:
    return {
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"schedule": "0 2 * * *", "template": {"includedNamespaces": namespaces, "ttl": "720h0m0s"}},
        "status": {"phase": "Enabled", "lastBackup": iso(last)},
    }


def deployment(name: str, namespace: str, replicas: int = 2, available: int = 2) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
        "status": {"replicas": replicas, "availableReplicas": available, "readyReplicas": available},
    }


def pvc(name: str, namespace: str, phase: str = "Bound") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
        "status": {"phase": phase},
    }


def service(name: str, namespace: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080}]},
    }


def seed(now: datetime) -> dict[str, list[Obj]]:
    return {
        "velero.io/v1/schedules": [schedule(SCHEDULE, [SOURCE], now - timedelta(hours=1))],
        "velero.io/v1/backups": [
            backup("daily-backup-20261130020000", "Completed", now - timedelta(days=1, hours=3), [SOURCE]),
            backup(LATEST, "Completed", now - timedelta(hours=3), [SOURCE]),
            backup("daily-backup-20261201080000", "Failed", now - timedelta(hours=1), [SOURCE]),
        ],
        "velero.io/v1/restores": [],
        "apps/v1/deployments": [deployment("api-gateway", SOURCE)],
        "v1/persistentvolumeclaims": [pvc("data", SOURCE)],
        "v1/services": [service("api-gateway", SOURCE)],
    }


def rds_seed(moto: Any) -> dict[str, str]:
    """``prod-db`` in a private subnet group and its own security group, with an older and a newer snapshot: what
    its drill copy must get (the subnet group's name, the security group's id, the newest snapshot)."""
    ec2, rds = moto.client("ec2"), moto.client("rds")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="prod-db", Description="prod-db clients", VpcId=vpc)["GroupId"]
    rds.create_db_subnet_group(DBSubnetGroupName="private-db", DBSubnetGroupDescription="private", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier="prod-db",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=100,
        MasterUsername="admin",
        MasterUserPassword="not-a-real-password",
        DBSubnetGroupName="private-db",
        VpcSecurityGroupIds=[group],
        BackupRetentionPeriod=7,
    )
    rds.create_db_snapshot(DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="prod-db-weekly")
    rds.create_db_snapshot(DBInstanceIdentifier="prod-db", DBSnapshotIdentifier="prod-db-nightly")
    return {"subnet_group": "private-db", "security_group": group, "snapshot": "prod-db-nightly"}
