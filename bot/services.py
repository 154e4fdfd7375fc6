"""The application's long-lived parts, built once per process and handed to every listener."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.announcer import Announcer
from bot.collab.rooms import IncidentRooms
from bot.collab.updates import StatusUpdates
from bot.digest_service import DigestService
from bot.incidents.service import IncidentService, utcnow
from bot.incidents.store import IncidentStore
from bot.oncall.escalator import Escalator
from bot.oncall.roster import Roster
from bot.oncall.store import OnCallStore
from bot.permissions import Access
from bot.settings import BotConfig
from bot.tasks import BackgroundTasks


@dataclass
class Services:
    config: BotConfig
    client: AsyncWebClient
    store: IncidentStore
    incidents: IncidentService
    announcer: Announcer
    access: Access
    tasks: BackgroundTasks
    clock: Callable[[], datetime]
    oncall: OnCallStore
    roster: Roster
    escalator: Escalator
    rooms: IncidentRooms
    updates: StatusUpdates
    digest: DigestService

    @classmethod
    def build(
        cls, config: BotConfig, client: AsyncWebClient, store: IncidentStore, clock: Callable[[], datetime] = utcnow
    ) -> Services:
        oncall = OnCallStore(store.redis, store.description)
        roster = Roster(config.oncall, oncall)
        escalator = Escalator(client=client, incidents=store, store=oncall, roster=roster, config=config, clock=clock)
        incidents = IncidentService(store, config, clock, escalation=escalator)
        announcer = Announcer(client, store, config.channels.incidents, clock)
        rooms = IncidentRooms(client, incidents, announcer, config.incident_channels)
        updates = StatusUpdates(client, store, config)
        escalator.on_paged = rooms.invite_paged
        escalator.every(min(10.0, config.updates.remind_after.total_seconds() / 2), updates.remind)
        return cls(
            config=config,
            client=client,
            store=store,
            incidents=incidents,
            announcer=announcer,
            access=Access(client, config.permissions),
            tasks=BackgroundTasks(),
            clock=clock,
            oncall=oncall,
            roster=roster,
            escalator=escalator,
            rooms=rooms,
            updates=updates,
            digest=DigestService(config, client, store, clock),
        )
