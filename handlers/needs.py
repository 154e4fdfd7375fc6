"""What the listeners may use, named here rather than taken from the composition root: ``bot.runtime.services``
builds an object with these parts and hands it to ``handlers.register_all``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.firing import FiringAlerts
from bot.alerts.service import AlertService
from bot.alerts.statuspage import PublicStatus
from bot.backups.service import BackupService
from bot.capacity.service import CapacityService
from bot.changes.feed import ChangeFeed
from bot.core.permissions import Access
from bot.core.settings.config import BotConfig
from bot.core.tasks import BackgroundTasks
from bot.digest.service import DigestService
from bot.dr.service import DrService
from bot.home.service import HomeService
from bot.incidents.flows import IncidentFlows
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentStore
from bot.maintenance.eks import EksService
from bot.maintenance.patches import PatchService
from bot.maintenance.service import MaintenanceService
from bot.oncall.covers import Covers
from bot.oncall.handoff import HandoffChecklist
from bot.oncall.overrides import Overrides
from bot.oncall.roster import Roster
from bot.oncall.store import OnCallStore
from bot.operations.execute import ChangeExecutor
from bot.operations.follow import Follower
from bot.operations.run import RunbookRunner
from bot.paging.engine import Pager
from bot.reports.weekly import WeeklyReports
from bot.security.service import SecurityService
from bot.tickets.actions import ActionItems
from bot.tickets.service import IncidentTickets


class Needs(Protocol):
    @property
    def config(self) -> BotConfig: ...
    @property
    def client(self) -> AsyncWebClient: ...
    @property
    def store(self) -> IncidentStore: ...
    @property
    def incidents(self) -> IncidentService: ...
    @property
    def flows(self) -> IncidentFlows: ...
    @property
    def access(self) -> Access: ...
    @property
    def tasks(self) -> BackgroundTasks: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...
    @property
    def oncall(self) -> OnCallStore: ...
    @property
    def roster(self) -> Roster: ...
    @property
    def overrides(self) -> Overrides: ...
    @property
    def handoff(self) -> HandoffChecklist: ...
    @property
    def covers(self) -> Covers: ...
    @property
    def digest(self) -> DigestService: ...
    @property
    def runbooks(self) -> RunbookRunner: ...
    @property
    def changes(self) -> ChangeFeed: ...
    @property
    def executor(self) -> ChangeExecutor: ...
    @property
    def follower(self) -> Follower: ...
    @property
    def backups(self) -> BackupService: ...
    @property
    def dr(self) -> DrService: ...
    @property
    def maintenance(self) -> MaintenanceService: ...
    @property
    def eks(self) -> EksService: ...
    @property
    def patches(self) -> PatchService: ...
    @property
    def security(self) -> SecurityService: ...
    @property
    def capacity(self) -> CapacityService: ...
    @property
    def weekly(self) -> WeeklyReports: ...
    @property
    def alerts(self) -> AlertService: ...
    @property
    def firing(self) -> FiringAlerts | None: ...
    @property
    def statuspage(self) -> PublicStatus | None: ...
    @property
    def home(self) -> HomeService: ...
    @property
    def pager(self) -> Pager | None: ...
    @property
    def tickets(self) -> IncidentTickets | None: ...
    @property
    def actions(self) -> ActionItems | None: ...
