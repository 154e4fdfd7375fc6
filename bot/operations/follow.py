"""Following something that takes a while (a rollout after a change, a backup, a restore, a snapshot): one reply,
edited as it progresses, until it is complete or the time allowed has passed.

Where the reply lives is a sink: in the thread of the clicked message (``ThreadSink``), or the message behind a
slash command's response_url (``ResponseSink``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.slack import SLACK_ERRORS
from runbooks.changes import CHANGE_ERRORS, Change, Site

log = logging.getLogger(__name__)

FOLLOW_INTERVAL = 2.0
RESPONSE_URL_USES = 5  # Slack accepts five messages per response_url (within 30 minutes)

Reading = Callable[[], Awaitable[tuple[str, bool]]]


class Sink(Protocol):
    async def show(self, text: str) -> None: ...

    async def close(self, text: str) -> None: ...


class ThreadSink:
    """One reply in ``thread``, edited as it goes; where the bot may not post there, the final state goes to
    ``fallback(text, blocks=None)`` (the click's response_url) instead."""

    def __init__(
        self, client: AsyncWebClient, channel: str, thread: str, fallback: Callable[..., Awaitable[object]]
    ) -> None:
        self.client = client
        self.channel = channel
        self.thread = thread
        self.fallback = fallback
        self.posted: str | None = None  # ts of the progress reply
        self.writable = bool(channel and thread)

    async def show(self, text: str) -> None:
        if not self.writable:
            return
        try:
            if self.posted is None:
                resp = await self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread, text=text)
                self.posted = str(resp["ts"])
            else:
                await self.client.chat_update(channel=self.channel, ts=self.posted, text=text)
        except SLACK_ERRORS as exc:
            log.warning("progress not posted in the thread: %s", slack.error_code(exc))
            self.writable = False

    async def close(self, text: str) -> None:
        if self.posted is None:
            await self.fallback(text)

    async def post(self, text: str, blocks: list[Any]) -> None:
        """Another message in the thread (the offers that come next); where the bot may not post there, the
        text goes to the fallback."""
        if self.writable:
            try:
                await self.client.chat_postMessage(
                    channel=self.channel, thread_ts=self.thread, text=text, blocks=blocks
                )
                return
            except SLACK_ERRORS as exc:
                log.warning("not posted in the thread: %s", slack.error_code(exc))
        await self.fallback(text, blocks)


class ResponseSink:
    """The message behind a slash command's response_url, replaced as it goes. Slack takes at most five messages
    through one response_url, so intermediate states are shown at most ``budget - 1`` times, ``spacing`` seconds
    apart, and the last use is kept for the final state."""

    def __init__(
        self, respond: Any, *, in_channel: bool = False, budget: int = RESPONSE_URL_USES, spacing: float = 20.0
    ) -> None:
        self.respond = respond
        self.kind = "in_channel" if in_channel else "ephemeral"
        self.left = budget
        self.spacing = spacing
        self.last_shown: float | None = None
        self.shown = ""

    async def _send(self, text: str) -> None:
        self.left -= 1
        self.shown = text
        self.last_shown = asyncio.get_running_loop().time()
        await self.respond(text=text, response_type=self.kind, replace_original=True)

    async def show(self, text: str) -> None:
        now = asyncio.get_running_loop().time()
        if self.left > 1 and (self.last_shown is None or now - self.last_shown >= self.spacing):
            await self._send(text)

    async def close(self, text: str) -> None:
        if text != self.shown and self.left > 0:
            await self._send(text)


class Follower:
    def __init__(self, timeout: timedelta, interval: float = FOLLOW_INTERVAL) -> None:
        self.timeout = timeout.total_seconds()
        self.interval = interval

    async def follow(
        self, read: Reading, sink: Sink, title: str, *, still: str = "still going", timeout: float | None = None
    ) -> str:
        """Show ``title: <reading>`` until the reading says complete (or the time allowed passes); return it."""
        allowed = self.timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + allowed
        shown = ""
        while True:
            line, complete = await read()
            if not complete and loop.time() >= deadline:
                line = f"{still} after {int(allowed)} s ({line}); follow it with your usual dashboards"
                complete = True
            text = f"{title}: {line}"
            if text != shown:
                await sink.show(text)
            shown = text
            if complete:
                break
            await asyncio.sleep(self.interval)
        await sink.close(shown)
        return shown

    async def follow_change(self, change: Change, site: Site, sink: Sink) -> str:
        """After a change: its own progress reading (a rollout, a restore), in ``sink``; the last reading."""

        async def read() -> tuple[str, bool]:
            try:
                return await asyncio.to_thread(change.progress, site)
            except CHANGE_ERRORS as exc:
                return f"status unreadable: {change.explain(exc)}", True

        title = change.progress_title
        shown = await self.follow(read, sink, title, still=change.still, timeout=change.follow_for)
        return shown.removeprefix(f"{title}: ")
