"""The composition root: every long-lived part built once per process, in the order they need each other, each
handed what it needs when it is built (nothing is set on an object afterwards).

What a domain adds to the surfaces it shares with others (the digest, the hand-off, the App Home, the incident flow,
the poller's jobs and the scheduled posts) it declares on the one board, in its own ``contributions.py``; here each
domain's declarations are called once, the board is frozen, and the poller takes its jobs from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts import contributions as alert_contributions
from bot.alerts.enrich import Enricher
from bot.alerts.firing import FiringAlerts
from bot.alerts.heartbeat import Heartbeats
from bot.alerts.service import AlertService
from bot.alerts.statuspage import PublicStatus, StatuspageApi
from bot.alerts.store import AlertStore
from bot.backups import contributions as backup_contributions
from bot.backups.service import BackupService
from bot.capacity import contributions as capacity_contributions
from bot.capacity.log_errors.section import LogErrorsSection
from bot.capacity.service import CapacityService
from bot.capacity.store import CapacityStore
from bot.changes import contributions as change_contributions
from bot.changes.feed import ChangeFeed
from bot.changes.incident import IncidentChanges
from bot.core.board import Board
from bot.core.clock import utcnow
from bot.core.outbox import Outbox
from bot.core.permissions import Access
from bot.core.schedule import TickClaims
from bot.core.settings.config import BotConfig
from bot.core.tasks import BackgroundTasks
from bot.digest import contributions as digest_contributions
from bot.digest.build import DigestBuilder
from bot.digest.service import DigestService
from bot.dr import contributions as dr_contributions
from bot.dr.service import DrService
from bot.dr.store import DrStore
from bot.home.service import HomeService
from bot.incidents import contributions as incident_contributions
from bot.incidents.announcement import Announcer
from bot.incidents.flows import IncidentFlows
from bot.incidents.holds import PagingHolds
from bot.incidents.rooms import IncidentRooms
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentStore
from bot.incidents.updates import StatusUpdates
from bot.maintenance import contributions as maintenance_contributions
from bot.maintenance.eks import EksService
from bot.maintenance.patches import PatchService
from bot.maintenance.service import MaintenanceService
from bot.maintenance.store import MaintenanceStore
from bot.oncall import contributions as oncall_contributions
from bot.oncall.covers import Covers
from bot.oncall.escalator import Escalator
from bot.oncall.handoff import HandoffChecklist
from bot.oncall.overrides import Overrides
from bot.oncall.roster import Roster
from bot.oncall.store import OnCallStore
from bot.operations.audit import AuditLog
from bot.operations.execute import ChangeExecutor
from bot.operations.follow import Follower
from bot.operations.offers import Offers
from bot.operations.run import RunbookRunner
from bot.paging import contributions as paging_contributions
from bot.paging.contacts import Contacts
from bot.paging.engine import Pager
from bot.paging.providers import Providers
from bot.paging.testpages import TestPages
from bot.reports import contributions as report_contributions
from bot.reports.store import ReportStore
from bot.reports.weekly import WeeklyReports
from bot.runtime.poller import Poller
from bot.security import contributions as security_contributions
from bot.security.service import SecurityService
from bot.security.store import SecurityStore
from bot.tickets import contributions as ticket_contributions
from bot.tickets import trackers
from bot.tickets.action_store import ActionStore
from bot.tickets.actions import ActionItems
from bot.tickets.service import IncidentTickets
from bot.tickets.store import TicketStore
from runbooks.aws.session import AwsSession
from runbooks.kube.client import ClusterSet

TICKET_RETRY_FOR = 6 * 3600.0  # a tracker down for longer: `/incident ticket INC-n` asks again


@dataclass
class Services:
    """What the listeners and the server use (``handlers.needs.Needs`` names what the listeners may)."""

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
    overrides: Overrides
    escalator: Escalator
    handoff: HandoffChecklist
    digest: DigestService
    runbooks: RunbookRunner
    changes: ChangeFeed
    executor: ChangeExecutor
    follower: Follower
    backups: BackupService
    dr: DrService
    maintenance: MaintenanceService
    eks: EksService
    patches: PatchService
    security: SecurityService
    capacity: CapacityService
    weekly: WeeklyReports
    alerts: AlertService
    heartbeats: Heartbeats | None
    firing: FiringAlerts | None
    statuspage: PublicStatus | None
    home: HomeService
    pager: Pager | None
    board: Board
    poller: Poller
    covers: Covers
    tickets: IncidentTickets | None = None
    actions: ActionItems | None = None


def build(
    config: BotConfig,
    client: AsyncWebClient,
    store: IncidentStore,
    clock: Callable[[], datetime] = utcnow,
    *,
    home_team: Callable[[], str | None] = lambda: None,
    prometheus_authorization: str | None = None,
    alertmanager_authorization: str | None = None,
    loki_authorization: str | None = None,
    statuspage_key: str | None = None,
    twilio_token: str | None = None,
    public_url: str | None = None,
    ticket_token: str | None = None,
) -> Services:
    board = Board()
    tasks = BackgroundTasks()
    outbox = Outbox(tasks)  # the records of what already happened (a report posted, a change made), never lost
    wake = asyncio.Event()
    redis, where = store.redis, store.description

    # Incidents and on-call
    oncall = OnCallStore(redis, where)
    roster = Roster(config.oncall, oncall, teams=config.team_map(), default_team=config.home_team)
    incidents = IncidentService(store, config, clock, board)
    announcer = Announcer(client, store, config.channels.incidents, clock, board=board,
                          vendor=config.escalation.vendor_line)  # fmt: skip
    rooms = IncidentRooms(client, incidents, announcer, config.incident_channels)
    updates = StatusUpdates(client, store, config)

    async def primary_on_call(team: str | None) -> str | None:
        return (await roster.now(clock(), team)).primary

    flows = IncidentFlows(
        client=client,
        outbox=outbox,
        incidents=incidents,
        announcer=announcer,
        rooms=rooms,
        updates=updates,
        primary_on_call=primary_on_call,
        board=board,
    )
    holds = PagingHolds(incidents=incidents, flows=flows, board=board, tasks=tasks, clock=clock)
    escalator = Escalator(
        client=client, incidents=store, store=oncall, roster=roster, config=config, clock=clock, rooms=rooms,
        wake=wake.set, board=board,
    )  # fmt: skip
    handoff = HandoffChecklist(
        redis, client=client, incidents=store, roster=roster, config=config, board=board, clock=clock
    )
    overrides = Overrides(
        store=oncall, roster=roster, client=client, channel=config.channels.incidents, tasks=tasks, clock=clock
    )

    # Operations: runbooks, offers and the one path that carries them out
    access = Access(client, config.permissions, home_team=home_team)
    covers = Covers(redis, where, roster=roster, store=oncall, client=client, access=access, config=config,
                    tasks=tasks, outbox=outbox, clock=clock)  # fmt: skip
    clusters = ClusterSet(config.kubernetes.refs())
    aws = AwsSession(config.aws.region) if config.aws else None
    offers = Offers(redis, where)
    audit = AuditLog(redis, where, is_operator=access.is_operator)
    follower = Follower(config.kubernetes.rollout_timeout)
    runner = RunbookRunner(
        clusters=clusters,
        namespaces=config.kubernetes.namespaces,
        share_logs=config.kubernetes.share_logs,
        offers=offers,
        audit=audit,
        incidents=incidents,
        outbox=outbox,
        clock=clock,
    )
    executor = ChangeExecutor(
        clusters=clusters,
        offers=offers,
        audit=audit,
        access=access,
        incidents=incidents,
        outbox=outbox,
        clock=clock,
        aws=aws,
        board=board,
        impersonate=config.kubernetes.impersonate,
    )
    backups = BackupService(
        clusters=clusters,
        aws=aws,
        velero_namespace=config.velero.namespace,
        namespaces=config.kubernetes.namespaces,
        offers=offers,
        audit=audit,
        incidents=incidents,
        follower=follower,
        outbox=outbox,
        clock=clock,
    )

    # The digest, maintenance, security, reports, alerts and the App Home
    builder = DigestBuilder(
        config, store, clock, clusters, board=board, prometheus_authorization=prometheus_authorization
    )
    digest = DigestService(config, client, builder)
    maintenance = MaintenanceService(
        client=client,
        store=MaintenanceStore(redis, where),
        config=config,
        clock=clock,
        offers=offers,
        audit=audit,
        backups=backups,
        runner=runner,
        clusters=clusters,
        follower=follower,
        tasks=tasks,
        outbox=outbox,
        holds_ended=holds.sweep,
    )
    security = SecurityService(
        config=config, client=client, clusters=clusters, store=SecurityStore(redis, where), offers=offers,
        incidents=store, clock=clock,
    )  # fmt: skip
    weekly = WeeklyReports(
        config=config, client=client, store=ReportStore(redis, where), incidents=store, oncall=oncall, aws=aws,
        clock=clock, board=board,
    )  # fmt: skip
    alert_store = AlertStore(redis, where)
    heartbeats = None
    if config.alerts.heartbeat is not None or config.heartbeats:
        heartbeats = Heartbeats(
            config=config, store=alert_store, incidents=incidents, flows=flows, tasks=tasks, clock=clock
        )
    changes = ChangeFeed(clusters=clusters, audit=audit, offers=offers, clock=clock, secrets=config.changes.secrets)
    incident_changes = IncidentChanges(feed=changes, store=store, client=client, config=config, clock=clock)
    alerts = AlertService(
        config=config,
        client=client,
        store=alert_store,
        incidents=incidents,
        flows=flows,
        tasks=tasks,
        clock=clock,
        heartbeats=heartbeats,
        enricher=Enricher(
            settings=config.alerts,
            runner=runner,
            store=alert_store,
            incidents=incidents,
            client=client,
            tasks=tasks,
            changes=incident_changes.post,
        ),
    )
    url = config.alerts.alertmanager_url
    firing = FiringAlerts(url, alertmanager_authorization) if url else None
    statuspage = None
    if config.statuspage is not None and statuspage_key:
        statuspage = PublicStatus(
            settings=config.statuspage,
            api=StatuspageApi(config.statuspage, statuspage_key),
            incidents=incidents,
            client=client,
            refresh=announcer.refresh,
            outbox=outbox,
        )
    home = HomeService(
        config=config, client=client, store=store, roster=roster, access=access, digest=digest, clock=clock,
        board=board,
    )  # fmt: skip

    pager = None
    if config.paging.can_text:  # SMS and calls beside the Slack page
        contacts = Contacts(redis, where, config.paging, clock)
        providers = Providers(config.paging, twilio_token, public_url, None)
        tests = TestPages(
            redis, where, config=config, contacts=contacts, providers=providers, client=client, roster=roster,
            handoff=handoff, clock=clock, public_url=public_url,
        )  # fmt: skip
        pager = Pager(
            redis=redis, description=where, config=config, contacts=contacts, providers=providers,
            incidents=incidents, store=store, flows=flows, client=client, tasks=tasks, outbox=outbox, clock=clock,
            public_url=public_url, tests=tests, escalate=escalator.escalate_now,
        )  # fmt: skip

    dr = DrService(config=config, client=client, store=DrStore(redis, where), clusters=clusters, aws=aws, clock=clock,
                   outbox=outbox)  # fmt: skip

    # What each domain adds to the shared surfaces
    oncall_contributions.declare(board, escalator, handoff)
    incident_contributions.declare(board, config, updates, holds)
    backup_contributions.declare(board, config, aws)
    dr_contributions.declare(board, dr, tasks)
    patches = PatchService(config=config, clusters=clusters, aws=aws, offers=offers, incidents=incidents, clock=clock)
    maintenance_contributions.declare(board, maintenance, patches)
    alert_contributions.declare(board, firing, statuspage, heartbeats)
    paging_contributions.declare(board, pager, handoff)
    change_contributions.declare(board, changes, incident_changes, roster)
    digest_contributions.declare(board, digest)
    security_contributions.declare(board, security)
    capacity = CapacityService(
        config=config, client=client, clusters=clusters, store=CapacityStore(redis, where), clock=clock, tasks=tasks,
        prometheus_authorization=prometheus_authorization,
    )  # fmt: skip
    log_errors = LogErrorsSection(config=config, clusters=clusters, loki_authorization=loki_authorization)
    capacity_contributions.declare(board, capacity, log_errors)
    report_contributions.declare(board, weekly)
    tracker = trackers.build(config.tickets, ticket_token)
    tickets = None
    if tracker is not None:
        tickets = IncidentTickets(
            settings=config.tickets, tracker=tracker, incidents=incidents, flows=flows, client=client,
            store=TicketStore(redis, where), outbox=Outbox(tasks, retry_for=TICKET_RETRY_FOR),
        )  # fmt: skip
    actions = ActionItems(
        store=ActionStore(redis, where), incidents=incidents, tickets=tickets, tz=ZoneInfo(config.oncall.timezone),
        clock=clock,
    )  # fmt: skip
    ticket_contributions.declare(board, tickets, actions)
    board.freeze()
    poller = Poller(
        board=board,
        claims=TickClaims(redis, where),
        clock=clock,
        interval=config.escalation.poll_interval,
        tasks=tasks,
        wake=wake,
    )
    return Services(
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
        overrides=overrides,
        escalator=escalator,
        handoff=handoff,
        digest=digest,
        runbooks=runner,
        changes=changes,
        executor=executor,
        follower=follower,
        backups=backups,
        dr=dr,
        maintenance=maintenance,
        eks=EksService(config=config, clusters=clusters, aws=aws, offers=offers, incidents=incidents, clock=clock),
        patches=patches,
        security=security,
        capacity=capacity,
        weekly=weekly,
        alerts=alerts,
        heartbeats=heartbeats,
        firing=firing,
        statuspage=statuspage,
        home=home,
        pager=pager,
        board=board,
        poller=poller,
        covers=covers,
        tickets=tickets,
        actions=actions,
    )
