"""The daily duty "Verify backup completion" as pure checks: Velero schedules and storage locations, RDS automated
backups. Facts in (parsed objects, each schedule's interval), findings out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from runbooks.aws.rds import RdsInstance
from runbooks.checklist.model import Finding, Section
from runbooks.kube.velero_objects import DONE, BackupInfo, LocationInfo, ScheduleInfo

STALE_FACTOR = 1.5
FAILED = frozenset({"Failed", "PartiallyFailed", "FailedValidation"})
RESTORABLE_WITHIN = timedelta(minutes=15)
AUTOMATED_WITHIN = timedelta(hours=26)
VELERO_TITLE = "Backups (Velero)"
RDS_TITLE = "Backups (RDS)"


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.0f} h" if hours >= 1 else f"{delta.seconds // 60} min"


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.rank, f.ref))


def check_velero(
    schedules: Sequence[ScheduleInfo],
    backups: Sequence[BackupInfo],
    locations: Sequence[LocationInfo],
    intervals: dict[str, timedelta | None],
    *,
    namespace: str,
    now: datetime,
) -> Section:
    """Per schedule, the last Completed backup is younger than 1.5 × its interval and its latest run did not fail;
    every storage location is Available."""
    found: list[Finding] = []
    for location in locations:
        if location.phase != "Available":
            why = f"storage location {location.phase}" + (f": {location.message}" if location.message else "")
            found.append(Finding(namespace=namespace, name=f"backupstoragelocation/{location.name}", why=why, rank=3))
    newest_first = sorted(backups, key=lambda b: b.when or datetime.min.replace(tzinfo=now.tzinfo), reverse=True)
    by_schedule: dict[str | None, list[BackupInfo]] = {}
    for b in newest_first:
        by_schedule.setdefault(b.schedule, []).append(b)
    for schedule in schedules:
        ref = f"schedule/{schedule.name}"
        if schedule.paused:
            found.append(Finding(namespace=namespace, name=ref, why="paused: no backups are taken", rank=2))
            continue
        runs = by_schedule.get(schedule.name, [])
        good = next((b for b in runs if b.phase == DONE and b.when), None)
        last_good = (
            f"last good backup {good.name}, {_age(now - good.when)} old" if good and good.when else "no good backup"
        )
        latest = next((b for b in runs if b.finished), None)
        if latest is not None and latest.phase in FAILED:
            detail = f"{latest.errors} error(s)" + (f": {latest.failure}" if latest.failure else "")
            found.append(
                Finding(
                    namespace=namespace,
                    name=ref,
                    why=f"latest backup {latest.name} {latest.phase} ({detail}); {last_good}",
                    rank=3,
                )
            )
            continue
        interval = intervals.get(schedule.name)
        if good is None or good.when is None:
            found.append(Finding(namespace=namespace, name=ref, why="no completed backup yet", rank=3))
        elif interval is not None and now - good.when > interval * STALE_FACTOR:
            why = f"{last_good}: more than 1.5 × its {_age(interval)} interval"
            found.append(Finding(namespace=namespace, name=ref, why=why, rank=3))
    return Section(key="backups", title=VELERO_TITLE, findings=_sorted(found))


def check_rds(instances: Sequence[RdsInstance], newest_automated: dict[str, datetime | None], now: datetime) -> Section:
    """Per instance: automated backups on (retention > 0), point-in-time restore current (within 15 min), and an
    automated snapshot of the last 26 h."""
    found: list[Finding] = []
    for db in instances:
        name = f"rds/{db.id}"
        if db.retention_days <= 0:
            found.append(Finding(namespace=None, name=name, why="automated backups are off (retention 0 days)", rank=3))
            continue
        if db.latest_restorable is None or now - db.latest_restorable > RESTORABLE_WITHIN:
            lag = _age(now - db.latest_restorable) if db.latest_restorable else "never"
            found.append(
                Finding(
                    namespace=None, name=name, why=f"point-in-time restore lags: latest restorable {lag} ago", rank=2
                )
            )
        newest = newest_automated.get(db.id)
        if newest is None or now - newest > AUTOMATED_WITHIN:
            age = f"newest {_age(now - newest)} old" if newest else "none found"
            found.append(
                Finding(namespace=None, name=name, why=f"no automated snapshot in the last 26 h ({age})", rank=3)
            )
    return Section(key="rds", title=RDS_TITLE, findings=_sorted(found))
