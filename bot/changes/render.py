"""The change feed in Slack (pure): one line per change, newest first or most suspicious first, times as Slack date
tokens (each reader sees their own zone), and the Roll back buttons of the rollouts that can be rolled back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, ContextBlock, SectionBlock

from bot.core.blocks import chunked_sections, md
from bot.core.durations import format_duration
from bot.core.ids import is_user
from bot.core.settings.teams import Owners
from bot.core.text import clip, escape, user, when
from runbooks.kube.history.model import Change, Feed, Kind

LINE_LIMIT = 300
BUTTONS = 5  # Roll back buttons on one message


def where(change: Change) -> str:
    if change.kind in (Kind.NODE_JOINED, Kind.NODE_REMOVED, Kind.NODE_CORDONED):
        return f"node {change.name}"
    name = change.workload.split("/", 1)[1] if change.workload else change.name
    return f"{change.namespace}/{name}" if change.namespace else name


def by(change: Change) -> str:
    if not change.by:
        return ""
    if change.kind is Kind.BOT and is_user(change.by):
        return f" by {user(change.by)}"
    return f" by {escape(clip(change.by, 60))}"


def relative(at: datetime, start: datetime, ref: str) -> str:
    gap = start - at
    if abs(gap.total_seconds()) < 60:
        return f"as {ref} opened"
    return f"{format_duration(abs(gap))} {'before' if gap.total_seconds() > 0 else 'after'} {ref}"


def line(change: Change, *, cluster: bool = False, start: datetime | None = None, ref: str = "") -> str:
    """``14:02 production/api-gateway rollout 2.4.1 → 2.4.2 (rev 7) by argocd — 12m before INC-42``."""
    mark = " ⚠️ failed" if change.failed else ""
    text = f"{when(change.at, '{date_short} {time}')} *{escape(where(change))}* {escape(change.summary)}{mark}"
    text += by(change)
    if cluster:
        text += f" _({escape(change.cluster)})_"
    if start is not None and ref:
        text += f" — {relative(change.at, start, ref)}"
    return clip(text, LINE_LIMIT)


def problems(feeds: Sequence[Feed]) -> list[str]:
    return [f"⚠️ {escape(f.cluster)}: {escape(clip(p, 200))}" for f in feeds for p in f.problems]


def feed_blocks(
    title: str,
    changes: Sequence[Change],
    feeds: Sequence[Feed],
    *,
    buttons: Sequence[ButtonElement] = (),
    more: str = "",
    start: datetime | None = None,
    ref: str = "",
    owners: Owners | None = None,
) -> list[Block]:
    """A title, the lines (Slack's limits kept: sections of at most 3,000 characters), what could not be read,
    and the Roll back buttons; with teams configured (``owners``), the lines under a heading per team owning the
    change's namespace."""
    several = len({f.cluster for f in feeds}) > 1
    if owners is not None and changes:
        lines = []
        for team, owned in owners.group(changes, lambda c: owners.of_namespace(c.namespace)):
            lines.append(f"*{escape(owners.heading(team))}* ({len(owned)})")
            lines += [line(c, cluster=several, start=start, ref=ref) for c in owned]
    else:
        lines = [line(c, cluster=several, start=start, ref=ref) for c in changes] or ["Nothing changed in that time."]
    blocks: list[Block] = [SectionBlock(text=md(title)), *chunked_sections(lines)]
    notes = problems(feeds) + ([more] if more else [])
    if notes:
        blocks.append(ContextBlock(elements=[md("\n".join(notes), 2900)]))
    if buttons:
        blocks.append(ActionsBlock(elements=list(buttons[:BUTTONS])))
    return blocks


def handoff_lines(feeds: Sequence[Feed], owners: Owners | None = None) -> list[str]:
    """The hand-off's "Review recent changes/deployments", per cluster: every rollout named (failed or rolled-back
    ones marked; with teams configured, ``owners``, under the team owning its namespace), config changes counted by
    namespace, nodes joined and removed."""
    out = []
    for feed in feeds:
        rollouts = [c for c in feed.changes if c.kind is Kind.ROLLOUT or c.kind is Kind.HELM]
        config = Counter(c.namespace or "?" for c in feed.changes if c.kind in (Kind.CONFIG, Kind.SECRET))
        joined = sum(1 for c in feed.changes if c.kind is Kind.NODE_JOINED)
        removed = sum(1 for c in feed.changes if c.kind is Kind.NODE_REMOVED)
        parts = [f"*{escape(feed.cluster)}*: {len(rollouts)} rollout(s)"]
        if config:
            parts.append("config " + ", ".join(f"{escape(ns)} {n}" for ns, n in config.most_common(8)))
        if joined or removed:
            parts.append(f"nodes +{joined} −{removed}")
        out.append(" · ".join(parts))
        out += _rollout_lines(rollouts[:12], owners)
        if len(rollouts) > 12:
            out.append(f"    …and {len(rollouts) - 12} more: `/changes --since=7d`")
        out += [f"    {p}" for p in problems([feed])]
    return out


def _rollout_lines(rollouts: Sequence[Change], owners: Owners | None) -> list[str]:
    if owners is None:
        return [f"    • {line(change)}" for change in rollouts]
    out = []
    for team, owned in owners.group(rollouts, lambda c: owners.of_namespace(c.namespace)):
        out.append(f"    _{escape(owners.heading(team))}_ ({len(owned)})")
        out += [f"      • {line(change)}" for change in owned]
    return out
