"""The health digest in words (pure, no Slack SDK): the verdict, each section's lines, and the whole digest as
plain text for a terminal (``chatops-bot digest --print``). Long lists are cut with "and N more", most severe first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.settings.teams import Owners
from bot.core.text import clip, escape
from bot.digest.model import Digest
from bot.incidents.model import Incident
from bot.incidents.text import summary_lines
from runbooks.checklist.model import ClusterHealth, Finding, Section
from runbooks.prometheus.model import KeyMetrics

MAX_LINES = 12
SECTION_LIMIT = 2900
FULL_LAYOUT_CLUSTERS = 5


def verdict(digest: Digest) -> str:
    open_count = len(digest.incidents or [])
    incidents = f", {open_count} open incident{'s' if open_count != 1 else ''}" if open_count else ""
    if digest.healthy:
        return f"🟢 All clear on {len(digest.clusters)} cluster{'s' if len(digest.clusters) != 1 else ''}{incidents}"
    degraded = f", {digest.degraded_checks} check(s) could not run" if digest.degraded_checks else ""
    return f"🔴 {digest.problems} problem(s) need attention{degraded}{incidents}"


def _section_lines(
    section: Section, limit: int = MAX_LINES, owners: Owners | None = None, *, bold: bool = True
) -> list[str]:
    """The section's findings, most severe first, cut at ``limit``. With teams configured and findings in namespaces
    (a section with an owner), those shown are under a heading per team owning the namespace (what no team owns,
    and findings of no namespace, the default team's; most severe first within each team), each heading counting
    all of that team's findings, and the cut naming whose the rest are."""
    if section.failed:
        return [f"⚠️ {section.note}"]
    if not section.findings:
        return ["✅ all clear" + (f" ({section.note})" if section.note else "")]
    shown = section.findings[:limit]
    more = [f"…and {len(section.findings) - limit} more"] if len(section.findings) > limit else []
    if owners is None or not any(f.namespace for f in section.findings):
        return [_finding_line(f) for f in shown] + more
    known = owners

    def team_of(finding: Finding) -> str:
        return known.of_namespace(finding.namespace)

    counts = {team: len(found) for team, found in owners.group(section.findings, team_of)}
    lines = []
    for team, found in owners.group(shown, team_of):
        heading = escape(owners.heading(team))
        lines.append(f"*{heading}* ({counts[team]})" if bold else f"{heading} ({counts[team]})")
        lines += [_finding_line(f) for f in found]
    if more:  # whose the rest are, so that a team none of whose findings made the cut is still named
        rest = owners.group(section.findings[limit:], team_of)
        more = [more[0] + " (" + ", ".join(f"{escape(team)} {len(found)}" for team, found in rest) + ")"]
    return lines + more


def _finding_line(finding: Finding) -> str:
    return f"• `{escape(finding.ref)}` — {escape(finding.why)}"


def section_text(section: Section, owners: Owners | None = None) -> str:
    count = f" ({len(section.findings)})" if section.findings else ""
    body = clip("\n".join(_section_lines(section, owners=owners)), SECTION_LIMIT - len(section.title) - 20)
    return f"*{section.title}*{count}\n{body}"


def incident_lines(incidents: Sequence[Incident], now: datetime, owners: Owners | None = None) -> list[str]:
    """The open incidents' lines; with teams configured, under a heading per team (``*team*``)."""
    if not incidents:
        return ["✅ none open"]
    if owners is None:
        return summary_lines(incidents, now, MAX_LINES, bullet="• ")
    lines = []
    for team, owned in owners.group(incidents, lambda i: i.team):
        lines.append(f"*{escape(owners.heading(team))}* ({len(owned)})")
        lines += summary_lines(owned, now, MAX_LINES, bullet="• ")
    return lines


def open_incident_lines(digest: Digest) -> list[str]:
    """The digest's "Open incidents" lines, or why they were not read."""
    if digest.incidents is None:
        return [f"⚠️ {digest.incidents_note}"]
    return incident_lines(digest.incidents, digest.at, digest.owners)


def _plain(value: float) -> str:
    return f"{value:g}"


METRIC_LABELS: dict[str, tuple[str, Callable[[float], str]]] = {
    "request_rate": ("Request rate", lambda v: f"{v:,.1f} req/s"),
    "error_rate": ("Error rate", lambda v: f"{v * 100:.2f} %"),
    "latency_p50": ("Latency p50", lambda v: f"{v * 1000:,.0f} ms"),
    "latency_p95": ("Latency p95", lambda v: f"{v * 1000:,.0f} ms"),
    "latency_p99": ("Latency p99", lambda v: f"{v * 1000:,.0f} ms"),
    "db_connections": ("DB connections", lambda v: f"{v:,.0f}"),
    "kafka_consumer_lag": ("Kafka consumer lag", lambda v: f"{v:,.0f} messages"),
}


def metric_lines(metrics: KeyMetrics) -> list[str]:
    if metrics.unreachable:
        return [f"⚠️ {metrics.unreachable}"]
    lines = []
    for name, value in metrics.values.items():
        label, fmt = METRIC_LABELS.get(name, (name, _plain))
        if name in metrics.problems:
            lines.append(f"• {label}: ⚠️ query failed ({escape(metrics.problems[name])})")
        elif name in metrics.series:  # several series: each by the labels that tell it apart, the largest first
            several = metrics.series[name]
            mark = _error_mark(metrics) if name == "error_rate" else ""
            count = len(several.shown) + several.more
            lines.append(f"• {label}, {count} series:{mark}")
            for series in several.shown:
                labels = ", ".join(f'{k}="{v}"' for k, v in series.labels.items())
                shown = "no data" if series.value is None else fmt(series.value)
                lines.append(clip(f"    ◦ {{{escape(labels)}}}: {shown}", 200))
            if several.more:
                lines.append(f"    …and {several.more} more series")
        elif value is None:
            lines.append(f"• {label}: no data")
        else:
            mark = _error_mark(metrics) if name == "error_rate" else ""
            lines.append(f"• {label}: {fmt(value)}{mark}")
    return lines


def _error_mark(metrics: KeyMetrics) -> str:
    target = f"{metrics.error_target * 100:g} %"
    return f" 🔴 above the {target} target" if metrics.error_rate_breached else f" ✅ under {target}"


def cluster_title(cluster: ClusterHealth) -> str:
    if not cluster.reachable:
        return f"🔴 *{cluster.name}*: {escape(cluster.error or 'unreachable')}"
    problems = sum(len(s.findings) for s in cluster.sections)
    mark = "🟢" if problems == 0 and not any(s.failed for s in cluster.sections) else "🔴"
    version = f"Kubernetes {cluster.version}" if cluster.version else "Kubernetes version unknown"
    return f"{mark} *{cluster.name}* — {version}, {problems} problem(s)"


def text(digest: Digest) -> str:
    """The same content as plain text, for ``chatops-bot digest --print`` and notification fallbacks."""
    lines = [f"Morning health digest — {digest.at:%Y-%m-%d %H:%M %Z}", verdict(digest), ""]
    for cluster in digest.clusters:
        lines.append(cluster_title(cluster).replace("*", ""))
        for section in cluster.sections if cluster.reachable else []:
            count = f" ({len(section.findings)})" if section.findings else ""
            lines.append(f"  {section.title}{count}")
            lines += [f"    {line}" for line in _section_lines(section, limit=50, owners=digest.owners, bold=False)]
        lines.append("")
    for part in digest.parts:
        lines.append(part.title)
        for section in part.sections:
            count = f" ({len(section.findings)})" if section.findings else ""
            lines.append(f"  {section.title}{count}")
            lines += [f"    {line}" for line in _section_lines(section, limit=50)]
        lines += [f"  {line.replace('*', '')}" for line in part.lines or []]
        lines.append("")
    lines.append("Open incidents")
    lines += [f"  {line.replace('*', '') if digest.owners else line}" for line in open_incident_lines(digest)]
    return "\n".join(line.replace("`", "") for line in lines) + "\n"
