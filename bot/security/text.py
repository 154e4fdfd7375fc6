"""The security audit as plain text (pure, no Slack): its one-line verdicts and ``chatops-bot audit --print``,
which lists every finding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from bot.security.model import ClusterVerdict, shown_key
from runbooks.checklist.security import CHECK_TITLES, CHECKS, AuditFinding

RANK_WORD = {3: "high", 2: "medium", 1: "low"}


def verdict_line(verdict: ClusterVerdict) -> str:
    if not verdict.reachable:
        return f"cluster {verdict.cluster}: not audited ({'; '.join(verdict.notes) or 'no answer'})"
    counts = Counter(f.rank for f in verdict.findings)
    parts = [f"{counts[3]} high", f"{counts[2]} medium", f"{counts[1]} low"]
    extra = []
    if verdict.accepted:
        extra.append(f"{len(verdict.accepted)} accepted")
    if not verdict.first:
        extra.append(f"{len(verdict.new)} new, {len(verdict.fixed)} fixed since the last audit")
    return f"cluster {verdict.cluster}: {', '.join(parts)}" + (f" ({'; '.join(extra)})" if extra else "")


def summary(verdicts: Sequence[ClusterVerdict]) -> str:
    return "Security audit — " + "; ".join(verdict_line(v) for v in verdicts)


def audit_text(verdicts: Sequence[ClusterVerdict]) -> str:
    """The whole audit as plain text (``chatops-bot audit --print``): nothing cut."""
    return "".join(audit_lines(verdicts))


def audit_lines(verdicts: Sequence[ClusterVerdict]) -> Iterator[str]:
    """:func:`audit_text` line by line (each with its newline), made as they are written: a large audit is not held
    as text."""
    yield summary(verdicts) + "\n"
    for verdict in verdicts:
        yield f"\n== {verdict_line(verdict)} ({verdict.seconds:.2f} s)\n"
        by_check: dict[str, list[AuditFinding]] = {}
        for f in verdict.findings:
            by_check.setdefault(f.check, []).append(f)
        for check in CHECKS:
            found = by_check.get(check, [])
            if found:
                yield f"-- {CHECK_TITLES[check]} ({len(found)})\n"
                yield from (f"  [{RANK_WORD[f.rank]}] {f.ref} — {f.why}\n" for f in found)
        if not verdict.first:
            yield from (f"  new: {f.ref} — {f.why}\n" for f in verdict.new)
            yield from (f"  fixed: {shown_key(k)}\n" for k in verdict.fixed)
        yield from (
            f"  exception expired on {e.exception.until}: {e.finding.ref} — {e.finding.why}\n" for e in verdict.expired
        )
        yield from (f"  accepted: {a.finding.ref} — {a.finding.why} ({a.exception.reason})\n" for a in verdict.accepted)
        yield from (f"  not checked: {n}\n" for n in verdict.notes)
