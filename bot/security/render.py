"""The security audit, the certificates and the weekly report as Block Kit and as plain text (pure). Lists are cut
with "and N more" (most severe first) so every post stays inside Slack's limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.models.blocks import ActionsBlock, Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock

from bot.core.blocks import chunked_sections, md, messages
from bot.core.text import clip, escape, when
from bot.security.model import ClusterVerdict, shown_key
from bot.security.text import verdict_line
from runbooks.checklist.security import CHECK_TITLES, CHECKS, AuditFinding

if TYPE_CHECKING:  # the audit's text needs neither (chatops-bot audit --print stays light)
    from bot.operations.offered import Offered
    from runbooks.changes.certs import CertRenew
    from runbooks.kube.certs import CertInfo

RANK_MARK = {3: "🔴", 2: "🟠", 1: "🟡"}
SHOWN_PER_CHECK = 15
SHOWN_CHANGES = 10
EXPIRING = 14  # days


def _finding(f: AuditFinding) -> str:
    return f"{RANK_MARK.get(f.rank, '•')} `{escape(f.ref)}` — {escape(f.why)}"


def _more(lines: list[str], total: int, what: str) -> list[str]:
    return lines + ([f"…and {total - len(lines)} more {what}"] if total > len(lines) else [])


def _cluster_lines(verdict: ClusterVerdict) -> list[tuple[str, list[str]]]:
    """(heading, lines) per part of one cluster's audit."""
    parts: list[tuple[str, list[str]]] = []
    if not verdict.first:
        changes = [f"🆕 {_finding(f)}" for f in verdict.new[:SHOWN_CHANGES]]
        changes = _more(changes, len(verdict.new), "new")
        fixed = [f"✅ fixed: {escape(shown_key(k))}" for k in verdict.fixed[:SHOWN_CHANGES]]
        changes += _more(fixed, len(verdict.fixed), "fixed")
        since = f" (last audit {when(verdict.previous_at)})" if verdict.previous_at else ""
        parts.append((f"Since the last audit{since}", changes or ["nothing new, nothing fixed"]))
    for check in CHECKS:
        found = [f for f in verdict.findings if f.check == check]
        if found:
            lines = _more([_finding(f) for f in found[:SHOWN_PER_CHECK]], len(found), "")
            parts.append((f"{CHECK_TITLES[check]} ({len(found)})", lines))
    expired = [
        f"⏰ `{escape(e.finding.ref)}` ({e.finding.check}): the exception for `{escape(e.exception.match)}` "
        f"expired on {e.exception.until} — {escape(e.exception.reason)}"
        for e in verdict.expired[:SHOWN_CHANGES]
    ]
    if expired:
        parts.append(("Exceptions expired (counted again)", _more(expired, len(verdict.expired), "")))
    accepted = [
        f"☑️ `{escape(a.finding.ref)}` — {escape(a.finding.why)}: {escape(a.exception.reason)}"
        + (f" (until {a.exception.until})" if a.exception.until else "")
        for a in verdict.accepted[:SHOWN_CHANGES]
    ]
    if accepted:
        parts.append((f"Accepted ({len(verdict.accepted)})", _more(accepted, len(verdict.accepted), "")))
    if verdict.notes:
        parts.append(("Not checked", [f"⚠️ {escape(n)}" for n in verdict.notes]))
    return parts


def audit_blocks(verdicts: Sequence[ClusterVerdict], now: datetime) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text="Security audit")]
    for verdict in verdicts:
        blocks.append(DividerBlock())
        blocks.append(SectionBlock(text=md(f"*{escape(verdict_line(verdict))}*")))
        if not verdict.reachable:
            continue
        if not verdict.findings and not verdict.notes:
            blocks.append(SectionBlock(text=md("✅ No findings.")))
        for heading, lines in _cluster_lines(verdict):
            blocks.extend(chunked_sections([f"*{escape(heading)}*", *lines]))
    footer = ContextBlock(elements=[md(f"Audited {when(now)} · accepted findings: `security.exceptions`")])
    # One message Slack takes (50 blocks, about 12,000 characters); the footer stays.
    (kept,) = messages(blocks, most=1, reserve=1, cut="…cut: `chatops-bot audit --print` shows all")
    return [*kept, footer]


# Certificates ---------------------------------------------------------------------------------------------------
def _expiry(cert: CertInfo, now: datetime) -> str:
    if cert.not_after is None:
        return "no expiry yet"
    days = (cert.not_after - now).days
    if cert.not_after <= now:
        return f"🔴 *expired* {when(cert.not_after)}"
    mark = "🟠 " if days < EXPIRING else ""
    return f"{mark}expires {when(cert.not_after)} (in {days} d)"


def cert_order(certs: Sequence[CertInfo], now: datetime) -> list[CertInfo]:
    """Expiring within 14 days first (soonest first), then the rest by name."""

    def key(c: CertInfo) -> tuple[int, float, str]:
        soon = c.not_after is not None and (c.not_after - now).days < EXPIRING
        return (0 if soon or not c.ready else 1, c.not_after.timestamp() if soon and c.not_after else 0.0, c.ref)

    return sorted(certs, key=key)


def certs_blocks(cluster: str, certs: Sequence[CertInfo], now: datetime) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=clip(f"Certificates in {cluster}: {len(certs)}", 150))]
    lines = []
    for cert in cert_order(certs, now)[:100]:
        ready = "Ready" if cert.ready else f"*not Ready* ({escape(cert.ready_reason or '?')})"
        renew = f", renews {when(cert.renewal_time)}" if cert.renewal_time else ""
        lines.append(
            f"`{escape(cert.ref)}`: {ready}, {_expiry(cert, now)}{renew} · {escape(cert.issuer)} · "
            f"secret `{escape(cert.secret)}`"
        )
    if len(certs) > 100:
        lines.append(f"…and {len(certs) - 100} more")
    blocks += chunked_sections(lines) if lines else [SectionBlock(text=md("No cert-manager Certificates."))]
    blocks.append(ContextBlock(elements=[md("Renew one: `/cert renew <namespace>/<name>` (operators)")]))
    return blocks


def renew_offer_blocks(
    cert: CertInfo, change: CertRenew, offered: Offered, refusal: str | None, now: datetime
) -> list[Block]:
    ready = "Ready" if cert.ready else f"not Ready ({escape(cert.ready_reason or '?')})"
    facts = (
        f"*Certificate* `{escape(cert.ref)}`: {ready}, {_expiry(cert, now)}, issued by {escape(cert.issuer)}, "
        f"secret `{escape(cert.secret)}`, revision {cert.revision or 0}"
    )
    blocks: list[Block] = [HeaderBlock(text=clip(f"Renew: {cert.ref}", 150)), SectionBlock(text=md(facts))]
    button = offered.button("renew", f"Renew {cert.name}", title="Renew?", states=change.states, confirm="Renew")
    if button is not None:
        return [*blocks, ActionsBlock(elements=[button])]
    return [*blocks, SectionBlock(text=md(f"No renewal offered: {escape(refusal or '?')}."))]
