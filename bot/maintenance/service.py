"""Maintenance windows: scheduled and announced at once, reminded on time exactly once across replicas
(``reminders``), run from the guide's checklist on the window's one message (``messages``, ``work``), closed with
nothing forgotten (nodes still cordoned are named, with an Uncordon button); and what other domains are told: the
window an incident opened during, today's and the week's windows (``contributions``).

Node changes (cordon, uncordon, drain) are offers carried out by the bot's safety path; the window learns of them
through the executor's ``AfterChange`` and renews its buttons.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.backups.service import BackupService
from bot.core import slack
from bot.core.errors import UserError
from bot.core.outbox import Outbox
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.severity import Severity
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape, user
from bot.core.timeline import TimelineEntry
from bot.incidents.model import AlertOrigin, Hold, Incident
from bot.maintenance import render
from bot.maintenance.messages import WindowMessages
from bot.maintenance.model import OVER, Window, WindowState, parse_ref
from bot.maintenance.parse import Schedule, Transition
from bot.maintenance.reminders import Reminders
from bot.maintenance.store import MaintenanceStore, WindowNotFound
from bot.maintenance.work import WindowWork
from bot.operations.audit import AuditLog
from bot.operations.follow import Follower
from bot.operations.offers import Offers
from bot.operations.run import RunbookRunner
from runbooks.kube.client import ClusterSet

log = logging.getLogger(__name__)

ACTIVE_CACHE_SECONDS = 5.0


class MaintenanceService:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        store: MaintenanceStore,
        config: BotConfig,
        clock: Callable[[], datetime],
        offers: Offers,
        audit: AuditLog,
        backups: BackupService,
        runner: RunbookRunner,
        clusters: ClusterSet,
        follower: Follower,
        tasks: BackgroundTasks,
        outbox: Outbox,
        holds_ended: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.outbox = outbox
        self.client = client
        self.holds_ended = holds_ended  # a window closed: the holds on paging it gave are released at once
        self.store = store
        self.config = config
        self.clock = clock
        self.audit = audit
        self.clusters = clusters
        self.messages = WindowMessages(
            client=client, store=store, config=config, offers=offers, clock=clock, outbox=outbox
        )
        self.work = WindowWork(
            store=store, messages=self.messages, config=config, clock=clock, audit=audit, backups=backups,
            runner=runner, clusters=clusters, follower=follower, tasks=tasks, outbox=outbox,
        )  # fmt: skip
        self.reminders = Reminders(client=client, store=store, config=config, clock=clock)
        self._active: tuple[float, list[Window]] = (0.0, [])

    async def schedule(self, actor: str, cmd: Schedule) -> Window:
        window = Window(
            title=cmd.title,
            start=cmd.start,
            end=cmd.end,
            owner=actor,
            cluster=cmd.cluster or self.clusters.default,
            nodes=cmd.nodes,
            services=cmd.services,
            created_at=self.clock(),
            suppress=cmd.suppress,
        )
        stored = await self.store.create(window, actor)
        self._active = (0.0, [])
        # The window is kept: its audit entry follows through the outbox, so a state store stalling right after never
        # has the person told "Nothing was changed" about a window that exists.
        await self.audit.keep(self.outbox, {"kind": "maintenance-schedule", "actor": actor, "target": stored.ref,
                                            "result": "done"})  # fmt: skip
        return stored

    async def listing(self) -> tuple[list[Block], str]:
        windows = await self.store.upcoming()
        return render.list_blocks(windows, self.clock()), f"{len(windows)} maintenance window(s)"

    async def transition(self, actor: str, cmd: Transition) -> Window:
        now = self.clock()

        def mutate(w: Window) -> tuple[Window, TimelineEntry]:
            if cmd.verb == "start":
                if w.state is not WindowState.SCHEDULED:
                    raise UserError(f"{w.ref} is {w.state.value}; only a scheduled window is started.")
                new = w.model_copy(update={"state": WindowState.RUNNING, "started_at": now})
            elif cmd.verb == "done":
                if w.state in OVER:
                    raise UserError(f"{w.ref} is {w.state.value} already.")
                new = w.model_copy(update={"state": WindowState.DONE, "ended_at": now, "reason": cmd.note})
            else:
                if w.state is not WindowState.SCHEDULED:
                    why = "it is running: close it with `done`" if w.state is WindowState.RUNNING else w.state.value
                    raise UserError(f"{w.ref} cannot be cancelled: {why}.")
                new = w.model_copy(update={"state": WindowState.CANCELLED, "ended_at": now, "reason": cmd.note})
            return new, TimelineEntry(at=now, actor=actor, kind=new.state.value, text=cmd.note)

        window, _ = await self.store.change(cmd.number, mutate)
        self._active = (0.0, [])
        entry = {"kind": f"maintenance-{cmd.verb}", "actor": actor, "target": window.ref, "result": "done"}
        await self.audit.keep(self.outbox, {**entry, "note": cmd.note})
        return window

    async def transitioned(self, window: Window, actor: str, cmd: Transition) -> None:
        """What follows a transition in Slack: the message edited, a note in its thread, the cancellation posted,
        nodes still cordoned named."""
        if window.state in (WindowState.RUNNING, WindowState.DONE):
            window = await self.messages.renew_offers(window)
        await self.messages.refresh(window)
        note = f": {escape(cmd.note)}" if cmd.note else ""
        if window.state is WindowState.RUNNING:
            await self.messages.thread(window, f"🛠️ {user(actor)} started *{render.headline(window)}*.", broadcast=True)
        elif window.state is WindowState.DONE:
            await self.messages.thread(
                window, f"✅ {user(actor)} closed *{render.headline(window)}*{note}.", broadcast=True
            )
            if window.cordoned:
                await self.work.still_cordoned(window)
        else:
            text = f"🚫 *{render.headline(window)}* ({render.span(window)}) is cancelled by {user(actor)}{note}."
            for channel in filter(None, (self.config.channels.incidents, self.config.channels.stakeholders)):
                try:
                    await self.client.chat_postMessage(channel=channel, text=text)
                except SLACK_ERRORS as exc:
                    slack.failed("chat.postMessage", f"the cancellation of {window.ref}", exc)
        if window.state in OVER and window.suppress and self.holds_ended is not None:
            try:
                await self.holds_ended()  # page for what it held now, not at the poller's next sweep
            except StoreUnavailable as exc:
                log.warning("the holds of %s are released by the poller: %s", window.ref, exc)

    async def _upcoming(self) -> list[Window]:
        """Windows scheduled or running; cached a few seconds (each incident opened asks)."""
        at, windows = self._active
        if time.monotonic() - at > ACTIVE_CACHE_SECONDS:
            windows = await self.store.upcoming()
            self._active = (time.monotonic(), windows)
        return windows

    async def active(self, now: datetime) -> list[Window]:
        """Windows running now (or scheduled for now)."""
        return [w for w in await self._upcoming() if w.active(now)]

    # Holding pages (bot.incidents.steps.PagingHold) ------------------------------------------------------------
    async def hold(self, at: datetime, severity: Severity, alert: AlertOrigin | None) -> Hold | None:
        """An incident opening from alerts inside the scope of a window holding pages: held by the first such
        window (a P1 pages its owner all the same). Incidents opened by people, and a storm's, page as always."""
        if alert is None or alert.storm:
            return None
        grace = self.config.maintenance.grace
        default = self.clusters.shown(None)
        for window in await self._upcoming():
            if window.suppressing(at, grace) and window.covers(alert.labels, default):
                page = [window.owner] if severity is Severity.P1 else []
                return Hold(key="maintenance", ref=window.ref, text=render.held_text(window), page=page)
        return None

    async def ended(self, hold: Hold, at: datetime) -> str | None:
        """None while the window holding pages still does, else how it ended."""
        number = parse_ref(hold.ref)
        if number is None:
            return "is not a maintenance window"
        try:
            window = await self.store.get(number)
        except WindowNotFound:
            return "is gone"
        if window.state is WindowState.DONE:
            return "closed"
        if window.state is WindowState.CANCELLED:
            return "was cancelled"
        if not window.suppressing(at, self.config.maintenance.grace):
            return "is past its end and `maintenance.grace`"
        return None

    async def _window_of(self, incident: Incident) -> Window | None:
        number = parse_ref(incident.held.ref) if incident.held is not None else None
        if number is None:
            return None
        try:
            return await self.store.get(number)
        except (WindowNotFound, StoreUnavailable) as exc:
            log.warning("%s: the window holding its paging was not read: %s", incident.ref, exc)
            return None

    async def told(self, incident: Incident) -> None:
        """A held incident is announced: the window's thread says so."""
        window = await self._window_of(incident)
        if window is not None and incident.held is not None:
            owner = incident.held.page[0] if incident.held.page else None
            text = render.held_note(incident.ref, incident.severity.value, incident.title, owner)
            await self.messages.thread(window, text)

    async def released(self, incident: Incident) -> None:
        """The window closed (or ran past its end and grace): its thread says what became of an incident it held."""
        window = await self._window_of(incident)
        if window is not None and incident.held is not None:
            text = render.released_note(incident.ref, incident.state.value, incident.held.released_why)
            await self.messages.thread(window, text)

    async def during(self, now: datetime) -> str | None:
        """ "MW-3: Postgres minor upgrade" when an incident opens during a window."""
        try:
            running = await self.active(now)
        except StoreUnavailable:
            return None
        return running[0].headline if running else None

    async def upcoming_lines(self, now: datetime, within: timedelta = timedelta(days=7)) -> list[str]:
        """For the hand-off checklist: windows running or starting within ``within``."""
        windows = [w for w in await self.store.upcoming() if w.start < now + within]
        return render.upcoming_lines(windows)

    async def today_lines(self, now: datetime) -> list[str]:
        """For the morning digest: windows running now or starting before midnight (``digest.timezone``)."""
        local = now.astimezone(ZoneInfo(self.config.digest.timezone))
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        windows = [
            w
            for w in await self.store.upcoming()
            if w.state is WindowState.RUNNING or (w.start < midnight and w.end > now)
        ]
        return render.upcoming_lines(windows)
