"""Maintenance reminders: at T-7 d, T-1 d, T-15 min, at the start and at an overrun, each exactly once across
replicas and restarts (a durable due set, claimed like escalation's pages; what went out is recorded with HSETNX)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.maintenance import render
from bot.maintenance.model import Reminder, WindowState, parse_member
from bot.maintenance.store import MaintenanceStore, WindowNotFound

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
RETRY_FAILED_POST = timedelta(seconds=30)


class Reminders:
    def __init__(
        self, *, client: AsyncWebClient, store: MaintenanceStore, config: BotConfig, clock: Callable[[], datetime]
    ) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.clock = clock

    async def tick(self, now: datetime) -> int:
        """Post every reminder that is due, each exactly once across replicas; how many were claimed."""
        claimed = await self.store.reminders.claim_due(now, now + LEASE)
        for member in claimed:
            try:
                await self._remind(member, now)
            except StoreUnavailable as exc:  # the claim lapses and another tick takes it again
                log.warning("maintenance reminder %s deferred: %s", member, exc)
            except SLACK_ERRORS as exc:
                slack.failed("chat.postMessage", f"maintenance reminder {member}", exc)
                await self.store.reminders.complete(member, now + RETRY_FAILED_POST)
        return len(claimed)

    async def _remind(self, member: str, now: datetime) -> None:
        parsed = parse_member(member)
        if parsed is None:
            await self.store.reminders.complete(member, None)
            return
        number, kind = parsed
        try:
            window = await self.store.get(number)
        except WindowNotFound:
            await self.store.reminders.complete(member, None)
            return
        due = window.state is WindowState.SCHEDULED or (
            kind is Reminder.OVERRUN and window.state is WindowState.RUNNING
        )
        if not due or await self.store.was_sent(number, kind):
            await self.store.reminders.complete(member, None)
            return
        text = render.reminder_text(window, kind)
        if kind in (Reminder.WEEK, Reminder.DAY):
            for channel in filter(None, (self.config.channels.incidents, self.config.channels.stakeholders)):
                await self.client.chat_postMessage(channel=channel, text=text)
        elif kind is Reminder.SOON:
            opened = await self.client.conversations_open(users=window.owner)
            await self.client.chat_postMessage(channel=str(opened["channel"]["id"]), text=text)
        elif window.message is not None:
            await self.client.chat_postMessage(
                channel=window.message[0], thread_ts=window.message[1], text=text, reply_broadcast=True
            )
        else:
            await self.client.chat_postMessage(channel=self.config.channels.incidents, text=text)
        await self.store.mark_sent(number, kind, now)
        await self.store.reminders.complete(member, None)
