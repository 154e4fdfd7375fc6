"""The Security Audit's verdict (pure): findings with the accepted exceptions applied and compared with the last
audit of the same cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fnmatch import fnmatchcase

from bot.core.settings.config import SecurityException
from runbooks.checklist.security import AuditFinding


@dataclass(frozen=True)
class Accepted:
    finding: AuditFinding
    exception: SecurityException


@dataclass(frozen=True)
class Expired:
    """A finding an exception silenced until ``exception.until``: it counts again, and says so."""

    finding: AuditFinding
    exception: SecurityException


@dataclass
class ClusterVerdict:
    cluster: str
    findings: list[AuditFinding] = field(default_factory=list)  # open: neither accepted nor fixed
    accepted: list[Accepted] = field(default_factory=list)
    expired: list[Expired] = field(default_factory=list)
    new: list[AuditFinding] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # the refs and reasons of findings the last audit had
    first: bool = True  # no earlier audit of this cluster to compare with
    previous_at: datetime | None = None
    notes: list[str] = field(default_factory=list)
    reachable: bool = True
    seconds: float = 0.0


def _applies(exception: SecurityException, finding: AuditFinding) -> bool:
    if exception.checks and finding.check not in exception.checks:
        return False
    return fnmatchcase(finding.ref, exception.match)


def apply_exceptions(
    findings: Sequence[AuditFinding], exceptions: Sequence[SecurityException], today: date
) -> tuple[list[AuditFinding], list[Accepted], list[Expired]]:
    """(open findings, accepted ones, ones whose exception expired: these are open too)."""
    if not exceptions:
        return list(findings), [], []
    open_: list[AuditFinding] = []
    accepted: list[Accepted] = []
    expired: list[Expired] = []
    for finding in findings:
        matching = [e for e in exceptions if _applies(e, finding)]
        current = next((e for e in matching if e.until is None or today < e.until), None)
        if current is not None:
            accepted.append(Accepted(finding, current))
            continue
        open_.append(finding)
        if matching:
            expired.append(Expired(finding, max(matching, key=lambda e: e.until or date.min)))
    return open_, accepted, expired


def compare(
    found: Sequence[AuditFinding], open_: Sequence[AuditFinding], previous: Sequence[str] | None
) -> tuple[list[AuditFinding], list[str]]:
    """New open findings (not in the last audit) and fixed ones (in the last audit, not found at all now: a
    finding that was merely accepted since is not "fixed"), by their stable keys."""
    if previous is None:
        return [], []
    before = set(previous)
    now = {f.key for f in found}
    new = [f for f in open_ if f.key not in before]
    fixed = sorted(k for k in before if k not in now)
    return new, fixed


def shown_key(key: str) -> str:
    """A stored finding key (``check|ref|why``) as people read it: ``ref — why``."""
    _, ref, why = [*key.split("|", 2), "", ""][:3]
    return f"{ref} — {why}"
