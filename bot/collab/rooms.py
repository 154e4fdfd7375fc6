"""Incident channels: ``#inc-42-checkout-api-returns-500s`` with the right people, the summary pinned.

Created once per incident across replicas (a Redis claim), named within Slack's rules with
``name_taken`` handled, linked from the announcement, found again from the channel id so commands
typed inside it may omit the incident id, and archived on close when configured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.announcer import Announcer
from bot.incidents.channels import channel_name
from bot.incidents.model import Incident
from bot.incidents.service import IncidentService
from bot.redis_conn import StoreUnavailable
from bot.render import announcement_blocks, headline
from bot.settings import IncidentChannels
from bot.slack_client import SLACK_ERRORS

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
BOT_ACTOR = "chatops-bot"


def channel_key(channel: str) -> str:
    return f"chan:{channel}"


class IncidentRooms:
    def __init__(
        self, client: AsyncWebClient, incidents: IncidentService, announcer: Announcer, settings: IncidentChannels
    ) -> None:
        self.client = client
        self.incidents = incidents
        self.announcer = announcer
        self.settings = settings

    async def incident_for_channel(self, channel: str) -> int | None:
        """The incident whose channel this is, if any."""
        async with self.incidents.store.io():
            raw = await self.incidents.store.redis.get(channel_key(channel))
        return int(raw) if raw else None

    async def open_room(self, incident: Incident, invitees: Iterable[str | None]) -> str | None:
        """Create, populate and link the incident's channel; return its id (None if not wanted or failed)."""
        if not self.settings.wanted(incident.severity):
            return None
        store = self.incidents.store
        try:
            if not await store.claim(f"inc:{{{incident.number}}}:room", ttl_seconds=3600):
                return None
        except StoreUnavailable as exc:
            log.error("incident channel for %s not created: %s", incident.ref, exc)
            return None
        channel = await self._create(incident)
        if channel is None:
            await store.release(f"inc:{{{incident.number}}}:room")
            return None
        try:
            async with store.io():
                await store.redis.set(channel_key(channel), str(incident.number))
            linked, _ = await self.incidents.link_channel(incident.number, channel, BOT_ACTOR)
        except StoreUnavailable as exc:
            log.error("incident channel %s for %s created but not linked: %s", channel, incident.ref, exc)
            return channel
        await self.invite(channel, invitees)
        await self._post_summary(linked, channel)
        await self.announcer.refresh(incident.number)
        return channel

    async def _create(self, incident: Incident) -> str | None:
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
            name = channel_name(incident.number, incident.title, attempt)
            try:
                resp = await self.client.conversations_create(name=name, is_private=self.settings.private)
                log.info("created #%s for %s", name, incident.ref)
                return str(resp["channel"]["id"])
            except SlackApiError as exc:
                if exc.response.get("error") == "name_taken":
                    continue
                self._failed("conversations.create", incident, exc)
                return None
            except SLACK_ERRORS as exc:
                self._failed("conversations.create", incident, exc)
                return None
        log.error("no free channel name for %s after %d attempts", incident.ref, MAX_NAME_ATTEMPTS)
        return None

    async def invite(self, channel: str, users: Iterable[str | None]) -> None:
        wanted = sorted({u for u in users if u and u.startswith(("U", "W"))})
        if not wanted:
            return
        try:
            await self.client.conversations_invite(channel=channel, users=",".join(wanted))
        except SlackApiError as exc:
            if exc.response.get("error") != "already_in_channel":
                metrics.SLACK_API_ERRORS.labels(method="conversations.invite").inc()
                log.warning("inviting %s to %s failed: %s", wanted, channel, exc.response.get("error"))
        except SLACK_ERRORS as exc:
            metrics.SLACK_API_ERRORS.labels(method="conversations.invite").inc()
            log.warning("inviting to %s failed: %s", channel, type(exc).__name__)

    async def invite_paged(self, incident: Incident, paged: str) -> None:
        """Whoever is paged joins the incident's channel."""
        if incident.channel:
            await self.invite(incident.channel, [paged])

    async def _post_summary(self, incident: Incident, channel: str) -> None:
        try:
            resp = await self.client.chat_postMessage(
                channel=channel, text=headline(incident), blocks=announcement_blocks(incident, incident.opened_at)
            )
            await self.client.pins_add(channel=channel, timestamp=str(resp["ts"]))
        except SLACK_ERRORS as exc:
            self._failed("chat.postMessage/pins.add", incident, exc)

    async def archive(self, incident: Incident) -> None:
        if not (incident.channel and self.settings.archive_on_close):
            return
        try:
            await self.client.conversations_archive(channel=incident.channel)
        except SLACK_ERRORS as exc:
            self._failed("conversations.archive", incident, exc)

    def _failed(self, method: str, incident: Incident, exc: Exception) -> None:
        metrics.SLACK_API_ERRORS.labels(method=method).inc()
        detail = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.error("Slack %s for %s failed: %s", method, incident.ref, detail)
