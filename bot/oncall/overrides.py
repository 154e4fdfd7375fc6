"""Overrides of the rotation: someone is primary for a while (``/oncall override``, the App Home's "Take over"), or
the rotation decides again; each said in the incidents channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.durations import format_duration
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import user, when
from bot.oncall.roster import Roster
from bot.oncall.store import OnCallStore

MAX_OVERRIDE = timedelta(days=14)


class Overrides:
    def __init__(
        self,
        *,
        store: OnCallStore,
        roster: Roster,
        client: AsyncWebClient,
        channel: str,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.roster = roster
        self.client = client
        self.channel = channel
        self.tasks = tasks
        self.clock = clock

    async def set(self, actor: str, target: str, duration: timedelta) -> str:
        """Make ``target`` primary for ``duration`` (``actor`` is an operator: the caller checked); announced.
        Returns what to tell ``actor``."""
        now = self.clock()
        until = now + duration
        await self.store.set_override(target, until, actor, now)
        self.roster.forget_override()
        self._announce(f"{user(actor)} made {user(target)} primary on call until {when(until)}.")
        return f"{user(target)} is primary on call until {when(until)} ({format_duration(duration)})."

    async def clear(self, actor: str) -> str:
        await self.store.clear_override(actor, self.clock())
        self.roster.forget_override()
        self._announce(f"{user(actor)} cleared the on-call override; the rotation decides again.")
        return "Override cleared: the rotation decides again."

    def _announce(self, text: str) -> None:
        self.tasks.spawn(self._post(text), name="oncall-news")

    async def _post(self, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=self.channel, text=text)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "on-call news", exc)
