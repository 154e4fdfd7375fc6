"""The on-call hand-off checklist (the guide's "On-Call Handoff Checklist"): posted in the incidents channel at each
weekly hand-off (a scheduled post, once across replicas) and on ``/oncall handoff``.

Its own lines are the incidents open and those of the past week; every other domain adds its line as a
:class:`HandoffLine` on the board (upcoming maintenance, what is firing), shown in their order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack, telemetry
from bot.core.board import Board
from bot.core.redis import Client, RedisBacked, StoreUnavailable
from bot.core.schedule import ScheduledPost
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.incidents.store import IncidentStore
from bot.oncall.render import handoff_blocks
from bot.oncall.roster import Roster
from bot.oncall.rotation import WEEKDAYS, Handoff

log = logging.getLogger(__name__)

HANDOFF_GRACE = timedelta(minutes=15)
CLAIM_TTL = timedelta(days=8)


@dataclass(frozen=True)
class HandoffLine:
    """``☐ *title* note`` and then ``lines(now)`` (or ``empty`` when there are none)."""

    key: str
    order: int
    title: str
    lines: Callable[[datetime], Awaitable[list[str]]]
    note: str = ""
    empty: str = "✅ none"


class HandoffChecklist(RedisBacked):
    def __init__(
        self,
        redis: Client,
        *,
        client: AsyncWebClient,
        incidents: IncidentStore,
        roster: Roster,
        config: BotConfig,
        board: Board,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(redis, "the hand-off's thread")
        self.clock = clock
        self.client = client
        self.incidents = incidents
        self.roster = roster
        self.config = config
        self.board = board

    async def post(self, now: datetime, trigger: str, team: str | None = None) -> None:
        """Post the checklist as it stands at ``now`` (of ``team``: in its channel, its incidents; None: the default
        team's, or everyone's without ``teams``); a Slack failure is raised (the poller tries again)."""
        name, _ = self.roster.team(team)
        who = await self.roster.now(now, name)
        several = len(self.roster.teams) > 1
        active = await self.incidents.active()
        past_week = await self.incidents.recent(now - timedelta(days=7))
        if several:  # each team reviews its own incidents
            active = [i for i in active if self.roster.owner(i.team) == name]  # a team gone: the default's
            past_week = [i for i in past_week if self.roster.owner(i.team) == name]
        open_now = sorted(active, key=lambda i: (i.severity.value, i.number))
        covers = [c for c in await self.roster.covers(name, now) if c.until > now]
        lines = []
        for line in self.board.of(HandoffLine):
            found = await line.lines(now)
            title = f"*{line.title}*" + (f" {line.note}" if line.note else "")
            lines.append((title, "\n".join(found) or line.empty))
        blocks = handoff_blocks(who, open_now, past_week, now, lines, team=name if several else None, covers=covers)
        try:
            posted = await self.client.chat_postMessage(
                channel=self.config.team_channel(name) if several else self.config.channels.incidents,
                text="On-call hand-off checklist" + (f": {name}" if several else ""),
                blocks=blocks,
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "the hand-off checklist", exc)
            raise
        telemetry.HANDOFFS_POSTED.labels(trigger=trigger).inc()
        if trigger == "scheduled" and name == self.roster.default:  # posted: a store failure must not post it again
            place = {"channel": posted.get("channel"), "ts": posted.get("ts"), "at": now.isoformat()}
            try:
                async with self.io():
                    await self.redis.set(keys.HANDOFF_POSTED, json.dumps(place), ex=int(CLAIM_TTL.total_seconds()))
            except StoreUnavailable as exc:
                log.warning("the hand-off's thread is not kept (unconfirmed test pages go to the lead by DM): %s", exc)

    async def last_thread(self, since: datetime) -> tuple[str, str] | None:
        """The channel and ts of the last scheduled hand-off checklist, when it was posted at or after ``since``."""
        async with self.io():
            found = await self.redis.get(keys.HANDOFF_POSTED)
        if found is None:
            return None
        place = json.loads(found)
        if not place.get("channel") or not place.get("ts") or datetime.fromisoformat(place["at"]) < since:
            return None
        return str(place["channel"]), str(place["ts"])

    def scheduled_posts(self) -> list[ScheduledPost]:
        """Each team's checklist at its own weekly hand-off, within 15 minutes of it (also by a replica that starts
        meanwhile); a post Slack refused is tried again every ``escalation.retry_failed_page_after`` by any replica,
        within that time. Without ``teams``, the one checklist of the ``oncall`` rotation (its claim keys as ever)."""
        if len(self.roster.teams) == 1:
            return [self._scheduled(None, "oncall-handoff", keys.handoff)]
        return [
            self._scheduled(name, f"oncall-handoff-{name}", lambda at, name=name: keys.team_handoff(name, at))  # type: ignore[misc]
            for name in self.roster.teams
        ]

    def scheduled_post(self) -> ScheduledPost:
        """The default team's checklist (its trigger: the paging tests follow that hand-off)."""
        return self._scheduled(None, "oncall-handoff", keys.handoff)

    def _scheduled(self, team: str | None, key: str, claim: Callable[[str], str]) -> ScheduledPost:
        _, found = self.roster.team(team)
        handoff = Handoff.parse(found.handoff)
        trigger = CronTrigger(
            day_of_week=WEEKDAYS[handoff.weekday],
            hour=handoff.at.hour,
            minute=handoff.at.minute,
            timezone=ZoneInfo(found.timezone),
        )
        retry = self.config.escalation.retry_failed_page_after
        tries = max(1, int(HANDOFF_GRACE / retry))

        async def run(tick: datetime) -> None:
            await self.post(self.clock(), trigger="scheduled", team=team)

        return ScheduledPost(
            key,
            trigger,
            lambda tick: claim(tick.astimezone(UTC).isoformat()),
            run,
            grace=HANDOFF_GRACE,
            catch_up=True,
            retry_waits=(retry,) * tries,
            claim_ttl=CLAIM_TTL,
        )
