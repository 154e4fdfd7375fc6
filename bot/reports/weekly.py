"""The weekly report (the guide's "Weekly: review cost reports, audit access logs"): cost from Cost Explorer, the
access audit from the bot's own ``audit`` stream, and the week's reliability (incidents, pages, backups). Posted on
``reports.weekly_cron`` in ``channels.digest`` once across replicas, and on demand with ``/report weekly``.

Each section stands alone: a section whose source fails says so, naming it, and the rest is posted.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.blocks import chunked_sections, md, messages
from bot.core.board import Board, WeeklySection
from bot.core.errors import DependencyError
from bot.core.schedule import ScheduledPost
from bot.core.settings.config import BotConfig
from bot.core.settings.teams import Owners, owners
from bot.core.slack import SLACK_ERRORS
from bot.core.text import escape, user, when
from bot.incidents.model import Incident
from bot.incidents.render import severity_lines
from bot.incidents.store import IncidentStore
from bot.oncall.store import OnCallStore
from bot.reports.store import ReportStore
from runbooks import cron
from runbooks.aws import cost as ce

if TYPE_CHECKING:
    from runbooks.aws.session import AwsSession

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
COST_WAIT = 150.0  # seconds a request waits for another's Cost Explorer call (its claim lapses after 120)
COST_POLL = 0.1  # seconds between looks at the day's answer meanwhile
# Mutations any responder may make (the rest need permissions.operators): not flagged when a responder made them.
RESPONDER_MUTATIONS = frozenset({"backup-create", "db-snapshot", "maintenance-smoke"})
BACKUP_KINDS = {
    "backup-create": "Velero backups taken",
    "db-snapshot": "RDS snapshots taken",
    "velero-restore": "Velero restores",
    "rds-restore": "RDS restores",
}
SHOWN = 25


@dataclass
class Access:
    mutations: list[dict[str, str]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    operators: list[str] = field(default_factory=list)
    flagged: list[dict[str, str]] = field(default_factory=list)
    note: str | None = None


@dataclass
class Reliability:
    incidents: list[Incident] = field(default_factory=list)
    pages: int = 0
    escalated: list[int] = field(default_factory=list)  # incidents paged past step 1
    paged: dict[int, int] = field(default_factory=dict)  # incident → pages sent for it (each team's count)
    backups: Counter[str] = field(default_factory=Counter)
    note: str | None = None
    owners: Owners | None = None  # with ``teams`` configured: the incidents grouped by team


@dataclass
class Weekly:
    start: datetime
    end: datetime
    cost: ce.CostSummary | None
    cost_note: str | None
    access: Access
    reliability: Reliability
    more: list[tuple[str, list[str]]] = field(default_factory=list)  # the declared sections: (title, lines)


def access_of(entries: Sequence[dict[str, str]]) -> Access:
    """The week's audit entries as the access audit: mutations (every attempt that was not refused), refusals by
    person, the operators who acted, and mutations by anyone who was not an operator then."""
    found = Access()
    for entry in entries:
        kind, result = entry.get("kind", "?"), entry.get("result")
        if result is None or kind == "runbook":  # a read (a runbook run): not a mutation
            continue
        actor = entry.get("actor", "?")
        if result.startswith("refused"):
            found.refused[actor] += 1
            continue
        found.mutations.append(entry)
        if entry.get("operator") == "yes" and actor not in found.operators:
            found.operators.append(actor)
        if entry.get("operator") == "no" and kind not in RESPONDER_MUTATIONS:
            found.flagged.append(entry)
    return found


class WeeklyReports:
    def __init__(
        self,
        *,
        config: BotConfig,
        client: AsyncWebClient,
        store: ReportStore,
        incidents: IncidentStore,
        oncall: OnCallStore,
        aws: AwsSession | None,
        clock: Callable[[], datetime],
        board: Board | None = None,
    ) -> None:
        self.board = board
        self.config = config
        self.client = client
        self.store = store
        self.incidents = incidents
        self.oncall = oncall
        self.aws = aws
        self.clock = clock
        self._reading: dict[str, asyncio.Future[tuple[dict[str, dict[str, float]] | None, str | None]]] = {}
        self.trigger = cron.trigger(config.reports.weekly_cron, ZoneInfo(config.digest.timezone))

    async def build(self) -> Weekly:
        end = self.clock()
        start = end - WEEK
        (summary, note), audit, reliability = await asyncio.gather(
            self._cost(end), self._audit(start, end), self._reliability(start, end)
        )
        if isinstance(audit, str):  # the audit stream could not be read: both parts that use it say so
            access, reliability = Access(note=audit), Reliability(note=reliability.note or audit)
        else:  # the week's audit entries, read once: the access audit and the backups made through the bot
            access = access_of(audit)
            reliability.backups = Counter(
                e["kind"] for e in audit if e.get("kind") in BACKUP_KINDS and e.get("result") == "done"
            )
        return Weekly(start, end, summary, note, access, reliability, await self._more(start, end))

    async def _more(self, start: datetime, end: datetime) -> list[tuple[str, list[str]]]:
        """The sections other domains declared (``WeeklySection``), each read at once; one that fails says so."""
        sections = self.board.of(WeeklySection) if self.board is not None else []
        found = await asyncio.gather(*(s.lines(start, end) for s in sections), return_exceptions=True)
        out = []
        for section, read in zip(sections, found, strict=True):
            if isinstance(read, BaseException):
                log.warning("the weekly report's %s failed: %r", section.key, read)
                out.append((section.title, [f"⚠️ not read: {type(read).__name__} (the bot's log has the details)"]))
            else:
                out.append((section.title, read))
        return out

    async def _cost(self, end: datetime) -> tuple[ce.CostSummary | None, str | None]:
        if self.aws is None:
            return None, "AWS is not configured (set aws.region)"
        day = end.date()
        # Single flight: the requests of this replica share one read, and the replicas one Cost Explorer call.
        reading = self._reading.get(day.isoformat())
        if reading is None:
            reading = asyncio.ensure_future(self._costs_of(day))
            self._reading[day.isoformat()] = reading
            reading.add_done_callback(lambda _: self._reading.pop(day.isoformat(), None))
        costs, note = await asyncio.shield(reading)
        if costs is None:
            return None, note
        settings = self.config.reports
        summary = ce.summarize(
            costs, day, anomaly_percent=settings.anomaly_percent, anomaly_dollars=settings.anomaly_dollars
        )
        return summary, None

    async def _costs_of(self, day: date) -> tuple[dict[str, dict[str, float]] | None, str | None]:
        """The day's answer: cached, or asked by the one request (of any replica) holding the day's claim while
        the others wait for it. With the store down, this replica asks Cost Explorer itself, once."""
        key, token = day.isoformat(), secrets.token_hex(8)
        waited_until = asyncio.get_running_loop().time() + COST_WAIT
        while True:
            try:
                costs = await self.store.cached_cost(key)
                if costs is not None:
                    return costs, None
                if await self.store.claim_cost(key, token):
                    return await self._ask_cost_explorer(day, claimed=True)
                claim = await self.store.cost_claim(key)
            except DependencyError:
                return await self._ask_cost_explorer(day, claimed=False)
            if claim is not None and claim.startswith("failed:"):
                return None, claim.removeprefix("failed:")
            if asyncio.get_running_loop().time() > waited_until:
                return None, "Cost Explorer is still being asked by another request; try again in a minute"
            await asyncio.sleep(COST_POLL)  # the claim is held: its answer (or refusal) is on its way

    async def _ask_cost_explorer(
        self, day: date, *, claimed: bool
    ) -> tuple[dict[str, dict[str, float]] | None, str | None]:
        from runbooks.aws.errors import AWS_ERRORS, explain  # noqa: PLC0415 - botocore only when AWS is used

        assert self.aws is not None
        key = day.isoformat()
        client = self.aws.cost_explorer()
        try:
            costs = await asyncio.to_thread(ce.daily_by_service, client, day)
        except AWS_ERRORS as exc:
            note = explain(exc, ce.PERMISSION, "Cost Explorer")
            if claimed:
                try:
                    await self.store.cost_failed(key, note)  # told to those waiting, asked again a little later
                except DependencyError:
                    await self.store.release_cost(key)
            return None, note
        except BaseException:
            if claimed:
                await self.store.release_cost(key)
            raise
        try:
            await self.store.keep_cost(key, costs)
        except DependencyError as exc:
            log.warning("Cost Explorer's answer not cached: %s", exc)
        if claimed:
            await self.store.release_cost(key)  # after the answer is kept: a waiter finds it
        return costs, None

    async def _audit(self, start: datetime, end: datetime) -> list[dict[str, str]] | str:
        """The week's audit entries, or why they could not be read."""
        try:
            return await self.store.audit_entries(start, end)
        except DependencyError as exc:
            return str(exc)

    async def _reliability(self, start: datetime, end: datetime) -> Reliability:
        try:
            week = [i for i in await self.incidents.recent(start) if i.opened_at < end]
            steps = await self.oncall.pages_sent([i.number for i in week])
        except DependencyError as exc:
            return Reliability(note=str(exc))
        return Reliability(
            incidents=week,
            pages=sum(len(s) for s in steps.values()),
            paged={n: len(s) for n, s in steps.items()},
            escalated=sorted(n for n, s in steps.items() if any(step > 1 for step in s)),
            owners=owners(self.config.teams, self.config.default_team),
        )

    def scheduled_post(self) -> ScheduledPost | None:
        if self.config.channels.digest is None:
            return None
        return ScheduledPost("weekly-report", self.trigger, lambda tick: keys.report_tick(tick.isoformat()), self.post)

    async def post(self, tick: datetime) -> None:
        channel = self.config.channels.digest
        assert channel is not None
        await self.post_to(channel, f"the weekly report for {tick}")

    async def post_to(self, channel: str, what: str) -> None:
        report = await self.build()
        try:
            await self.client.chat_postMessage(
                channel=channel, text=headline(report), blocks=blocks(report), unfurl_links=False
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", what, exc)
            raise
        log.info("%s posted: %s", what, headline(report))


# Rendering (pure) ------------------------------------------------------------------------------------------------
def _money(value: float) -> str:
    return f"${value:,.2f}"


def _change(row: ce.ServiceCost) -> str:
    percent = f" ({row.percent:+.0f} %)" if row.percent is not None else " (new)"
    return f"{escape(row.service)}: {'+' if row.change >= 0 else '−'}{_money(abs(row.change))}{percent}"


def headline(report: Weekly) -> str:
    parts = [f"Weekly report {report.start:%Y-%m-%d} – {report.end:%Y-%m-%d}"]
    if report.cost is not None:
        parts.append(f"cost {_money(report.cost.week)} (week before {_money(report.cost.before)})")
    parts.append(f"{len(report.reliability.incidents)} incident(s)")
    parts.append(f"{len(report.access.mutations)} change(s) through the bot")
    if report.access.flagged:
        parts.append(f"{len(report.access.flagged)} by non-operators")
    return ", ".join(parts)


def cost_lines(report: Weekly) -> list[str]:
    summary = report.cost
    if summary is None:
        return [f"⚠️ Not available: {escape(report.cost_note or '?')}"]
    delta = summary.week - summary.before
    percent = f" ({100 * delta / summary.before:+.0f} %)" if summary.before > 0 else ""
    lines = [
        f"Last 7 days *{_money(summary.week)}*, the 7 before {_money(summary.before)}: "
        f"{'+' if delta >= 0 else '−'}{_money(abs(delta))}{percent}",
        "Top services: " + ", ".join(f"{escape(r.service)} {_money(r.week)}" for r in summary.top),
    ]
    if summary.up:
        lines.append("Up: " + "; ".join(_change(r) for r in summary.up))
    if summary.down:
        lines.append("Down: " + "; ".join(_change(r) for r in summary.down))
    lines += [f"🚨 *Anomaly*: {_change(r)}" for r in summary.anomalies]
    return lines


def access_lines(report: Weekly) -> list[str]:
    access = report.access
    if access.note:
        return [f"⚠️ Not available: {escape(access.note)}"]
    lines = [
        f"🚩 *Not an operator*: {user(e.get('actor'))} {escape(e.get('kind', '?'))} {escape(e.get('target', ''))}"
        for e in access.flagged[:SHOWN]
    ]
    if len(access.flagged) > SHOWN:
        lines.append(f"🚩 …and {len(access.flagged) - SHOWN} more by people who are not operators")
    for entry in access.mutations[-SHOWN:]:
        at = entry.get("id", "0-0").split("-")[0]
        moment = datetime.fromtimestamp(int(at) / 1000, UTC) if at.isdigit() else None
        lines.append(
            f"{when(moment) if moment else '?'} {user(entry.get('actor'))} · {escape(entry.get('kind', '?'))} · "
            f"{escape(entry.get('target', '?'))} · {escape(entry.get('result', '?'))}"
        )
    if len(access.mutations) > SHOWN:
        lines.append(f"…and {len(access.mutations) - SHOWN} earlier")
    if not access.mutations:
        lines.append("No changes were made through the bot.")
    refused = ", ".join(f"{user(actor)} ×{n}" for actor, n in access.refused.most_common())
    lines.append(f"Refused attempts: {refused or 'none'}")
    lines.append(f"Operators who acted: {', '.join(user(a) for a in access.operators) or 'none'}")
    return lines


def reliability_lines(report: Weekly) -> list[str]:
    week = report.reliability
    if week.note:
        return [f"⚠️ Not available: {escape(week.note)}"]
    if week.owners is not None and week.incidents:
        lines = []
        for team, owned in week.owners.group(week.incidents, lambda i: i.team):
            pages = sum(week.paged.get(i.number, 0) for i in owned)
            lines.append(f"_{escape(week.owners.heading(team))}_: {len(owned)} incident(s), {pages} page(s)")
            lines += [f"    {line}" for line in severity_lines(owned)]
    else:
        lines = severity_lines(week.incidents) or ["✅ No incidents this week."]
    escalated = ", ".join(f"INC-{n}" for n in week.escalated) or "none"
    lines.append(f"Pages sent: {week.pages}; escalated past the primary: {escalated}")
    taken = ", ".join(f"{label} {week.backups[k]}" for k, label in BACKUP_KINDS.items() if week.backups[k])
    lines.append(f"Backups through the bot: {taken or 'none'} (the morning digest checks the scheduled ones)")
    return lines


def blocks(report: Weekly) -> list[Block]:
    out: list[Block] = [HeaderBlock(text=f"Weekly report: {report.start:%b %d} – {report.end:%b %d}")]
    for title, lines in (
        ("Cost (AWS Cost Explorer, unblended)", cost_lines(report)),
        ("Access audit (changes through the bot)", access_lines(report)),
        ("Reliability", reliability_lines(report)),
        *report.more,
    ):
        out.append(DividerBlock())
        out.extend(chunked_sections([f"*{title}*", *lines]))
    footer = ContextBlock(elements=[md(f"Built {when(report.end)} · `/report weekly` builds it again")])
    # One message Slack takes (50 blocks, about 12,000 characters: a busy week's access audit is long); the footer
    # stays.
    (kept,) = messages(out, most=1, reserve=1, cut="…cut: the week's audit is longer than one Slack message")
    return [*kept, footer]
