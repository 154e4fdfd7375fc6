"""Backups from chat: list and take Velero backups, offer restores; list and take RDS snapshots, offer restores to a
new instance. Reads run in worker threads (the kubernetes client and boto3 are synchronous); a backup or snapshot
being taken is followed in one reply, edited as it goes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from bot.backups import parse
from bot.backups.render import (
    backups_blocks,
    db_restore_offer_blocks,
    progress_line,
    restore_offer_blocks,
    snapshot_progress,
    snapshots_blocks,
)
from bot.core.errors import DependencyError, UserError
from bot.core.outbox import Outbox
from bot.incidents.service import IncidentService
from bot.operations.audit import AuditLog
from bot.operations.follow import Follower, Sink
from bot.operations.offered import Offered
from bot.operations.offers import Offers
from runbooks.aws import names as rds_names
from runbooks.aws import rds
from runbooks.aws.session import AwsSession
from runbooks.changes.restores import RdsRestore, VeleroRestore, restorable
from runbooks.errors import Refused
from runbooks.kube import names, velero
from runbooks.kube.client import Cluster, ClusterSet
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube
from runbooks.kube.lean import ApiException
from runbooks.kube.velero_objects import BackupInfo, ScheduleInfo, descriptor_interval

FOLLOW_FOR = timedelta(minutes=30)  # a backup, a restore or a snapshot of a large database takes a while
NAME_MAX = 63


def default_name(cmd: parse.BackupCreate, now: datetime) -> str:
    """``<scope>-YYYYMMDD-HHMM``: scope is the namespace(s), ``<key>-<value>`` of the selector, or ``full``."""
    if cmd.selector:
        key, value = next(iter(cmd.selector.items()))
        scope = f"{key.rsplit('/', 1)[-1]}-{value}"
    elif cmd.namespaces:
        scope = "-".join(cmd.namespaces)
    else:
        scope = "full"
    stamp = now.strftime("%Y%m%d-%H%M")
    scope = re.sub(r"[^a-z0-9-]+", "-", scope.lower()).strip("-")[: NAME_MAX - len(stamp) - 1].rstrip("-")
    return f"{scope or 'backup'}-{stamp}"


def next_due(schedule: ScheduleInfo, now: datetime) -> datetime | None:
    interval = descriptor_interval(schedule.cron)
    if interval is not None:
        return (schedule.last_backup or now) + interval
    from runbooks import cron  # noqa: PLC0415 - APScheduler only when a cron schedule is read

    try:
        fire: datetime | None = cron.trigger(schedule.cron, UTC).get_next_fire_time(None, now)
    except ValueError:
        return None
    return fire


class BackupService:
    def __init__(
        self,
        *,
        clusters: ClusterSet,
        aws: AwsSession | None,
        velero_namespace: str,
        offers: Offers,
        audit: AuditLog,
        incidents: IncidentService,
        follower: Follower,
        outbox: Outbox,
        clock: Callable[[], datetime],
        namespaces: Sequence[str] = (),
    ) -> None:
        self.outbox = outbox
        self.clusters = clusters
        self.allowed = list(namespaces)  # kubernetes.namespaces: backups and restores stay inside (empty: any)
        self.aws = aws
        self.namespace = velero_namespace
        self.offers = offers
        self.audit = audit
        self.incidents = incidents
        self.follower = follower
        self.clock = clock

    # Velero --------------------------------------------------------------------------------------------------
    def scope(self, namespaces: Sequence[str]) -> list[str]:
        """The namespaces a backup or restore covers: each one named must be in ``kubernetes.namespaces`` (refused as
        the runbooks refuse, before any API call); naming none means the allowed ones when the list is set."""
        for namespace in namespaces:
            names.namespace(namespace, self.allowed)
        return list(namespaces or self.allowed)

    async def _kube(self, cluster_name: str | None, read: Callable[[Cluster], Any], what: str) -> Any:
        cluster = await asyncio.to_thread(self.clusters.connect, cluster_name)
        try:
            return await asyncio.to_thread(read, cluster)
        except ApiException as exc:
            if exc.status == 404 and what == "velero":
                raise UserError(
                    f"Velero is not installed in cluster `{cluster.name}` (no velero.io API), or nothing is there."
                ) from None
            raise DependencyError(explain_kube(exc, f"velero.io objects in {self.namespace}")) from None
        except API_ERRORS as exc:
            raise DependencyError(explain_kube(exc, f"velero.io objects in {self.namespace}")) from None

    async def listing(self, cluster_name: str | None, cmd: parse.BackupList) -> tuple[list[Block], str]:
        def read(cluster: Cluster) -> tuple[list[BackupInfo], list[ScheduleInfo]]:
            schedules = velero.schedules(cluster, self.namespace)
            return velero.backups(cluster, self.namespace, cmd.schedule), schedules

        backups, schedules = await self._kube(cluster_name, read, "velero")
        if cmd.schedule:
            schedules = [s for s in schedules if s.name == cmd.schedule]
        now = self.clock()
        due = {s.name: next_due(s, now) for s in schedules}
        name = self.clusters.shown(cluster_name)
        return backups_blocks(name, backups, schedules, due, now), f"{len(backups)} Velero backup(s) in {name}"

    async def create(
        self, cluster_name: str | None, cmd: parse.BackupCreate, actor: str, channel: str, sink: Sink
    ) -> None:
        cmd = replace(cmd, namespaces=self.scope(cmd.namespaces))
        name = cmd.name or default_name(cmd, self.clock())

        def make(cluster: Cluster) -> BackupInfo:
            try:
                return velero.create_backup(cluster, self.namespace, name, cmd.namespaces, cmd.selector)
            except ApiException as exc:
                if exc.status == 409:
                    raise UserError(
                        f"A backup named `{name}` exists already; name yours: `/backup create <name>`."
                    ) from None
                raise

        await self._kube(cluster_name, make, "velero")
        what = f"Velero backup {name} of {', '.join(cmd.namespaces) or 'every namespace'}"
        await self._record(actor, channel, "backup created", what, {"kind": "backup-create", "backup": name})

        async def read() -> tuple[str, bool]:
            state: BackupInfo = await self._kube(cluster_name, lambda c: velero.backup(c, self.namespace, name), "read")
            return progress_line(state), state.finished

        await self.follower.follow(read, sink, f"Backup `{name}`", timeout=FOLLOW_FOR.total_seconds())

    async def offer_restore(
        self, cluster_name: str | None, cmd: parse.BackupRestore, actor: str, channel: str
    ) -> tuple[list[Block], str]:
        def read(cluster: Cluster) -> BackupInfo:
            try:
                return velero.backup(cluster, self.namespace, cmd.backup)
            except ApiException as exc:
                if exc.status == 404:
                    raise UserError(
                        f"No backup named `{cmd.backup}` in {self.namespace}. `/backup list` shows them."
                    ) from None
                raise

        backup: BackupInfo = await self._kube(cluster_name, read, "read")
        now = self.clock()
        change = VeleroRestore(
            velero_namespace=self.namespace,
            backup=backup.name,
            namespaces=self.scope(cmd.namespaces),
            partial=cmd.partial,
            restore=f"{backup.name[: NAME_MAX - 16].rstrip('.-')}-{now:%Y%m%d%H%M%S}",
            cluster=cluster_name,
        )
        offered, refusal = await self._offer(change, lambda: restorable(backup, cmd.partial), actor, channel)
        name = self.clusters.shown(cluster_name)
        blocks = restore_offer_blocks(backup, change, offered, refusal, cluster=name, now=now)
        return blocks, f"restore of backup {backup.name} " + ("offered" if refusal is None else "not offered")

    # RDS -----------------------------------------------------------------------------------------------------
    def _rds(self) -> Any:
        if self.aws is None:
            raise UserError("AWS is not configured: set `aws.region` (and `aws.rds`) in the config.")
        return self.aws.rds()

    async def _aws(self, call: Callable[[], Any], permission: str, what: str) -> Any:
        from runbooks.aws.errors import AWS_ERRORS, explain  # noqa: PLC0415 - botocore only when AWS is used

        try:
            return await asyncio.to_thread(call)
        except AWS_ERRORS as exc:
            raise DependencyError(explain(exc, permission, what)) from None

    async def db_snapshots(self, cmd: parse.DbSnapshots) -> tuple[list[Block], str]:
        client = self._rds()
        instance, snapshots = await asyncio.gather(
            self._aws(lambda: rds.instance(client, cmd.instance), "rds:DescribeDBInstances", cmd.instance),
            self._aws(lambda: rds.snapshots(client, cmd.instance), "rds:DescribeDBSnapshots", cmd.instance),
        )
        if instance is None:
            raise UserError(f"No RDS instance named `{cmd.instance}` in {self.aws.region if self.aws else '?'}.")
        return snapshots_blocks(instance, snapshots, self.clock()), f"{len(snapshots)} snapshot(s) of {cmd.instance}"

    async def db_snapshot(self, cmd: parse.DbSnapshot, actor: str, channel: str, sink: Sink) -> None:
        client = self._rds()
        if await self._aws(lambda: rds.instance(client, cmd.instance), "rds:DescribeDBInstances", cmd.instance) is None:
            raise UserError(f"No RDS instance named `{cmd.instance}`.")
        snapshot_id = f"manual-{cmd.instance}-{self.clock():%Y%m%d-%H%M}"
        await self._aws(
            lambda: rds.create_snapshot(client, cmd.instance, snapshot_id),
            "rds:CreateDBSnapshot and rds:AddTagsToResource",
            cmd.instance,
        )
        what = f"manual snapshot {snapshot_id} of RDS instance {cmd.instance}"
        await self._record(actor, channel, "snapshot created", what, {"kind": "db-snapshot", "snapshot": snapshot_id})

        async def read() -> tuple[str, bool]:
            found = await self._aws(lambda: rds.snapshot(client, snapshot_id), "rds:DescribeDBSnapshots", snapshot_id)
            return snapshot_progress(found)

        await self.follower.follow(read, sink, f"Snapshot `{snapshot_id}`", timeout=FOLLOW_FOR.total_seconds())

    async def offer_db_restore(self, cmd: parse.DbRestore, actor: str, channel: str) -> tuple[list[Block], str]:
        client = self._rds()
        snapshot = await self._aws(lambda: rds.snapshot(client, cmd.snapshot), "rds:DescribeDBSnapshots", cmd.snapshot)
        if snapshot is None:
            raise UserError(f"No RDS snapshot named `{cmd.snapshot}`. `/db snapshots <instance>` lists them.")
        source = await self._aws(
            lambda: rds.instance(client, snapshot.instance), "rds:DescribeDBInstances", snapshot.instance
        )
        now = self.clock()
        new_id = cmd.new_instance or rds_names.restored(snapshot.instance, f"restored-{now:%Y%m%d}")
        change = RdsRestore(
            snapshot=snapshot.id,
            instance=new_id,
            source=snapshot.instance,
            instance_class=source.instance_class if source else "",
            subnet_group=source.subnet_group if source else None,
            security_groups=list(source.security_groups) if source else [],
        )
        taken = await self._aws(lambda: rds.instance(client, new_id), "rds:DescribeDBInstances", new_id)

        def check() -> None:
            if snapshot.status != "available":
                raise Refused(f"snapshot {snapshot.id} is {snapshot.status}, not available")
            if taken is not None:
                raise Refused(f"an instance named {new_id} exists already; choose another with --as=<new-id>")

        offered, refusal = await self._offer(change, check, actor, channel)
        blocks = db_restore_offer_blocks(snapshot, change, offered, refusal, now)
        return blocks, f"restore of {snapshot.id} to {new_id} " + ("offered" if refusal is None else "not offered")

    # Shared --------------------------------------------------------------------------------------------------
    async def _offer(
        self, change: VeleroRestore | RdsRestore, check: Callable[[], None], actor: str, channel: str
    ) -> tuple[Offered, str | None]:
        """Store the change as an offer unless ``check`` refuses it as things are now."""
        now = self.clock()
        try:
            check()
        except Refused as exc:
            return Offered(now=now, ids={}, changes={}, refusals={"restore": str(exc)}), str(exc)
        incident = await self.incidents.store.room_of(channel)
        offer_id = await self.offers.offer({**change.model_dump(), "incident": incident, "offered_to": actor})
        return Offered(now=now, ids={"restore": offer_id}, changes={"restore": change}, refusals={}), None

    async def _record(self, actor: str, channel: str, kind: str, what: str, entry: dict[str, Any]) -> None:
        """Audit a backup or snapshot taken, and note it on the incident of the channel. It is taken: its records are
        kept (retried while the state store is away), and the asker is never told "Nothing was changed"."""
        done = {**entry, "actor": actor, "target": what, "result": "done"}
        await self.audit.keep(self.outbox, done)

        async def note() -> None:
            incident = await self.incidents.store.room_of(channel)
            if incident is not None:
                await self.incidents.note(incident, kind, what, actor)

        await self.outbox.deliver(f"timeline note of the {what}", note)
