"""Following a rollout after a change: one reply in the thread of the clicked message, edited as the
rollout progresses, until it is complete or ``kubernetes.rollout_timeout`` has passed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.slack import SLACK_ERRORS
from runbooks.kube import deployment
from runbooks.kube.changes import Change
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS, explain

log = logging.getLogger(__name__)

FOLLOW_INTERVAL = 2.0


class RolloutFollower:
    def __init__(self, client: AsyncWebClient, timeout: timedelta, interval: float = FOLLOW_INTERVAL) -> None:
        self.client = client
        self.timeout = timeout.total_seconds()
        self.interval = interval

    async def follow(
        self, cluster: Cluster, change: Change, channel: str, thread: str, fallback: Callable[[str], Awaitable[object]]
    ) -> None:
        """Post and edit the progress reply in ``thread``; where the bot may not post there, the final state
        goes to ``fallback`` (the click's response_url) instead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        posted: str | None = None  # ts of the progress reply
        writable = bool(channel and thread)
        shown = ""
        while True:
            line, complete = await self.reading(cluster, change)
            if not complete and loop.time() >= deadline:
                line = f"still rolling out after {int(self.timeout)} s ({line}); follow it with your usual dashboards"
                complete = True
            text = f"Rollout of `{change.target}`: {line}"
            if text != shown and writable:
                try:
                    if posted is None:
                        resp = await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
                        posted = str(resp["ts"])
                    else:
                        await self.client.chat_update(channel=channel, ts=posted, text=text)
                except SLACK_ERRORS as exc:
                    log.warning(
                        "rollout progress of %s not posted in the thread: %s", change.target, slack.error_code(exc)
                    )
                    writable = False
            shown = text
            if complete:
                break
            await asyncio.sleep(self.interval)
        if posted is None:
            await fallback(shown)

    @staticmethod
    async def reading(cluster: Cluster, change: Change) -> tuple[str, bool]:
        """One progress line, and whether following should stop (complete, or the status is unreadable)."""
        try:
            line, complete = await asyncio.to_thread(
                deployment.rollout_status, cluster, change.namespace, change.deployment
            )
        except API_ERRORS as exc:
            return f"status unreadable: {explain(exc, f'deployment {change.target}')}", True
        return (f"rollout complete ({line})", True) if complete else (line, False)
