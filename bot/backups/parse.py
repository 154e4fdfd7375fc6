"""``/backup`` and ``/db`` text into typed commands (pure). Every name is checked before any API call; every
rejection says what was wrong and the right form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.errors import UserError
from bot.core.words import HELP_WORDS, Help, namespaces, object_name, split_options
from bot.core.words import verb as word_verb
from runbooks.aws import names as rds_names
from runbooks.errors import BadRequest
from runbooks.kube import names

__all__ = ["Help"]

BACKUP_USAGE = """*`/backup` commands*
• `/backup list [--schedule=<name>]` — Velero backups, newest first, and the schedules
• `/backup create [<name>] [--namespace=a,b] [--selector=app=api]` — a backup now, followed until it ends
• `/backup restore <backup> [--namespace=a,b] [--partial]` — offer a restore (a button, operators only)
Each takes `--cluster=<name>`."""

DB_USAGE = """*`/db` commands*
• `/db snapshots <instance>` — the instance's snapshots, newest first, and its restore window
• `/db snapshot <instance>` — a manual snapshot now, followed until it is available
• `/db restore <snapshot> [--as=<new-instance>]` — offer a restore to a new instance (a button, operators only)"""

# A label selector term: an optional DNS prefix, a name, "=", a value (Kubernetes' own rules).
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$", re.ASCII)
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$", re.ASCII)


@dataclass(frozen=True)
class BackupList:
    schedule: str | None = None


@dataclass(frozen=True)
class BackupCreate:
    name: str | None = None
    namespaces: list[str] = field(default_factory=list)
    selector: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BackupRestore:
    backup: str
    namespaces: list[str] = field(default_factory=list)
    partial: bool = False


@dataclass(frozen=True)
class DbSnapshots:
    instance: str


@dataclass(frozen=True)
class DbSnapshot:
    instance: str


@dataclass(frozen=True)
class DbRestore:
    snapshot: str
    new_instance: str | None = None


BackupCommand = BackupList | BackupCreate | BackupRestore | Help
DbCommand = DbSnapshots | DbSnapshot | DbRestore | Help


def selector(value: str) -> dict[str, str]:
    out = {}
    for term in filter(None, value.split(",")):
        key, eq, val = term.partition("=")
        if not eq or not _KEY.match(key) or not _VALUE.match(val):
            raise UserError(f"`{names.shown(term)}` is not a label selector like app=api-gateway.")
        out[key] = val
    if not out:
        raise UserError("Give the selector as --selector=app=api-gateway.")
    return out


def _rds(check: str, value: str) -> str:
    try:
        return rds_names.instance(value) if check == "instance" else rds_names.snapshot(value)
    except BadRequest as exc:
        raise UserError(str(exc)) from None


def parse_backup(words: list[str]) -> BackupCommand:
    verb, rest = word_verb(words)
    if verb in HELP_WORDS:
        return Help(BACKUP_USAGE)
    if verb in ("list", "ls"):
        positional, options = split_options(rest, {"schedule"}, BACKUP_USAGE)
        if positional:
            raise UserError(f"Write `/backup list [--schedule=<name>]`.\n{BACKUP_USAGE}")
        schedule = options.get("schedule")
        return BackupList(object_name(schedule, "schedule") if schedule is not None else None)
    if verb == "create":
        positional, options = split_options(rest, {"namespace", "selector"}, BACKUP_USAGE)
        if len(positional) > 1:
            raise UserError(f"Name one backup: `/backup create [<name>] [--namespace=a,b]`.\n{BACKUP_USAGE}")
        return BackupCreate(
            name=object_name(positional[0], "backup") if positional else None,
            namespaces=namespaces(options.get("namespace", "")),
            selector=selector(options["selector"]) if "selector" in options else {},
        )
    if verb == "restore":
        positional, options = split_options(rest, {"namespace", "partial"}, BACKUP_USAGE)
        if len(positional) != 1:
            raise UserError(f"Name the backup: `/backup restore <backup> [--namespace=a,b]`.\n{BACKUP_USAGE}")
        if options.get("partial"):
            raise UserError("Write `--partial` on its own (it takes no value).")
        return BackupRestore(
            backup=object_name(positional[0], "backup", existing=True),
            namespaces=namespaces(options.get("namespace", "")),
            partial="partial" in options,
        )
    raise UserError(f"`{names.shown(verb)}` is not a /backup command.\n{BACKUP_USAGE}")


def parse_db(words: list[str]) -> DbCommand:
    verb, rest = word_verb(words)
    if verb in HELP_WORDS:
        return Help(DB_USAGE)
    if verb in ("snapshots", "snapshot"):
        positional, _ = split_options(rest, set(), DB_USAGE)
        if len(positional) != 1:
            raise UserError(f"Name one instance: `/db {verb} <instance>`.\n{DB_USAGE}")
        instance = _rds("instance", positional[0])
        return DbSnapshots(instance) if verb == "snapshots" else DbSnapshot(instance)
    if verb == "restore":
        positional, options = split_options(rest, {"as"}, DB_USAGE)
        if len(positional) != 1:
            raise UserError(f"Name the snapshot: `/db restore <snapshot> [--as=<new-instance>]`.\n{DB_USAGE}")
        new = options.get("as")
        return DbRestore(_rds("snapshot", positional[0]), _rds("instance", new) if new is not None else None)
    raise UserError(f"`{names.shown(verb)}` is not a /db command.\n{DB_USAGE}")
