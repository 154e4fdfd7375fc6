"""Status updates (COMMUNICATE): to the incident's channel or thread and to the stakeholders channel;
and reminders to the commander when a P1/P2 has gone too long without one (once per interval,
whichever replica gets there first)."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack
from bot.core.durations import format_duration
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.text import SECTION_LIMIT, clip, escape, user
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident, State
from bot.incidents.store import IncidentStore
from bot.incidents.text import SEVERITY_EMOJI

log = logging.getLogger(__name__)

REMINDED_STATES = {State.OPEN, State.ACKNOWLEDGED, State.MITIGATED}


def update_blocks(incident: Incident, entry: TimelineEntry) -> list[SectionBlock | ContextBlock]:
    sev = incident.severity
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=clip(
                    f"📣 *Status update — {incident.ref}* {SEVERITY_EMOJI[sev]} {sev.value}: "
                    f"{escape(incident.title)}\n>{escape(entry.text)}",
                    SECTION_LIMIT,
                )
            )
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"State: *{incident.state.value}* · Commander: {user(incident.commander)} · "
                    f"posted by {user(entry.actor)}"
                )
            ]
        ),
    ]


class StatusUpdates:
    def __init__(self, client: AsyncWebClient, store: IncidentStore, config: BotConfig) -> None:
        self.client = client
        self.store = store
        self.config = config

    async def publish(self, incident: Incident, entry: TimelineEntry) -> None:
        """Post the update where responders and stakeholders read it."""
        blocks = update_blocks(incident, entry)
        text = f"Status update — {incident.ref}: {escape(entry.text)}"
        targets: list[tuple[str, str | None]] = []
        try:
            where = await self.store.where_to_reply(incident)
        except StoreUnavailable as exc:
            log.error("status update of %s not posted to the incident: %s", incident.ref, exc)
            where = None
        if where:
            targets.append(where)
        if self.config.channels.stakeholders:
            targets.append((self.config.channels.stakeholders, None))
        for channel, thread in targets:
            try:
                await self.client.chat_postMessage(
                    channel=channel, thread_ts=thread, text=text, blocks=blocks, unfurl_links=False
                )
            except SLACK_ERRORS as exc:
                slack.failed("chat.postMessage", f"the status update of {incident.ref} to {channel}", exc)

    async def remind(self, now: datetime) -> int:
        """Nudge commanders of quiet P1/P2 incidents; return how many reminders this replica sent."""
        policy = self.config.updates
        interval = policy.remind_after.total_seconds()
        sent = 0
        for incident in await self.store.active():
            if incident.severity not in policy.remind_severities or incident.state not in REMINDED_STATES:
                continue
            since = incident.last_update_at or incident.opened_at
            quiet = (now - since).total_seconds()
            if quiet < interval:
                continue
            bucket = int(quiet // interval)
            key = keys.reminder(incident.number, int(since.timestamp()), bucket)
            if not await self.store.claim(key, ttl_seconds=int(interval * 2) + 60):
                continue
            where = await self.store.where_to_reply(incident)
            if where is None:
                continue
            who = user(incident.commander) if incident.commander else "Incident commander (none assigned yet)"
            text = (
                f"⏰ {who}: no status update on {incident.ref} for {format_duration(now - since)}. "
                f"Stakeholders are waiting: `/incident update {incident.ref} <what is happening>`"
            )
            try:
                await self.client.chat_postMessage(channel=where[0], thread_ts=where[1], text=text)
                sent += 1
            except SLACK_ERRORS as exc:
                slack.failed("chat.postMessage", f"the update reminder of {incident.ref}", exc)
        return sent
