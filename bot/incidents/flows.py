"""What follows an incident change, after Slack has been answered: the announcement and its thread,
the incident's room (channel), status updates, the post-mortem draft.

Runs in background tasks; Slack failures are logged and counted by the parts it calls, never raised,
except where the person who asked is told (the post-mortem upload).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.board import Board
from bot.core.outbox import Outbox
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.timeline import TimelineEntry
from bot.incidents import postmortem
from bot.incidents.announcement import Announcer
from bot.incidents.model import Incident, State
from bot.incidents.rooms import IncidentRooms
from bot.incidents.service import IncidentService
from bot.incidents.steps import AfterIncidentChange, AfterOpened, PagingHold, PostmortemActions
from bot.incidents.store import IncidentStore
from bot.incidents.updates import StatusUpdates

log = logging.getLogger(__name__)

PrimaryOnCall = Callable[[str | None], Awaitable[str | None]]  # the primary on call of a team (None: default)


def filename(incident: Incident) -> str:
    return f"postmortem-{incident.ref.lower()}.md"


async def draft(
    store: IncidentStore,
    config: BotConfig,
    number: int,
    tz: ZoneInfo | None = None,
    board: Board | None = None,
) -> tuple[Incident, str]:
    """The incident and its post-mortem Markdown, times in ``tz`` (default: the on-call time zone)."""
    incident = await store.get(number)
    entries, _ = await store.timeline(number)
    before = await store.changes_before(number)
    zone = tz or ZoneInfo(config.oncall.timezone)
    target = config.severities[incident.severity].ack_within
    items = [row for source in (board.of(PostmortemActions) if board else []) for row in await source.rows(incident)]
    text = postmortem.build(
        incident, entries, target, zone, generated_at=datetime.now(UTC), changes=before, action_items=items
    )
    return incident, text


class IncidentFlows:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        incidents: IncidentService,
        announcer: Announcer,
        rooms: IncidentRooms,
        updates: StatusUpdates,
        primary_on_call: PrimaryOnCall,
        board: Board,
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.incidents = incidents
        self.store = incidents.store
        self.config = incidents.config
        self.announcer = announcer
        self.rooms = rooms
        self.updates = updates
        self.primary_on_call = primary_on_call
        self.board = board

    async def opened(self, incident: Incident) -> None:
        """After an open: the announcement, then (if wanted) the incident's own channel (the primary on-call invited
        unless paging is held); the domain holding its paging is told."""
        await self.announcer.announce(incident)
        if incident.paging_held:
            await self._held(incident)
        if self.config.incident_channels.wanted(incident.severity):
            try:
                primary = None if incident.paging_held else await self.primary_on_call(incident.team)
            except StoreUnavailable:
                primary = None
            await self.rooms.open_room(incident, [incident.opened_by, incident.commander, primary])
        for after in self.board.of(AfterOpened):
            try:
                await after.opened(incident)
            except Exception:
                log.exception("%s after %s opened", after.key, incident.ref)

    async def _held(self, incident: Incident) -> None:
        for source in self.board.of(PagingHold):
            if incident.held is not None and source.key == incident.held.key and source.told is not None:
                try:
                    await source.told(incident)
                except Exception:
                    log.exception("%s not told that paging of %s is held", source.key, incident.ref)

    async def changed(self, incident: Incident, entry: TimelineEntry) -> None:
        await self.announcer.changed(incident, entry)
        if incident.state is State.CLOSED:
            await self.rooms.archive(incident)
        await self._after(incident, entry)

    async def _after(self, incident: Incident, entry: TimelineEntry) -> None:
        for after in self.board.of(AfterIncidentChange):
            try:
                await after.changed(incident, entry)
            except Exception:
                log.exception("%s after the change of %s", after.key, incident.ref)

    async def assigned(self, incident: Incident, entry: TimelineEntry) -> None:
        await self.announcer.changed(incident, entry)
        if incident.room:
            await self.rooms.invite(incident.room, [incident.commander])

    async def published(self, incident: Incident, entry: TimelineEntry) -> None:
        await self.updates.publish(incident, entry)
        await self.announcer.refresh(incident.number)
        await self._after(incident, entry)

    async def postmortem(self, number: int, actor: str, tz: ZoneInfo) -> tuple[Incident, str]:
        """Build the draft in ``tz``, upload it to the incident (files upload v2), record it on the timeline.

        Returns the incident and the channel it went to; raises StoreUnavailable (before the upload: nothing was
        posted) or a Slack error. Once uploaded, its record on the timeline goes through the outbox.
        """
        incident, markdown = await draft(self.store, self.config, number, tz, self.board)
        channel, thread = await self.store.where_to_reply(incident) or (self.config.channels.incidents, None)
        await self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            content=markdown,
            filename=filename(incident),
            title=f"Post-mortem draft — {incident.ref}: {incident.title}",
            initial_comment=f"📝 Post-mortem draft for {incident.ref}, built from its timeline. Fill in root cause "
            "and action items.",
        )

        async def record() -> None:  # the draft is uploaded: its record kept while the state store is away
            updated, entry = await self.incidents.postmortem_drafted(number, actor)
            await self._after(updated, entry)  # tickets: the Action items button under the draft

        await self.outbox.deliver(f"the post-mortem draft of {incident.ref} on its timeline", record)
        return incident, channel
