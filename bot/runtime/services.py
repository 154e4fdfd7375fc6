"""The application's long-lived parts, built once per process and handed to every listener.

This is where the domains are wired to each other (escalation hooks, the on-call primary for new
incident rooms, the reminders run by the poller): no domain imports its siblings to do it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.firing import FiringAlerts
from bot.alerts.service import AlertService
from bot.alerts.statuspage import PublicStatus, StatuspageApi
from bot.alerts.store import AlertStore
from bot.backups.service import BackupService
from bot.core.outbox import Outbox
from bot.core.permissions import Access
from bot.core.schedule import ScheduledPost
from bot.core.settings.config import BotConfig
from bot.core.tasks import BackgroundTasks
from bot.digest.build import DigestBuilder
from bot.digest.service import DigestService
from bot.home.service import HomeService
from bot.incidents.announcement import Announcer
from bot.incidents.flows import IncidentFlows
from bot.incidents.rooms import IncidentRooms
from bot.incidents.service import IncidentService, utcnow
from bot.incidents.store import IncidentStore
from bot.incidents.updates import StatusUpdates
from bot.maintenance.eks import EksService
from bot.maintenance.service import MaintenanceService
from bot.maintenance.store import MaintenanceStore
from bot.oncall.escalator import Escalator
from bot.oncall.roster import Roster
from bot.oncall.store import OnCallStore
from bot.operations.audit import AuditLog
from bot.operations.execute import ChangeExecutor
from bot.operations.follow import Follower
from bot.operations.offers import Offers
from bot.operations.run import RunbookRunner
from bot.security.service import SecurityService
from bot.security.store import SecurityStore
from bot.security.weekly import WeeklyReports
from runbooks.aws.session import Aws
from runbooks.kube.client import ClusterSet


@dataclass
class Services:
    config: BotConfig
    client: AsyncWebClient
    store: IncidentStore
    incidents: IncidentService
    flows: IncidentFlows
    access: Access
    tasks: BackgroundTasks
    clock: Callable[[], datetime]
    oncall: OnCallStore
    roster: Roster
    escalator: Escalator
    digest: DigestService
    runbooks: RunbookRunner
    executor: ChangeExecutor
    follower: Follower
    backups: BackupService
    maintenance: MaintenanceService
    eks: EksService
    security: SecurityService
    weekly: WeeklyReports
    alerts: AlertService
    firing: FiringAlerts | None
    statuspage: PublicStatus | None
    home: HomeService

    @classmethod
    def build(
        cls,
        config: BotConfig,
        client: AsyncWebClient,
        store: IncidentStore,
        clock: Callable[[], datetime] = utcnow,
        *,
        home_team: Callable[[], str | None] = lambda: None,
        prometheus_authorization: str | None = None,
        statuspage_key: str | None = None,
    ) -> Services:
        oncall = OnCallStore(store.redis, store.description)
        roster = Roster(config.oncall, oncall)
        escalator = Escalator(client=client, incidents=store, store=oncall, roster=roster, config=config, clock=clock)
        incidents = IncidentService(store, config, clock, escalation=escalator)
        announcer = Announcer(client, store, config.channels.incidents, clock)
        rooms = IncidentRooms(client, incidents, announcer, config.incident_channels)
        updates = StatusUpdates(client, store, config)

        async def primary_on_call() -> str | None:
            return (await roster.now(clock())).primary

        flows = IncidentFlows(
            client=client,
            incidents=incidents,
            announcer=announcer,
            rooms=rooms,
            updates=updates,
            primary_on_call=primary_on_call,
        )
        escalator.on_paged = rooms.invite_paged
        escalator.every(min(10.0, config.updates.remind_after.total_seconds() / 2), updates.remind)
        access = Access(client, config.permissions, home_team=home_team)
        tasks = BackgroundTasks()
        clusters = ClusterSet(config.kubernetes.refs())
        aws = Aws(config.aws.region) if config.aws else None
        offers = Offers(store.redis, store.description)
        audit = AuditLog(store.redis, store.description, is_operator=access.is_operator)
        follower = Follower(config.kubernetes.rollout_timeout)
        digest_builder = DigestBuilder(
            config, store, clock, clusters, prometheus_authorization=prometheus_authorization, aws=aws
        )
        runner = RunbookRunner(
            clusters=clusters,
            namespaces=config.kubernetes.namespaces,
            share_logs=config.kubernetes.share_logs,
            offers=offers,
            audit=audit,
            incidents=incidents,
            clock=clock,
        )
        executor = ChangeExecutor(
            clusters=clusters,
            offers=offers,
            audit=audit,
            access=access,
            incidents=incidents,
            outbox=Outbox(tasks),
            clock=clock,
            aws=aws,
        )
        backups = BackupService(
            clusters=clusters,
            aws=aws,
            velero_namespace=config.velero.namespace,
            offers=offers,
            audit=audit,
            incidents=incidents,
            follower=follower,
            clock=clock,
        )
        maintenance = MaintenanceService(
            client=client,
            store=MaintenanceStore(store.redis, store.description),
            config=config,
            clock=clock,
            offers=offers,
            audit=audit,
            backups=backups,
            runner=runner,
            clusters=clusters,
            follower=follower,
            tasks=tasks,
        )
        # Maintenance sits above the domains it tells about itself: its hooks are wired here.
        executor.after.append(maintenance.after_change)
        escalator.every(1.0, maintenance.tick)
        escalator.upcoming_maintenance = maintenance.upcoming_lines
        incidents.during = maintenance.during
        digest_builder.maintenance_today = maintenance.today_lines
        security_store = SecurityStore(store.redis, store.description)
        security = SecurityService(
            config=config,
            client=client,
            clusters=clusters,
            store=security_store,
            offers=offers,
            incidents=store,
            clock=clock,
        )
        alerts = AlertService(
            config=config,
            client=client,
            store=AlertStore(store.redis, store.description),
            incidents=incidents,
            flows=flows,
            tasks=tasks,
            clock=clock,
        )
        url = config.alerts.alertmanager_url
        firing = FiringAlerts(url) if url else None
        if firing is not None:  # the hand-off's "Check alert status" and the digest's section
            escalator.firing_alerts = firing.lines
            digest_builder.firing_alerts = firing.lines
        statuspage = None
        if config.statuspage is not None and statuspage_key:
            statuspage = PublicStatus(
                settings=config.statuspage,
                api=StatuspageApi(config.statuspage, statuspage_key),
                incidents=incidents,
                client=client,
                refresh=announcer.refresh,
            )
            announcer.public = statuspage.offered
            flows.after_change.append(statuspage.ask_to_resolve)
        digest = DigestService(config, client, digest_builder)
        home = HomeService(
            config=config, client=client, store=store, roster=roster, access=access, digest=digest, clock=clock
        )
        home.upcoming = maintenance.upcoming_lines
        weekly = WeeklyReports(
            config=config, client=client, store=security_store, incidents=store, oncall=oncall, aws=aws, clock=clock
        )
        return cls(
            config=config,
            client=client,
            store=store,
            incidents=incidents,
            flows=flows,
            access=access,
            tasks=tasks,
            clock=clock,
            oncall=oncall,
            roster=roster,
            escalator=escalator,
            digest=digest,
            runbooks=runner,
            executor=executor,
            follower=follower,
            backups=backups,
            maintenance=maintenance,
            eks=EksService(config=config, clusters=clusters, aws=aws, offers=offers, incidents=incidents, clock=clock),
            security=security,
            weekly=weekly,
            alerts=alerts,
            firing=firing,
            statuspage=statuspage,
            home=home,
        )

    def scheduled_posts(self) -> list[ScheduledPost]:
        """Every scheduled post of the process (each registered with the one scheduler)."""
        posts = (self.digest.scheduled_post(), self.security.scheduled_post(), self.weekly.scheduled_post())
        return [post for post in posts if post is not None]
