"""A maintenance window's one message (in the incidents channel, with the buttons of the moment) and its copy for
stakeholders: posted once, edited as the window moves on, replied to in its thread; its node changes stored as
offers, renewed after every change so a spent button is replaced."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.outbox import Outbox
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.timeline import TimelineEntry
from bot.maintenance import render
from bot.maintenance.model import Window, WindowState
from bot.maintenance.store import MaintenanceStore
from bot.operations.follow import ThreadSink
from bot.operations.offers import Offers
from runbooks.changes import Change
from runbooks.changes.nodes import Cordon, Drain, Uncordon

log = logging.getLogger(__name__)

OFFER_SLACK = timedelta(days=1)  # node offers live until the window's end and a day more


def node_changes(window: Window) -> dict[str, Change]:
    """The node changes a window offers as it stands: cordon what is not cordoned yet, uncordon what it cordoned,
    drain each node (while running); after it is done only the uncordon of what is left."""
    out: dict[str, Change] = {}
    if window.state is WindowState.RUNNING:
        left = [n for n in window.nodes if n not in window.cordoned]
        if left:
            out["cordon"] = Cordon(nodes=left, cluster=window.cluster)
        for node in window.nodes[: render.MAX_DRAIN_BUTTONS]:
            out[f"drain:{node}"] = Drain(node=node, cluster=window.cluster)
    if window.cordoned and window.state in (WindowState.RUNNING, WindowState.DONE):
        out["uncordon"] = Uncordon(nodes=list(window.cordoned), cluster=window.cluster)
    return out


class WindowMessages:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        store: MaintenanceStore,
        config: BotConfig,
        offers: Offers,
        clock: Callable[[], datetime],
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.store = store
        self.config = config
        self.offers = offers
        self.clock = clock

    async def announce(self, window: Window) -> Window:
        """Post the window's message in the incidents channel and its copy for stakeholders; keep where they are."""
        places: dict[str, tuple[str, str]] = {}
        targets = [("message", self.config.channels.incidents, self.blocks(window))]
        if self.config.channels.stakeholders:
            targets.append(("mirror", self.config.channels.stakeholders, render.mirror_blocks(window)))
        for key, channel, blocks in targets:
            try:
                posted = await self.client.chat_postMessage(
                    channel=channel, text=render.announcement_text(window), blocks=blocks
                )
                places[key] = (str(posted["channel"]), str(posted["ts"]))
            except SLACK_ERRORS as exc:
                slack.failed("chat.postMessage", f"the announcement of {window.ref}", exc)
        if not places:
            return window
        seen: list[int] = []

        def record(w: Window) -> tuple[Window, TimelineEntry]:
            seen.append(w.version)
            where = ", ".join(c for c, _ in places.values())
            entry = TimelineEntry(at=self.clock(), actor="bot", kind="announced", text=where)
            return w.model_copy(update=places), entry

        async def keep() -> None:  # posted: where it is kept while the state store is away (so it can be edited)
            updated, _ = await self.store.change(window.number, record)
            if seen[-1] != window.version:  # changed while it was being posted (a tick): show that too
                await self.refresh(updated)

        await self.outbox.deliver(f"where the message of {window.ref} is", keep)
        return window.model_copy(update=places)

    def blocks(self, window: Window) -> list[Block]:
        return render.announcement(window, node_changes(window), len(self.config.maintenance.smoke_tests))

    async def refresh(self, window: Window) -> None:
        """Edit the window's message and its copy to show it as it is now."""
        for place, blocks in ((window.message, self.blocks(window)), (window.mirror, render.mirror_blocks(window))):
            if place is None:
                continue
            try:
                await self.client.chat_update(
                    channel=place[0], ts=place[1], text=render.announcement_text(window), blocks=blocks
                )
            except SLACK_ERRORS as exc:
                slack.failed("chat.update", f"the announcement of {window.ref}", exc)

    async def thread(
        self, window: Window, text: str, blocks: list[Block] | None = None, *, broadcast: bool = False
    ) -> None:
        """A reply in the window's thread (in the incidents channel when its message was never posted)."""
        channel, ts = window.message or (self.config.channels.incidents, None)
        try:
            await self.client.chat_postMessage(
                channel=channel, thread_ts=ts, text=text, blocks=blocks, reply_broadcast=broadcast and ts is not None
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"a note on {window.ref}", exc)

    def sink(self, window: Window) -> ThreadSink:
        channel, ts = window.message or (self.config.channels.incidents, "")

        async def fallback(text: str, blocks: list[Any] | None = None) -> None:
            log.info("%s: %s", window.ref, text)

        return ThreadSink(self.client, channel, ts, fallback)

    async def renew_offers(self, window: Window) -> Window:
        """Store the node changes of the moment as offers (new opaque ids), so a spent button is replaced."""
        changes = node_changes(window)
        ttl = int(max((window.end + OFFER_SLACK - self.clock()).total_seconds(), 3600))
        ids = {
            key: await self.offers.offer({**change.model_dump(), "window": window.number}, ttl_seconds=ttl)
            for key, change in changes.items()
        }
        updated, _ = await self.store.change(
            window.number,
            lambda w: (
                w.model_copy(update={"offers": ids}),
                TimelineEntry(at=self.clock(), actor="bot", kind="offers"),
            ),
        )
        return updated
