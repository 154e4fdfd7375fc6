"""A disaster-recovery drill and what each of its restores found (pure): names of the scratch copies, what counts
as a verified restore, RTO and RPO."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

STAMP = "%Y%m%d-%H%M%S"  # to the second: a drill right after another never meets its copies still being deleted
NAME_MAX = 63
PREFIX = "dr-drill-"


class Restored(BaseModel):
    """One restore of a drill: a Velero Schedule's latest backup, or an RDS instance's latest snapshot."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["velero", "rds"]
    name: str  # the Schedule, or the source instance
    source: str | None = None  # the backup, or the snapshot
    namespaces: list[str] = Field(default_factory=list)  # the backup's namespaces, each restored into its target
    target: list[str] = Field(default_factory=list)  # the scratch namespaces, or the drill instance
    ok: bool = False
    reason: str | None = None  # why it failed
    items_restored: int | None = None
    items_total: int | None = None
    rto: float | None = None  # seconds from the restore's start until it was verified
    rpo: float | None = None  # seconds from the data's time (the backup's completion, the snapshot) to the drill
    checks: list[str] = Field(default_factory=list)  # each smoke check: "production/api-gateway /health: 200"
    cleaned: bool = False
    cleanup: str | None = None  # why the scratch copy could not be deleted (the sweep retries)


class Drill(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    by: str  # a Slack user id, or "schedule"
    started: datetime
    finished: datetime | None = None
    rto_target: float  # seconds
    restores: list[Restored] = Field(default_factory=list)
    note: str | None = None  # what went wrong with the drill as a whole (it did not run, or only in part)
    unchecked: list[str] = Field(default_factory=list)  # dr.checks no restore could probe: misconfigured

    @property
    def verified(self) -> bool:
        """Every restore verified (whatever became of the scratch copies)."""
        return bool(self.restores) and self.note is None and not self.unchecked and all(r.ok for r in self.restores)

    @property
    def left(self) -> list[Restored]:
        """The restores whose scratch copy could not be deleted (still running, still billing)."""
        return [r for r in self.restores if r.cleanup is not None]

    @property
    def ok(self) -> bool:
        """Passed: every restore verified and every scratch copy deleted."""
        return self.verified and not self.left

    @property
    def within_target(self) -> bool:
        return all(r.rto is not None and r.rto <= self.rto_target for r in self.restores if r.ok)

    @property
    def slowest(self) -> float | None:
        times = [r.rto for r in self.restores if r.rto is not None]
        return max(times) if times else None


def drill_id(now: datetime, suffix: str = "") -> str:
    """``dr-<yyyymmdd-hhmmss>`` in UTC (a scheduled tick comes in the digest's time zone): a scheduled drill's id is
    its tick's; a manual one adds a ``suffix`` (two drills started within one second are two drills)."""
    return f"dr-{now.astimezone(UTC):%Y%m%d-%H%M%S}" + (f"-{suffix}" if suffix else "")


def scratch_name(namespace: str, now: datetime) -> str:
    """``dr-drill-<namespace>-<yyyymmdd-hhmmss>``, the namespace cut to keep the name a DNS label."""
    stamp = now.strftime(STAMP)
    room = NAME_MAX - len(PREFIX) - len(stamp) - 1
    return f"{PREFIX}{namespace[:room].rstrip('-')}-{stamp}"


def drill_instance(source: str, now: datetime) -> str:
    """``<id>-drill-<yyyymmdd-hhmmss>``, the source cut to keep an RDS identifier (63, no trailing '-'); the time
    too, so that a second drill on the same day never meets the first one's instance while it is being deleted."""
    tail = f"-drill-{now.strftime(STAMP)}"
    return f"{source[: NAME_MAX - len(tail)].rstrip('-')}{tail}"


def restore_name(schedule: str, drill: str, attempt: str = "") -> str:
    """``<schedule>-<drill id>-<attempt>``: one Restore per schedule and attempt (a scheduled drill retried after a
    crash keeps its tick's id; its new attempt never meets the crashed one's Restore)."""
    tail = f"-{drill}" + (f"-{attempt}" if attempt else "")
    return f"{schedule[: NAME_MAX - len(tail)].rstrip('-.')}{tail}"


def mapping(namespaces: list[str], now: datetime) -> dict[str, str]:
    """Each source namespace to its scratch namespace; a backup of every namespace ("*" or none named) is refused
    (a drill maps named namespaces only)."""
    if not namespaces or "*" in namespaces:
        raise ValueError("the backup covers every namespace; a drill restores named namespaces only")
    return {ns: scratch_name(ns, now) for ns in namespaces}


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) else default


def deployment_problems(deployments: list[dict[str, Any]]) -> list[str]:
    """Deployments not fully available: ``api-gateway 0/2 available``."""
    out = []
    for obj in deployments:
        meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
        wanted = _int(spec.get("replicas"), 1)
        available = _int(status.get("availableReplicas"))
        if available < wanted:
            out.append(f"Deployment {meta.get('name', '?')} {available}/{wanted} available")
    return out


def claim_problems(claims: list[dict[str, Any]]) -> list[str]:
    """PersistentVolumeClaims not Bound."""
    out = []
    for obj in claims:
        phase = (obj.get("status") or {}).get("phase") or "Pending"
        if phase != "Bound":
            out.append(f"PVC {(obj.get('metadata') or {}).get('name', '?')} {phase}")
    return out


def items_problem(restored: int | None, total: int | None) -> str | None:
    """The Restore's restored items against what it should restore (the backup's total; with resources excluded,
    the Restore's own total: Velero counts what it restores after the exclusions)."""
    if total is None:
        return "the backup does not say how many items it holds"
    if restored is None or restored < total:
        return f"restored {restored or 0}/{total} items"
    return None


def age(since: datetime | None, now: datetime) -> float | None:
    return (now - since).total_seconds() if since is not None else None


def stale(started: datetime | None, now: datetime, max_age: timedelta) -> bool:
    """Older than ``max_age`` (one of unknown age counts as old)."""
    return started is None or now - started > max_age


class Scratch(NamedTuple):
    """A scratch copy the sweep found: its name, whose drill and attempt made it, when, and whether a Restore is
    still writing into it (``busy``: Velero would recreate a namespace deleted now); ``mapped``: a namespace
    without the drill's label that a drill's Restore maps into (Velero made it)."""

    name: str
    drill: str
    attempt: str
    made: datetime | None
    busy: bool = False
    mapped: bool = False


def leftovers(
    found: Sequence[Scratch], running: tuple[str, str] | None, now: datetime, max_age: timedelta
) -> list[Scratch]:
    """The scratch copies the sweep deletes: every one whose attempt is not the one running (``(drill, attempt)``:
    the drill ended, or its process died and its lock lapsed — a retried scheduled drill keeps its id, not its
    attempt), and any older than ``max_age`` (a drill still holding the lock but stuck). One a Restore is still
    writing into waits for the Restore to end (until ``max_age``: a stuck Restore does not keep it for ever)."""
    out = []
    for item in found:
        old = stale(item.made, now, max_age)
        if ((item.drill, item.attempt) != running or old) and (not item.busy or old):
            out.append(item)
    return out
