"""Block Kit for backups and restores (pure): the Velero backup list and schedules, the restore offers, RDS
snapshots; and the one-line progress of a backup or snapshot being taken."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, HeaderBlock, SectionBlock

from bot.core.blocks import chunked_sections, md
from bot.core.durations import format_duration
from bot.core.text import clip, escape, when
from bot.operations.offered import Offered
from runbooks.aws.rds import RdsInstance, RdsSnapshot
from runbooks.changes.restores import RdsRestore, VeleroRestore
from runbooks.kube.velero_objects import BackupInfo, ScheduleInfo

LIST_LIMIT = 40
PHASE_MARK = {"Completed": "✅", "PartiallyFailed": "⚠️", "Failed": "🔴", "FailedValidation": "🔴", "InProgress": "⏳"}


def _ago(now: datetime, moment: datetime | None) -> str:
    return f"{format_duration(now - moment)} ago" if moment else "never"


def _scope(backup: BackupInfo) -> str:
    parts = [", ".join(backup.namespaces) if backup.namespaces and backup.namespaces != ["*"] else "all namespaces"]
    if backup.selector:
        parts.append("selector " + ",".join(f"{k}={v}" for k, v in backup.selector.items()))
    return "; ".join(parts)


def _items(done: int | None, total: int | None) -> str:
    return f"{done}/{total} items" if total is not None else "items not counted yet"


def backup_line(backup: BackupInfo, now: datetime) -> str:
    mark = PHASE_MARK.get(backup.phase, "•")
    took = f", took {format_duration(backup.completed - backup.started)}" if backup.started and backup.completed else ""
    expires = f", expires {when(backup.expires)}" if backup.expires else ""
    issues = f", {backup.errors} error(s), {backup.warnings} warning(s)" if backup.errors or backup.warnings else ""
    started = f"started {when(backup.started)}" if backup.started else "not started"
    return (
        f"{mark} `{escape(backup.name)}` *{backup.phase}* — {started}{took}{expires}, "
        f"{_items(backup.items_done, backup.items_total)}{issues}; {escape(_scope(backup))}"
    )


def progress_line(backup: BackupInfo) -> str:
    """How far a backup being taken has got (the reply edited while it runs)."""
    issues = f", {backup.errors} error(s), {backup.warnings} warning(s)" if backup.errors or backup.warnings else ""
    failure = f": {backup.failure}" if backup.failure else ""
    return f"{backup.phase}, {_items(backup.items_done, backup.items_total)}{issues}{failure}"


def backups_blocks(
    cluster: str,
    backups: Sequence[BackupInfo],
    schedules: Sequence[ScheduleInfo],
    next_due: dict[str, datetime | None],
    now: datetime,
) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=clip(f"Velero backups: {cluster}", 150))]
    if schedules:
        lines = ["*Schedules*"]
        for schedule in schedules:
            good = next((b for b in backups if b.schedule == schedule.name and b.phase == "Completed"), None)
            last = f"last successful {escape(good.name)} {_ago(now, good.when)}" if good else "no successful backup"
            due = next_due.get(schedule.name)
            paused = " — *paused*" if schedule.paused else f", next due {when(due)}" if due else ""
            lines.append(f"• *{escape(schedule.name)}* `{escape(schedule.cron)}` — {last}{paused}")
        blocks += chunked_sections(lines)
    shown = list(backups)[:LIST_LIMIT]
    lines = [f"*Backups* ({len(backups)}, newest first)"] + [backup_line(b, now) for b in shown]
    if not backups:
        lines.append("none")
    blocks += chunked_sections(lines)
    if len(backups) > len(shown):
        blocks.append(ContextBlock(elements=[md(f"…and {len(backups) - len(shown)} older backups")]))
    return blocks


def restore_offer_blocks(
    backup: BackupInfo, change: VeleroRestore, offered: Offered, refusal: str | None, *, cluster: str, now: datetime
) -> list[Block]:
    facts = (
        f"*Backup* `{escape(backup.name)}`: *{backup.phase}*, taken {_ago(now, backup.when)}, "
        f"{_items(backup.items_done, backup.items_total)}, {escape(_scope(backup))}"
    )
    blocks: list[Block] = [HeaderBlock(text=clip(f"Restore: {backup.name}", 150)), SectionBlock(text=md(facts))]
    into = ", ".join(change.namespaces) or "every namespace the backup holds"
    partial = " It is PartiallyFailed: what failed is not in it." if change.partial else ""
    button = offered.button(
        "restore",
        f"Restore {backup.name}",
        title="Restore?",
        states=f"Velero restores backup {backup.name} into {into} of cluster {cluster}; objects that exist already "
        f"are left as they are.{partial}",
        confirm="Restore",
    )
    return blocks + _offer(button, refusal)


def _offer(button: ButtonElement | None, refusal: str | None) -> list[Block]:
    """The restore button, or why there is none."""
    if button is not None:
        return [ActionsBlock(elements=[button])]
    return [SectionBlock(text=md(f"No restore offered: {escape(refusal)}."))] if refusal else []


def snapshots_blocks(instance: RdsInstance, snapshots: Sequence[RdsSnapshot], now: datetime) -> list[Block]:
    restorable = (
        f"latest restorable {when(instance.latest_restorable)}"
        if instance.latest_restorable
        else "not restorable to a point in time"
    )
    facts = (
        f"*{escape(instance.id)}* ({escape(instance.engine)} {escape(instance.engine_version)}, "
        f"{escape(instance.instance_class)}): *{instance.status}*, automated backups kept {instance.retention_days} "
        f"day(s), {restorable}"
    )
    blocks: list[Block] = [HeaderBlock(text=clip(f"RDS snapshots: {instance.id}", 150)), SectionBlock(text=md(facts))]
    shown = list(snapshots)[:LIST_LIMIT]
    lines = [f"*Snapshots* ({len(snapshots)}, newest first)"]
    for snap in shown:
        size = f", {snap.size_gb} GiB" if snap.size_gb is not None else ""
        created = when(snap.created) if snap.created else "creating"
        engine = escape(snap.engine_version)
        lines.append(f"• `{escape(snap.id)}` {snap.type}, *{snap.status}* — {created}{size}, engine {engine}")
    if not snapshots:
        lines.append("none")
    blocks += chunked_sections(lines)
    if len(snapshots) > len(shown):
        blocks.append(ContextBlock(elements=[md(f"…and {len(snapshots) - len(shown)} older snapshots")]))
    return blocks


def snapshot_progress(snapshot: RdsSnapshot | None) -> tuple[str, bool]:
    if snapshot is None:
        return "not visible yet", False
    percent = f" ({snapshot.progress} %)" if snapshot.progress is not None and snapshot.status != "available" else ""
    return f"{snapshot.status}{percent}", snapshot.status in ("available", "failed", "error")


def db_restore_offer_blocks(
    snapshot: RdsSnapshot, change: RdsRestore, offered: Offered, refusal: str | None, now: datetime
) -> list[Block]:
    facts = (
        f"*Snapshot* `{escape(snapshot.id)}` of `{escape(snapshot.instance)}`: {snapshot.type}, *{snapshot.status}*, "
        f"taken {_ago(now, snapshot.created)}, engine {escape(snapshot.engine_version)}"
    )
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"Database restore: {snapshot.id}", 150)),
        SectionBlock(text=md(facts)),
    ]
    groups = (
        f"the source's {len(change.security_groups)} security group(s)"
        if change.security_groups
        else "the VPC's default security group (none known of the source)"
    )
    button = offered.button(
        "restore",
        f"Restore to {change.instance}",
        title="Restore to a new instance?",
        states=f"A NEW RDS instance {change.instance} ({change.instance_class or 'the original class'}) is created "
        f"from {snapshot.id}; {change.source} is not touched. Not publicly accessible; subnet group "
        f"{change.subnet_group or 'default'}, {groups}.",
        confirm="Restore",
    )
    return blocks + _offer(button, refusal)
