"""An incident's "What changed": at open, the changes of the last ``changes.lookback`` in its scope, most suspicious
first, posted in its thread as one message (posted once across replicas; edited when more arrives, as an
enrichment's labels narrow the scope), and kept for its post-mortem's timeline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.changes import render
from bot.changes.feed import ChangeFeed
from bot.changes.model import Scope, ranked, scope_of
from bot.core import keys, slack
from bot.core.durations import format_duration
from bot.core.redis import RedisBacked
from bot.core.settings.config import BotConfig
from bot.core.settings.teams import owners
from bot.core.slack import SLACK_ERRORS
from bot.core.text import as_text, escape
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident
from bot.incidents.store import IncidentStore
from runbooks.kube.history.model import Change

log = logging.getLogger(__name__)

KEPT = 30 * 86400
POSTING = 60  # seconds a replica holds the first post of the message (a crash lets the next call post it)
WAIT_FOR_POST = 15.0  # a later call (an enrichment) waits this long for the first post, to edit it


class IncidentChanges(RedisBacked):
    def __init__(
        self,
        *,
        feed: ChangeFeed,
        store: IncidentStore,
        client: AsyncWebClient,
        config: BotConfig,
        clock: Callable[[], datetime],
    ) -> None:
        super().__init__(store.redis, store.description)
        self.feed = feed
        self.store = store
        self.client = client
        self.config = config
        self.clock = clock

    async def opened(self, incident: Incident) -> None:
        await self.post(incident)

    async def post(self, incident: Incident, labels: Mapping[str, str] | None = None) -> None:
        """Read, rank and post (or edit) the incident's changes, in the scope of ``labels`` (an enrichment's alert)
        or else of the incident. The first call to claim the message posts it; a later call with labels edits it
        (waiting for the first post if it is under way); a later call without labels leaves it as it is."""
        if not await self.feed.reachable():
            return
        key = keys.changes_post(incident.number)
        place = await self._place(key)
        if labels is None and place.get("ts"):
            return  # posted already (by an enrichment, narrower than the group's common labels): kept as it is
        if not place.get("ts") and not await self.claim(keys.changes_claim(incident.number), POSTING):
            if labels is None:
                return  # another call is posting it (an enrichment's, or another replica's)
            place = await self._place(key, wait=WAIT_FOR_POST)  # edit it once posted
            if not place.get("ts"):
                return
        where = await self.store.where_to_reply(incident, wait=10.0)
        if where is None:
            log.warning("the changes of %s not posted: it has no announcement", incident.ref)
            return
        scope = scope_of(incident, labels, self.feed.clusters.names)
        text, blocks, top = await self._message(incident, scope)
        await self.store.keep_changes(incident.number, [entry(c) for c in top])
        try:
            if place.get("ts"):
                await self.client.chat_update(channel=place["channel"], ts=place["ts"], text=text, blocks=blocks)
                return
            posted = await self.client.chat_postMessage(
                channel=where[0], thread_ts=where[1], text=text, blocks=blocks, unfurl_links=False
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the changes of {incident.ref}", exc)
            return
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={"channel": str(posted.get("channel")), "ts": str(posted.get("ts"))})
            pipe.expire(key, KEPT)
            await pipe.execute()

    async def _place(self, key: str, wait: float = 0.0) -> dict[str, str]:
        """Where the message is (``channel``, ``ts``), waiting up to ``wait`` seconds for it to be posted."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            async with self.io():
                place = {as_text(k): as_text(v) for k, v in (await self.redis.hgetall(key)).items()}
            if place.get("ts") or asyncio.get_running_loop().time() >= deadline:
                return place
            await asyncio.sleep(0.2)

    async def _message(self, incident: Incident, scope: Scope) -> tuple[str, list[Block], list[Change]]:
        lookback = self.config.changes.lookback
        start = incident.opened_at
        feeds = await self.feed.read(start - lookback, self.clock(), cluster=scope.cluster)
        changes = ranked([c for f in feeds for c in f.changes], scope, start)
        shown = self.config.changes.shown
        top = changes[:shown]
        origin = {"incident": incident.number, "offered_to": None}
        buttons = await self.feed.rollbacks(top, origin)
        rest = len(changes) - len(top)
        where = f" {scope.namespace}" if scope.namespace else ""
        more = f"…and {rest} more: `/changes{where} --since={format_duration(lookback)}`" if rest else ""
        title = (
            f"🔎 *What changed* in the {format_duration(lookback)} before {incident.ref}, most suspicious first "
            f"(scope: {escape(scope.shown)})"
        )
        teams = owners(self.config.teams, self.config.default_team)  # grouped by owner team (None: no teams)
        blocks = render.feed_blocks(
            title, top, feeds, buttons=list(buttons.values()), more=more, start=start, ref=incident.ref, owners=teams
        )
        head = f"{len(changes)} change(s) in the {format_duration(lookback)} before {incident.ref}"
        return head, blocks, top


def entry(change: Change) -> TimelineEntry:
    """A change as a post-mortem's timeline row."""
    where = render.where(change)
    return TimelineEntry(at=change.at, actor=change.by or "", kind="changed", text=f"{where} {change.summary}")
