"""Incident rooms (the incident's own channel, ``incident_channels`` in the config):
``#inc-42-checkout-api-returns-500s`` with the right people, the summary pinned.

Created once per incident across replicas (a Redis claim), named within Slack's rules with
``name_taken`` handled, linked from the announcement, found again from the channel id so commands
typed inside it may omit the incident id, and archived on close when configured.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.ids import is_user
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import IncidentChannels
from bot.core.slack import SLACK_ERRORS
from bot.incidents.announcement import Announcer
from bot.incidents.model import Incident
from bot.incidents.render import announcement_blocks
from bot.incidents.room_name import channel_name
from bot.incidents.service import IncidentService
from bot.incidents.text import headline

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
BOT_ACTOR = "chatops-bot"


class IncidentRooms:
    def __init__(
        self, client: AsyncWebClient, incidents: IncidentService, announcer: Announcer, settings: IncidentChannels
    ) -> None:
        self.client = client
        self.incidents = incidents
        self.announcer = announcer
        self.settings = settings

    async def open_room(self, incident: Incident, invitees: Iterable[str | None]) -> str | None:
        """Create, populate and link the incident's channel; return its id (None if not wanted or failed)."""
        if not self.settings.wanted(incident.severity):
            return None
        store = self.incidents.store
        try:
            if not await store.claim(keys.room_claim(incident.number), ttl_seconds=3600):
                return None
        except StoreUnavailable as exc:
            log.error("incident channel for %s not created: %s", incident.ref, exc)
            return None
        channel = await self._create(incident)
        if channel is None:
            await store.release(keys.room_claim(incident.number))
            return None
        try:
            await store.set_room(channel, incident.number)
            linked, _ = await self.incidents.link_room(incident.number, channel, BOT_ACTOR)
        except StoreUnavailable as exc:
            log.error("incident channel %s for %s created but not linked: %s", channel, incident.ref, exc)
            return channel
        # The linked incident is the one stored at the link: a commander assigned while the channel was being
        # created is on it (and their own assignment found no channel to invite them to yet).
        await self.invite(channel, [*invitees, linked.commander])
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
            except SLACK_ERRORS as exc:
                if isinstance(exc, SlackApiError) and exc.response.get("error") == "name_taken":
                    continue
                slack.failed("conversations.create", incident.ref, exc)
                return None
        log.error("no free channel name for %s after %d attempts", incident.ref, MAX_NAME_ATTEMPTS)
        return None

    async def invite(self, channel: str, users: Iterable[str | None]) -> None:
        wanted = sorted({u for u in users if u and is_user(u)})
        if not wanted:
            return
        try:
            await self.client.conversations_invite(channel=channel, users=",".join(wanted))
        except SLACK_ERRORS as exc:
            if slack.error_code(exc) != "already_in_channel":
                slack.failed("conversations.invite", f"{channel} ({', '.join(wanted)})", exc, logging.WARNING)

    async def invite_paged(self, incident: Incident, paged: str) -> None:
        """Whoever is paged joins the incident's channel."""
        if incident.room:
            await self.invite(incident.room, [paged])

    async def _post_summary(self, incident: Incident, channel: str) -> None:
        try:
            resp = await self.client.chat_postMessage(
                channel=channel, text=headline(incident), blocks=announcement_blocks(incident, incident.opened_at)
            )
            await self.client.pins_add(channel=channel, timestamp=str(resp["ts"]))
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage/pins.add", incident.ref, exc)

    async def archive(self, incident: Incident) -> None:
        if not (incident.room and self.settings.archive_on_close):
            return
        try:
            await self.client.conversations_archive(channel=incident.room)
        except SLACK_ERRORS as exc:
            slack.failed("conversations.archive", incident.ref, exc)
