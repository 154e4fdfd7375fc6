"""The daily duty "Verify backup completion" as pure checks: Velero schedules and locations, RDS automated backups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runbooks.aws.rds import RdsInstance
from runbooks.checklist.backups import check_rds, check_velero
from runbooks.checklist.collect import schedule_interval
from runbooks.kube.velero_objects import backup_info, descriptor_interval, location_info, schedule_info
from tests.support.velero_seed import backup, schedule, seed

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def velero_findings(objects: dict[str, list[dict[str, object]]]) -> dict[str, str]:
    schedules = [schedule_info(s) for s in objects["velero.io/v1/schedules"]]
    section = check_velero(
        schedules,
        [backup_info(b) for b in objects["velero.io/v1/backups"]],
        [location_info(loc) for loc in objects["velero.io/v1/backupstoragelocations"]],
        {s.name: schedule_interval(s.cron, NOW) for s in schedules},
        namespace="velero",
        now=NOW,
    )
    return {f.name: f.why for f in section.findings}


def test_stale_failing_and_unavailable_named_and_the_healthy_schedule_not() -> None:
    found = velero_findings(seed(NOW))
    assert set(found) == {"schedule/stale-backup", "schedule/failing-backup", "backupstoragelocation/secondary"}
    assert "3.0 d old: more than 1.5 × its 24 h interval" in found["schedule/stale-backup"]
    assert found["schedule/failing-backup"].startswith("latest backup failing-backup-bad Failed (3 error(s): error")
    assert "last good backup failing-backup-good, 7 h old" in found["schedule/failing-backup"]
    assert found["backupstoragelocation/secondary"].startswith("storage location Unavailable: ")


@pytest.mark.parametrize(("age", "problem"), [(timedelta(hours=35), False), (timedelta(hours=37), True)])
def test_a_daily_schedule_is_stale_after_36_hours(age: timedelta, problem: bool) -> None:
    objects = {
        "velero.io/v1/schedules": [schedule("nightly", "0 2 * * *", NOW - age)],
        "velero.io/v1/backups": [backup("nightly-1", "Completed", NOW - age, schedule="nightly")],
        "velero.io/v1/backupstoragelocations": [],
    }
    assert ("schedule/nightly" in velero_findings(objects)) is problem


def test_a_schedule_without_any_completed_backup_and_a_paused_one_are_problems() -> None:
    paused = schedule("paused", "0 2 * * *", NOW)
    paused["spec"]["paused"] = True
    objects = {
        "velero.io/v1/schedules": [schedule("new", "@every 1h", NOW), paused],
        "velero.io/v1/backups": [backup("new-1", "InProgress", NOW, schedule="new")],
        "velero.io/v1/backupstoragelocations": [],
    }
    found = velero_findings(objects)
    assert found == {"schedule/new": "no completed backup yet", "schedule/paused": "paused: no backups are taken"}


def test_schedule_intervals_from_cron_and_descriptors() -> None:
    assert schedule_interval("0 2 * * *", NOW) == timedelta(days=1)
    assert schedule_interval("@every 6h", NOW) == timedelta(hours=6)
    assert schedule_interval("@every 1h30m", NOW) == timedelta(minutes=90)
    assert schedule_interval("@weekly", NOW) == timedelta(days=7)
    assert schedule_interval("0 2 * * 1-5", NOW) == timedelta(days=3)  # the weekend gap is not a stale backup
    assert schedule_interval("not a cron", NOW) is None
    assert descriptor_interval("@every nonsense") is None


def db(retention: int = 7, restorable: timedelta | None = timedelta(minutes=5)) -> RdsInstance:
    return RdsInstance(
        id="prod-db",
        status="available",
        retention_days=retention,
        latest_restorable=NOW - restorable if restorable is not None else None,
    )


def test_rds_retention_restore_window_and_automated_snapshot_age() -> None:
    fresh = {"prod-db": NOW - timedelta(hours=20)}
    assert check_rds([db()], fresh, NOW).clear
    assert [f.why for f in check_rds([db(retention=0)], fresh, NOW).findings] == [
        "automated backups are off (retention 0 days)"
    ]
    lagging = check_rds([db(restorable=timedelta(minutes=40))], fresh, NOW).findings
    assert [f.why for f in lagging] == ["point-in-time restore lags: latest restorable 40 min ago"]
    old = check_rds([db()], {"prod-db": NOW - timedelta(hours=27)}, NOW).findings
    assert [f.why for f in old] == ["no automated snapshot in the last 26 h (newest 27 h old)"]
    none = check_rds([db()], {"prod-db": None}, NOW).findings
    assert [f.why for f in none] == ["no automated snapshot in the last 26 h (none found)"]
