"""The weekly report's "Who did what in the clusters": for each cluster of ``aws.eks.clusters``, its control plane's
audit log in CloudWatch Logs summed up per person (``runbooks.aws.audit``): changes, exec/attach into pods, Secret
reads by people, denied requests. Said plainly when the cluster's audit logging is off; a cluster whose log cannot be
read says why in one line, naming CloudWatch Logs, and the others (and the rest of the report) are posted."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING

from bot.core.board import WeeklySection
from bot.core.settings.config import BotConfig
from bot.core.settings.platform import AwsConfig
from bot.core.text import clip, escape
from runbooks.aws.audit.model import TOP, ClusterAudit, Person

if TYPE_CHECKING:
    from runbooks.aws.session import AwsSession

TITLE = "Who did what in the clusters (EKS audit logs)"
LINE = 300  # characters of one person's line
# Characters of the whole section, shared by its clusters: the weekly report is one Slack message (about 11,000
# characters with cost, access, reliability and the other sections), so a busy week names its most active people
# and counts the rest.
BUDGET = 3500
LEAST = 700  # characters any one cluster gets however many there are


def _counted(counts: dict[str, int], most: int = 3) -> str:
    shown = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{escape(what)} ×{n}" for what, n in shown[:most])
    return text + (f", {len(shown) - most} more" if len(shown) > most else "")


def person_line(person: Person) -> str:
    parts = []
    if person.changes:
        parts.append(f"{sum(person.changes.values())} change(s) ({_counted(person.changes)})")
    if person.into_pods:
        parts.append(f"exec/attach ×{sum(person.into_pods.values())} ({_counted(person.into_pods)})")
    if person.secret_reads:
        parts.append(f"Secret reads ×{person.secret_reads}")
    if person.denied:
        parts.append(f"🚫 denied ×{sum(person.denied.values())} ({_counted(person.denied)})")
    return clip(f"• {escape(person.name)}: {'; '.join(parts)}", LINE)


def cluster_lines(audit: ClusterAudit, eks_name: str, budget: int = BUDGET) -> list[str]:
    """One cluster's lines: its head, then the most active people (at most ``TOP``, within ``budget`` characters),
    then how many more there were."""
    head = f"*{escape(audit.cluster)}*" + (f" (EKS {escape(eks_name)})" if eks_name != audit.cluster else "")
    if audit.off:
        return [f"⚪ {head}: {escape(audit.off)}"]
    if not audit.people:
        return [f"{head}: no changes, exec, Secret reads or denied requests by people this week."]
    partial = " (partial: the read stopped at its page bound; the week has more)" if audit.partial else ""
    lines = [f"{head}: {audit.events} request(s) by {len(audit.people)} person(s)/account(s){partial}"]
    used = len(lines[0]) + len("…and 99999 more")
    for person in audit.people[:TOP]:
        line = person_line(person)
        if used + 1 + len(line) > budget:
            break
        lines.append(line)
        used += 1 + len(line)
    if len(audit.people) > len(lines) - 1:
        lines.append(f"…and {len(audit.people) - len(lines) + 1} more")
    return lines


class ClusterAudits:
    def __init__(self, config: AwsConfig, aws: AwsSession) -> None:
        self.config = config
        self.aws = aws

    async def lines(self, start: datetime, end: datetime) -> list[str]:
        clusters = self.config.eks.clusters
        found = await asyncio.gather(*(self._cluster(name, start, end) for name in clusters))
        return shared(list(found), {name: clusters[name].name for name in clusters})

    async def _cluster(self, name: str, start: datetime, end: datetime) -> ClusterAudit | str:
        """The cluster's audit (logging off included), or the line saying why it could not be read."""
        from runbooks.aws.audit import logs  # noqa: PLC0415 - botocore only when AWS is used
        from runbooks.aws.errors import AWS_ERRORS, explain  # noqa: PLC0415

        eks = self.config.eks.clusters[name]
        region = self.config.eks_region(eks)
        try:
            enabled = await asyncio.to_thread(logs.audit_enabled, self.aws.eks(region), eks.name)
        except AWS_ERRORS as exc:
            note = explain(exc, "eks:DescribeCluster", f"EKS cluster {eks.name}")
            return f"⚠️ *{escape(name)}*: audit log not read (EKS, CloudWatch Logs): {escape(note)}"
        if not enabled:
            return ClusterAudit(name, off=logs.enable_hint(eks.name, region))
        client = self.aws.client("logs", region)
        try:
            return await asyncio.to_thread(
                lambda: logs.read(client, name, eks.name, region=region, start=start, end=end)
            )
        except AWS_ERRORS as exc:
            note = explain(exc, logs.PERMISSION, f"CloudWatch Logs group {logs.log_group(eks.name)}")
            return f"⚠️ *{escape(name)}*: CloudWatch Logs not read: {escape(note)}"


def shared(found: list[ClusterAudit | str], eks_names: dict[str, str]) -> list[str]:
    """Every cluster's lines, in order, within ``BUDGET`` together: what the quiet clusters leave is shared by the busy
    ones (each at least ``LEAST``)."""
    sizes = {
        i: len("\n".join(cluster_lines(f, eks_names[f.cluster]))) for i, f in enumerate(found) if not isinstance(f, str)
    }
    left = BUDGET - sum(len(f) for f in found if isinstance(f, str))
    budgets: dict[int, int] = {}
    for n, i in enumerate(sorted(sizes, key=sizes.__getitem__)):  # the smallest first: the rest is shared
        budgets[i] = max(LEAST, min(sizes[i], left // (len(sizes) - n)))
        left -= budgets[i]
    out: list[str] = []
    for i, f in enumerate(found):
        out += [f] if isinstance(f, str) else cluster_lines(f, eks_names[f.cluster], budgets[i])
    return out


def section(config: BotConfig, aws: AwsSession | None) -> WeeklySection | None:
    """The section, when there are EKS clusters to read (``aws.eks.clusters``) and AWS is configured."""
    if aws is None or config.aws is None or not config.aws.eks.clusters:
        return None
    return WeeklySection("cluster-audit", 40, TITLE, ClusterAudits(config.aws, aws).lines)
