"""/backup and /db text into commands: every name checked, every rejection says the right form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.backups import parse
from bot.backups.service import default_name, next_due
from bot.core.errors import UserError
from runbooks.kube.velero_objects import ScheduleInfo

NOW = datetime(2026, 11, 27, 8, 5, tzinfo=UTC)


def test_backup_commands() -> None:
    assert parse.parse_backup(["list"]) == parse.BackupList()
    assert parse.parse_backup(["list", "--schedule=daily"]) == parse.BackupList("daily")
    assert parse.parse_backup(["create", "pre-upgrade", "--namespace=a,b", "--selector=app=api"]) == (
        parse.BackupCreate("pre-upgrade", ["a", "b"], {"app": "api"})
    )
    assert parse.parse_backup(["restore", "daily.2026", "--partial"]) == parse.BackupRestore("daily.2026", [], True)
    assert isinstance(parse.parse_backup([]), parse.Help)


def test_db_commands() -> None:
    assert parse.parse_db(["snapshots", "Prod-DB"]) == parse.DbSnapshots("prod-db")  # RDS ids are case-insensitive
    assert parse.parse_db(["snapshot", "prod-db"]) == parse.DbSnapshot("prod-db")
    assert parse.parse_db(["restore", "rds:prod-db-2026-11-27-03-10"]) == parse.DbRestore(
        "rds:prod-db-2026-11-27-03-10"
    )
    assert parse.parse_db(["restore", "snap-1", "--as=prod-db-2"]) == parse.DbRestore("snap-1", "prod-db-2")


@pytest.mark.parametrize(
    "words",
    [
        ["create", "../../etc"],
        ["create", "Nightly"],
        ["create", "a" * 64],
        ["create", "--namespace=$(x)"],
        ["create", "--selector=app"],
        ["create", "--selector=app=$(x)"],
        ["create", "--frobnicate"],
        ["create", "one", "two"],
        ["list", "extra"],
        ["restore"],
        ["restore", "b", "--partial=yes"],
        ["restore", "x" * 300],
        ["explode"],
    ],
)
def test_bad_backup_input_is_refused_with_the_right_form(words: list[str]) -> None:
    with pytest.raises(UserError) as refused:
        parse.parse_backup(words)
    assert "`" in str(refused.value) or "/backup" in str(refused.value)


@pytest.mark.parametrize(
    "words",
    [
        ["snapshots"],
        ["snapshots", "1db"],
        ["snapshots", "prod--db"],
        ["snapshots", "prod-db-"],
        ["snapshot", "p" * 64],
        ["restore", "../snap"],
        ["restore", "snap", "--as=$(x)"],
        ["restore", "snap", "--into=prod"],
    ],
)
def test_bad_db_input_is_refused(words: list[str]) -> None:
    with pytest.raises(UserError):
        parse.parse_db(words)


def test_default_backup_names() -> None:
    assert default_name(parse.BackupCreate(), NOW) == "full-20261127-0805"
    assert default_name(parse.BackupCreate(namespaces=["production"]), NOW) == "production-20261127-0805"
    assert default_name(parse.BackupCreate(selector={"app.kubernetes.io/name": "api"}), NOW) == "name-api-20261127-0805"
    long = default_name(parse.BackupCreate(namespaces=["n" * 60, "m" * 60]), NOW)
    assert len(long) <= 63 and long.endswith("-20261127-0805")


def test_next_due_from_cron_and_descriptor() -> None:
    daily = ScheduleInfo(name="d", cron="0 2 * * *")
    assert next_due(daily, NOW) == datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    every = ScheduleInfo(name="e", cron="@every 6h", last_backup=datetime(2026, 11, 27, 6, 0, tzinfo=UTC))
    assert next_due(every, NOW) == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert next_due(ScheduleInfo(name="x", cron="nonsense"), NOW) is None
