"""The incident announcement in ``channels.incidents``: posted once, edited in place, with a thread.

Runs after Slack has been acknowledged. Slack failures are logged and counted, never raised:
the incident and its timeline are already safe in Redis, and the next change re-renders the
announcement from the store (posting it then if the first post never went out).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import slack
from bot.core.board import Board
from bot.core.redis import StoreUnavailable
from bot.core.settings.incident_response import VendorLine
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import renewing
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident
from bot.incidents.render import announcement_blocks
from bot.incidents.steps import AnnouncementButtons
from bot.incidents.store import ANNOUNCING_TTL, IncidentStore
from bot.incidents.text import headline, thread_line

log = logging.getLogger(__name__)

MAX_REFRESH_ROUNDS = 5
# How long a change waits for an announcement another request is posting at that moment
# (longer than one Slack call with its retries, shorter than the posting lock's 30 s).
IN_FLIGHT_WAIT = 20.0
# Slack rate-limits edits of one message: at most one edit a second per announcement from a replica; changes that
# arrive meanwhile are folded into the next edit, which renders the latest state.
EDIT_EVERY = 1.0
EDITED_KEPT = 256


@dataclass
class _Editing:
    """An announcement being edited by this replica: ``again`` when a change came in since the edit began."""

    again: bool = False
    last: float = 0.0


class Announcer:
    def __init__(
        self,
        client: AsyncWebClient,
        store: IncidentStore,
        channel: str,
        clock: Callable[[], datetime],
        *,
        board: Board,
        lock_ttl: int = ANNOUNCING_TTL,
        vendor: VendorLine | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.channel = channel
        self.clock = clock
        self.board = board
        self.lock_ttl = lock_ttl
        self.vendor = vendor  # escalation.vendor_line, on a P1's announcement
        self._editing: dict[int, _Editing] = {}
        self._edited: dict[int, float] = {}  # when this replica last edited an announcement (the last second's)

    def blocks(self, incident: Incident) -> list[Block]:
        """The announcement as the incident stands, with every other domain's buttons on it."""
        extra = [button for c in self.board.of(AnnouncementButtons) for button in c.buttons(incident)]
        return announcement_blocks(incident, self.clock(), extra=extra, vendor=self.vendor)

    async def announce(self, incident: Incident) -> tuple[str, str] | None:
        """Post the announcement once (one poster across replicas); return where it is."""
        try:
            if not await self.store.claim_announcement(incident.number, self.lock_ttl):
                return None
        except StoreUnavailable as exc:
            log.error("announcement of %s skipped: %s", incident.ref, exc)
            return None
        try:
            async with renewing(
                lambda: self.store.renew_announcement(incident.number, self.lock_ttl),
                self.lock_ttl / 3,
                f"the announcing lock of {incident.ref}",
            ):
                resp = await self.client.chat_postMessage(
                    channel=incident.alert.channel if incident.alert and incident.alert.channel else self.channel,
                    text=headline(incident),
                    blocks=self.blocks(incident),
                    unfurl_links=False,
                )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", incident.ref, exc)
            await self.store.release_announcement(incident.number)
            return None
        where = (str(resp["channel"]), str(resp["ts"]))
        try:
            version = await self.store.set_announcement(incident.number, *where)
        except StoreUnavailable as exc:
            log.error("announcement of %s posted but its ts was not saved: %s", incident.ref, exc)
            return where
        if version != incident.version:
            await self.refresh(incident.number)
        return where

    async def changed(self, incident: Incident, entry: TimelineEntry) -> None:
        """After a change: bring the announcement up to date and add a line to its thread."""
        where = await self.refresh(incident.number)
        if where is None:
            # Another request may be posting the announcement right now (this change came in
            # between its claim and its saved ts): wait for it rather than drop the thread line.
            # The poster re-renders the announcement itself if the incident moved on meanwhile.
            try:
                where = await self.store.posted_announcement(incident.number, IN_FLIGHT_WAIT, while_claimed=True)
            except StoreUnavailable as exc:
                log.error("thread line of %s skipped: %s", incident.ref, exc)
                return
            if where is None:
                return
        channel, ts = where
        try:
            await self.client.chat_postMessage(channel=channel, thread_ts=ts, text=thread_line(incident, entry))
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", incident.ref, exc)

    async def refresh(self, number: int) -> tuple[str, str] | None:
        """Render the latest state into the announcement; repeat if it changed meanwhile.

        One edit of an announcement runs at a time in a replica, at most one a second: a change that comes in
        while one runs asks it for one more round (the latest state wins) and returns where the announcement is.
        Concurrent refreshes of other replicas may land in any order; each one re-checks the version after its
        update, so the last write always shows the latest state. Returns where the announcement is, or None when
        it could not be posted.
        """
        editing = self._editing.get(number)
        if editing is not None:
            editing.again = True
            try:
                return (await self.store.snapshot(number))[1]
            except StoreUnavailable:
                return None
        editing = self._editing[number] = _Editing()
        loop = asyncio.get_running_loop()
        stale = 0  # rounds for changes made elsewhere (another replica) that the edit found newer than it
        failed = 0  # rounds that failed while changes folded into this edit wait for it
        try:
            # Changes one after another (a storm's groups joining) are paced too: a second after the last edit.
            await asyncio.sleep(max(0.0, self._edited.get(number, -EDIT_EVERY) + EDIT_EVERY - loop.time()))
            while True:
                editing.again = False
                where, current, ok = await self._edit(number)
                editing.last = loop.time()
                if editing.again and ((ok and where is not None) or failed < MAX_REFRESH_ROUNDS):
                    # Changes came in meanwhile and returned on this edit (the announcement may even have been
                    # posted since this one found none): one more round for them.
                    failed += 0 if ok and where is not None else 1
                elif where is None or not ok:
                    return where
                elif not editing.again:
                    stale = 0 if current else stale + 1
                    if current or stale >= MAX_REFRESH_ROUNDS:
                        return where
                await asyncio.sleep(max(0.0, editing.last + EDIT_EVERY - loop.time()))
        finally:
            del self._editing[number]
            if editing.last:
                self._edited[number] = editing.last
            if len(self._edited) > EDITED_KEPT:  # forget what is past its second
                now = loop.time()
                self._edited = {n: t for n, t in self._edited.items() if now - t < EDIT_EVERY}

    async def _edit(self, number: int) -> tuple[tuple[str, str] | None, bool, bool]:
        """One edit: where the announcement is, whether what it shows is the latest state, and whether the edit
        went through."""
        try:
            incident, where = await self.store.snapshot(number)
        except StoreUnavailable as exc:
            log.error("announcement refresh of INC-%s skipped: %s", number, exc)
            return None, True, False
        if where is None:
            return await self.announce(incident), True, True
        channel, ts = where
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=headline(incident), blocks=self.blocks(incident))
        except SLACK_ERRORS as exc:
            slack.failed("chat.update", incident.ref, exc)
            return where, True, False
        try:
            return where, await self.store.version(number) == incident.version, True
        except StoreUnavailable:
            return where, True, True
