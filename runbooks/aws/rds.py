"""RDS through boto3: instances, their snapshots (manual and automated), a manual snapshot, a restore to a new
instance. Every function is synchronous: call it from a worker thread."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from mypy_boto3_rds.client import RDSClient

NOT_FOUND = {"DBInstanceNotFound", "DBInstanceNotFoundFault", "DBSnapshotNotFound", "DBSnapshotNotFoundFault"}


class RdsInstance(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    status: str
    engine: str = ""
    engine_version: str = ""
    instance_class: str = ""
    subnet_group: str | None = None
    security_groups: tuple[str, ...] = ()  # its VPC security groups' ids
    retention_days: int = 0
    latest_restorable: datetime | None = None
    endpoint: str | None = None


class RdsSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    instance: str
    type: str  # "manual" or "automated"
    status: str
    created: datetime | None = None
    size_gb: int | None = None
    engine_version: str = ""
    progress: int | None = None  # percent


def instance_of(data: dict[str, Any]) -> RdsInstance:
    endpoint = data.get("Endpoint") or {}
    return RdsInstance(
        id=str(data["DBInstanceIdentifier"]),
        status=str(data.get("DBInstanceStatus", "?")),
        engine=str(data.get("Engine", "")),
        engine_version=str(data.get("EngineVersion", "")),
        instance_class=str(data.get("DBInstanceClass", "")),
        subnet_group=(data.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
        security_groups=tuple(
            str(g["VpcSecurityGroupId"])
            for g in data.get("VpcSecurityGroups") or []
            if g.get("VpcSecurityGroupId") and g.get("Status") != "removing"
        ),
        retention_days=int(data.get("BackupRetentionPeriod") or 0),
        latest_restorable=data.get("LatestRestorableTime"),
        endpoint=f"{endpoint['Address']}:{endpoint.get('Port', '')}".rstrip(":") if endpoint.get("Address") else None,
    )


def snapshot_of(data: dict[str, Any]) -> RdsSnapshot:
    return RdsSnapshot(
        id=str(data["DBSnapshotIdentifier"]),
        instance=str(data.get("DBInstanceIdentifier", "?")),
        type=str(data.get("SnapshotType", "?")),
        status=str(data.get("Status", "?")),
        created=data.get("SnapshotCreateTime"),
        size_gb=data.get("AllocatedStorage"),
        engine_version=str(data.get("EngineVersion", "")),
        progress=data.get("PercentProgress"),
    )


def missing(exc: Exception) -> bool:
    """A ClientError saying the instance or snapshot does not exist."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in NOT_FOUND


def instance(rds: RDSClient, identifier: str) -> RdsInstance | None:
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except Exception as exc:
        if missing(exc):
            return None
        raise
    return instance_of(dict(found[0])) if found else None


def instances(rds: RDSClient) -> list[RdsInstance]:
    out: list[RdsInstance] = []
    for page in rds.get_paginator("describe_db_instances").paginate():
        out += [instance_of(dict(i)) for i in page["DBInstances"]]
    return out


def snapshots(rds: RDSClient, identifier: str, kind: str | None = None) -> list[RdsSnapshot]:
    """The instance's snapshots (``kind``: "manual", "automated" or both), newest first, read page by page."""
    args: dict[str, Any] = {"DBInstanceIdentifier": identifier, "PaginationConfig": {"PageSize": 100}}
    if kind:
        args["SnapshotType"] = kind
    out: list[RdsSnapshot] = []
    for page in rds.get_paginator("describe_db_snapshots").paginate(**args):
        out += [snapshot_of(dict(s)) for s in page["DBSnapshots"]]
    return sorted(out, key=lambda s: s.created.timestamp() if s.created else 0.0, reverse=True)


def snapshot(rds: RDSClient, identifier: str) -> RdsSnapshot | None:
    try:
        found = rds.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"]
    except Exception as exc:
        if missing(exc):
            return None
        raise
    return snapshot_of(dict(found[0])) if found else None


def create_snapshot(rds: RDSClient, identifier: str, snapshot_id: str) -> RdsSnapshot:
    made = rds.create_db_snapshot(
        DBInstanceIdentifier=identifier,
        DBSnapshotIdentifier=snapshot_id,
        Tags=[{"Key": "created-by", "Value": "chatops-bot"}],
    )
    return snapshot_of(dict(made["DBSnapshot"]))


def restore(
    rds: RDSClient,
    snapshot_id: str,
    new_id: str,
    *,
    instance_class: str = "",
    subnet_group: str | None = None,
    security_groups: tuple[str, ...] | list[str] = (),
) -> RdsInstance:
    """A new instance from the snapshot (the original is never touched), never publicly accessible, with the
    original's class, DB subnet group and VPC security groups (without them AWS picks the default subnet group and
    the VPC's default security group)."""
    args: dict[str, Any] = {
        "DBInstanceIdentifier": new_id,
        "DBSnapshotIdentifier": snapshot_id,
        "PubliclyAccessible": False,  # stated: the snapshot's or the subnet group's default could make it public
        "Tags": [{"Key": "created-by", "Value": "chatops-bot"}, {"Key": "restored-from", "Value": snapshot_id}],
    }
    if instance_class:
        args["DBInstanceClass"] = instance_class
    if subnet_group:
        args["DBSubnetGroupName"] = subnet_group
    if security_groups:
        args["VpcSecurityGroupIds"] = list(security_groups)
    made = rds.restore_db_instance_from_db_snapshot(**args)
    return instance_of(dict(made["DBInstance"]))
