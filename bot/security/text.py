"""The security audit as plain text (pure, no Slack): its one-line verdicts and ``chatops-bot audit --print``,
which lists every finding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

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
    out = [summary(verdicts)]
    for verdict in verdicts:
        out += ["", f"== {verdict_line(verdict)} ({verdict.seconds:.2f} s)"]
        by_check: dict[str, list[AuditFinding]] = {}
        for f in verdict.findings:
            by_check.setdefault(f.check, []).append(f)
        for check in CHECKS:
            found = by_check.get(check, [])
            if found:
                out.append(f"-- {CHECK_TITLES[check]} ({len(found)})")
                out += [f"  [{RANK_WORD[f.rank]}] {f.ref} — {f.why}" for f in found]
        if not verdict.first:
            out += [f"  new: {f.ref} — {f.why}" for f in verdict.new]
            out += [f"  fixed: {shown_key(k)}" for k in verdict.fixed]
        out += [
            f"  exception expired on {e.exception.until}: {e.finding.ref} — {e.finding.why}" for e in verdict.expired
        ]
        out += [f"  accepted: {a.finding.ref} — {a.finding.why} ({a.exception.reason})" for a in verdict.accepted]
        out += [f"  not checked: {n}" for n in verdict.notes]
    return "\n".join(out) + "\n"
