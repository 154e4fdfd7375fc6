"""Maintenance reminders: at T-7 d, T-1 d, T-15 min, at the start and at an overrun, each exactly once across
replicas and restarts (a durable due set, claimed like escalation's pages; what went out is recorded with HSETNX).

Each destination of a reminder (the incidents channel, the stakeholders channel, the owner's DM, the window's
thread) is delivered on its own and recorded as it goes: one that fails for now (no answer, ``ratelimited``) is tried
again alone 30 s later, for at most an hour; one that refuses for good (``not_in_channel``, ``channel_not_found``) is
recorded as refused, logged once and said once in the window's thread, and never tried again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import partial

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.maintenance import render
from bot.maintenance.model import Reminder, Window, WindowState, parse_member
from bot.maintenance.store import MaintenanceStore, WindowNotFound

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
RETRY_FAILED_POST = timedelta(seconds=30)
GIVE_UP_AFTER = timedelta(hours=1)  # a destination still failing an hour after the reminder was due: said, not retried
OWNER = "owner"  # the destination of the T-15 min reminder: the owner's DM
THREAD = "thread"  # of the start and overrun reminders: the window's thread (broadcast)
WHAT = {
    Reminder.WEEK: "T-7 d reminder",
    Reminder.DAY: "T-1 d reminder",
    Reminder.SOON: "T-15 min reminder",
    Reminder.START: "start reminder",
    Reminder.OVERRUN: "overrun reminder",
}

Post = Callable[[], Awaitable[object]]


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
        due_at = window.reminders().get(kind, now)
        retry = False
        for destination, post in self._destinations(window, kind, text):
            if await self.store.delivered(number, kind, destination):
                continue
            what = f"the {WHAT[kind]} of {window.ref} to {destination}"
            try:
                await post()
            except SLACK_ERRORS as exc:
                if slack.transient(exc) and now - due_at < GIVE_UP_AFTER:
                    slack.failed("chat.postMessage", f"{what} (tried again in 30 s)", exc, level=logging.WARNING)
                    retry = True
                    continue
                code = slack.failed("chat.postMessage", f"{what}, not tried again", exc)
                if await self.store.mark_delivered(number, kind, destination, f"refused: {code}"):
                    await self._say_refused(window, kind, destination, code)
                continue
            await self.store.mark_delivered(number, kind, destination, now.isoformat())
        if retry:
            await self.store.reminders.complete(member, now + RETRY_FAILED_POST)
            return
        await self.store.mark_sent(number, kind, now)
        await self.store.reminders.complete(member, None)

    def _destinations(self, window: Window, kind: Reminder, text: str) -> list[tuple[str, Post]]:
        """Where a reminder goes, each with how it is posted there."""
        client = self.client
        if kind in (Reminder.WEEK, Reminder.DAY):
            channels = filter(None, (self.config.channels.incidents, self.config.channels.stakeholders))
            return [(c, partial(client.chat_postMessage, channel=c, text=text)) for c in dict.fromkeys(channels)]
        if kind is Reminder.SOON:

            async def dm() -> None:
                opened = await client.conversations_open(users=window.owner)
                await client.chat_postMessage(channel=str(opened["channel"]["id"]), text=text)

            return [(OWNER, dm)]
        if window.message is not None:
            channel, ts = window.message
            broadcast = partial(client.chat_postMessage, channel=channel, thread_ts=ts, text=text, reply_broadcast=True)
            return [(THREAD, broadcast)]
        incidents = self.config.channels.incidents
        return [(incidents, partial(client.chat_postMessage, channel=incidents, text=text))]

    async def _say_refused(self, window: Window, kind: Reminder, destination: str, code: str) -> None:
        """Once per refusal: a note in the window's thread (unless the thread is where it was refused)."""
        if window.message is None or destination in (THREAD, window.message[0]):
            return
        where = "the owner's DM" if destination == OWNER else f"<#{destination}>"
        text = f"⚠️ The {WHAT[kind]} of {window.ref} was not posted in {where}: Slack answered `{code}`"
        if code in ("not_in_channel", "channel_not_found"):
            text += " (invite the bot to the channel, or fix `channels` in the config)"
        try:
            await self.client.chat_postMessage(channel=window.message[0], thread_ts=window.message[1], text=text + ".")
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"the note on the refused {WHAT[kind]} of {window.ref}", exc)
