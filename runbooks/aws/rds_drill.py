"""The RDS side of a disaster-recovery drill: a snapshot restored to a new, tagged, private instance in the source's
network, read until it is available, and deleted without a final snapshot. Only instances carrying the drill tag
are ever deleted; the source instance is only read. Synchronous: call it from a worker thread."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from runbooks.aws import rds
from runbooks.aws.rds import RdsInstance, RdsSnapshot
from runbooks.errors import Refused

if TYPE_CHECKING:
    from mypy_boto3_rds.client import RDSClient

DRILL_TAG = "chatops-dr-drill"  # the drill's id
ATTEMPT_TAG = "chatops-dr-drill-attempt"  # the attempt of that drill (a retried scheduled drill keeps its id)
STARTED_TAG = "chatops-dr-drill-started"  # when the drill made it (ISO 8601): the sweep's age
MARK = "-drill-"  # in every drill instance's identifier (<id>-drill-<stamp>)


def latest_snapshot(client: RDSClient, source: str) -> RdsSnapshot | None:
    """The instance's newest available snapshot (manual or automated)."""
    return next((s for s in rds.snapshots(client, source) if s.status == "available"), None)


def restore(
    client: RDSClient,
    snapshot: RdsSnapshot,
    new_id: str,
    *,
    source: RdsInstance,
    owner: tuple[str, str],
    started: datetime,
) -> RdsInstance:
    """A new instance from the snapshot: never publicly accessible (stated), in the source's DB subnet group and
    VPC security groups, tagged as the drill's; refused when an instance of that name exists."""
    if new_id == source.id or MARK not in new_id:
        raise Refused("a drill never restores over its source instance (it restores to <id>-drill-<stamp>)")
    if rds.instance(client, new_id) is not None:
        raise Refused(f"an instance named {new_id} exists already; nothing was restored")
    args: dict[str, Any] = {
        "DBInstanceIdentifier": new_id,
        "DBSnapshotIdentifier": snapshot.id,
        "PubliclyAccessible": False,
        "DeletionProtection": False,
        "Tags": [
            {"Key": DRILL_TAG, "Value": owner[0]},
            {"Key": ATTEMPT_TAG, "Value": owner[1]},
            {"Key": STARTED_TAG, "Value": started.isoformat()},
            {"Key": "created-by", "Value": "chatops-bot"},
        ],
    }
    if source.instance_class:
        args["DBInstanceClass"] = source.instance_class
    if source.subnet_group:
        args["DBSubnetGroupName"] = source.subnet_group
    if source.security_groups:
        args["VpcSecurityGroupIds"] = list(source.security_groups)
    made = client.restore_db_instance_from_db_snapshot(**args)
    return rds.instance_of(dict(made["DBInstance"]))


def drill_instances(client: RDSClient) -> list[tuple[str, str, str, datetime | None, bool, bool]]:
    """Every instance a drill made (its tag, as DescribeDBInstances lists it): its identifier, the drill's id and
    attempt, when it was made (the tag, else the instance's creation); the last two are the namespaces' (never busy,
    never mapped). ``delete`` checks the ``-drill-`` name too."""
    out: list[tuple[str, str, str, datetime | None, bool, bool]] = []
    for page in client.get_paginator("describe_db_instances").paginate():
        for data in page["DBInstances"]:
            found = {str(t["Key"]): str(t["Value"]) for t in data.get("TagList") or []}
            name = str(data["DBInstanceIdentifier"])
            if DRILL_TAG not in found:
                continue
            started = _time(found.get(STARTED_TAG)) or data.get("InstanceCreateTime")
            out.append((name, found[DRILL_TAG], found.get(ATTEMPT_TAG, ""), started, False, False))
    return out


def delete(client: RDSClient, identifier: str) -> bool:
    """Delete a drill's instance without a final snapshot; refused for any instance without the drill tag or the
    ``-drill-`` name. False when it is gone already (or being deleted)."""
    if MARK not in identifier:
        raise Refused(f"{identifier} is not named <id>{MARK}<stamp>; it was left alone")
    try:
        found = client.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except Exception as exc:
        if rds.missing(exc):
            return False
        raise
    if not found:
        return False
    data: dict[str, Any] = dict(found[0])
    listed: list[dict[str, Any]] = data.get("TagList") or []
    marked = {str(t["Key"]) for t in listed}  # DescribeDBInstances answers with the tags
    if DRILL_TAG not in marked:
        raise Refused(f"{identifier} is not a drill's instance; it was left alone")
    if data.get("DBInstanceStatus") == "deleting":
        return False
    client.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
    return True


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
