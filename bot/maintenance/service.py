"""Maintenance windows: scheduled and announced at once, reminded on time exactly once across replicas (a durable
due set, claimed like escalation), run from the guide's checklist on the window's one message, closed with nothing
forgotten (nodes still cordoned are named, with an Uncordon button).

Node changes (cordon, uncordon, drain) are offers carried out by the bot's safety path; the window learns of them
through the executor's ``after`` hook and renews its buttons.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.backups import parse as backup_parse
from bot.backups.service import BackupService, default_name
from bot.core import slack
from bot.core.blocks import md
from bot.core.errors import DependencyError, UserError
from bot.core.redis import StoreUnavailable
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape, user
from bot.core.timeline import TimelineEntry
from bot.maintenance import render
from bot.maintenance.model import OVER, STEPS, Reminder, Tick, Window, WindowState, parse_member
from bot.maintenance.parse import Schedule, Transition
from bot.maintenance.store import MaintenanceStore, WindowNotFound
from bot.operations.audit import AuditLog
from bot.operations.execute import Executed
from bot.operations.follow import Follower, ThreadSink
from bot.operations.offers import Offers
from bot.operations.run import RunbookRunner
from runbooks import smoke
from runbooks.changes import Change
from runbooks.changes.nodes import Cordon, Drain, Uncordon
from runbooks.kube import deployment, rollout
from runbooks.kube.client import ClusterSet
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
RETRY_FAILED_POST = timedelta(seconds=30)
ACTIVE_CACHE_SECONDS = 5.0
OFFER_SLACK = timedelta(days=1)  # node offers live until the window's end and a day more
Publish = Callable[[str, list[Block] | None], Awaitable[None]]


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
    ) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.clock = clock
        self.offers = offers
        self.audit = audit
        self.backups = backups
        self.runner = runner
        self.clusters = clusters
        self.follower = follower
        self.tasks = tasks
        self._active: tuple[float, list[Window]] = (0.0, [])

    # Scheduling and the window's message -------------------------------------------------------------------
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
        )
        stored = await self.store.create(window, actor)
        await self.audit.record(
            {"kind": "maintenance-schedule", "actor": actor, "target": stored.ref, "result": "done"}
        )
        self._active = (0.0, [])
        return stored

    async def announce(self, window: Window) -> Window:
        """Post the window's message in the incidents channel and its copy for stakeholders; keep where they are."""
        places: dict[str, tuple[str, str]] = {}
        targets = [("message", self.config.channels.incidents, self._blocks(window))]
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

        updated, _ = await self.store.change(window.number, record)
        if seen[-1] != window.version:  # changed while it was being posted (a tick): show that too
            await self._refresh(updated)
        return updated

    def _blocks(self, window: Window) -> list[Block]:
        return render.announcement(window, node_changes(window), len(self.config.maintenance.smoke_tests))

    async def _refresh(self, window: Window) -> None:
        """Edit the window's message and its copy to show it as it is now."""
        for place, blocks in ((window.message, self._blocks(window)), (window.mirror, render.mirror_blocks(window))):
            if place is None:
                continue
            try:
                await self.client.chat_update(
                    channel=place[0], ts=place[1], text=render.announcement_text(window), blocks=blocks
                )
            except SLACK_ERRORS as exc:
                slack.failed("chat.update", f"the announcement of {window.ref}", exc)

    async def _thread(
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

    async def _renew_offers(self, window: Window) -> Window:
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

    # Listing and transitions ---------------------------------------------------------------------------------
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
        await self.audit.record(
            {
                "kind": f"maintenance-{cmd.verb}",
                "actor": actor,
                "target": window.ref,
                "result": "done",
                "note": cmd.note,
            }
        )
        return window

    async def transitioned(self, window: Window, actor: str, cmd: Transition) -> None:
        """What follows a transition in Slack: the message edited, a note in its thread, the cancellation posted,
        nodes still cordoned named."""
        if window.state in (WindowState.RUNNING, WindowState.DONE):
            window = await self._renew_offers(window)
        await self._refresh(window)
        note = f": {escape(cmd.note)}" if cmd.note else ""
        if window.state is WindowState.RUNNING:
            await self._thread(window, f"🛠️ {user(actor)} started *{window.headline}*.", broadcast=True)
        elif window.state is WindowState.DONE:
            await self._thread(window, f"✅ {user(actor)} closed *{window.headline}*{note}.", broadcast=True)
            if window.cordoned:
                await self._still_cordoned(window)
        else:
            text = f"🚫 *{window.headline}* ({render.span(window)}) is cancelled by {user(actor)}{note}."
            for channel in filter(None, (self.config.channels.incidents, self.config.channels.stakeholders)):
                try:
                    await self.client.chat_postMessage(channel=channel, text=text)
                except SLACK_ERRORS as exc:
                    slack.failed("chat.postMessage", f"the cancellation of {window.ref}", exc)

    async def _still_cordoned(self, window: Window) -> None:
        uncordon = node_changes(window).get("uncordon")
        offer = window.offers.get("uncordon")
        if uncordon is None or offer is None:
            return
        text = f"⚠️ {window.ref} is done, but these nodes are still cordoned by it: {', '.join(window.cordoned)}."
        blocks: list[Block] = [SectionBlock(text=md(escape(text)))]
        blocks += render.announcement(window, {"uncordon": uncordon}, 0)[-1:]
        await self._thread(window, text, blocks, broadcast=True)

    # The checklist --------------------------------------------------------------------------------------------
    async def step(self, actor: str, number: int, key: str) -> str:
        """Tick a checklist step (running what it runs first); what to tell the person who clicked."""
        if key not in STEPS:
            raise UserError("That is not a step of the checklist.")
        window = await self.store.get(number)
        if window.state in OVER:
            raise UserError(f"{window.ref} is {window.state.value}; its checklist is closed.")
        if key in window.ticks:
            tick = window.ticks[key]
            raise UserError(f"“{STEPS[key].text}” was ticked by {user(tick.by)} already.")
        note = ""
        if key == "backup":
            note = await self._backup(window, actor)
        elif key == "ready":
            note = await self._rollback_readiness(window)
        now = self.clock()
        tick = Tick(by=actor, at=now, note=note)
        window, _ = await self.store.change(
            number,
            lambda w: (
                w.model_copy(update={"ticks": {**w.ticks, key: tick}}),
                TimelineEntry(
                    at=now, actor=actor, kind="ticked", text=f"{STEPS[key].text}{': ' + note if note else ''}"
                ),
            ),
        )
        await self._refresh(window)
        return f"{STEPS[key].text}: ticked{': ' + note if note else ''}."

    async def _backup(self, window: Window, actor: str) -> str:
        """ "Backup critical data": a Velero backup of the window's namespaces and a snapshot of each configured RDS
        instance, each followed in the window's thread."""
        channel = window.message[0] if window.message else self.config.channels.incidents
        started = []
        cmd = backup_parse.BackupCreate(namespaces=window.namespaces)
        name = f"{window.ref.lower()}-{default_name(cmd, self.clock())}"[:63].rstrip("-")
        cmd = backup_parse.BackupCreate(name=name, namespaces=window.namespaces)
        self._background(
            window, self.backups.create(window.cluster, cmd, actor, channel, self._sink(window)), f"backup {name}"
        )
        started.append(f"Velero backup {name} of {', '.join(window.namespaces) or 'every namespace'}")
        aws = self.config.aws
        instances = aws.rds.wanted if aws is not None else []
        for instance in instances or []:
            work = self.backups.db_snapshot(backup_parse.DbSnapshot(instance), actor, channel, self._sink(window))
            self._background(window, work, f"snapshot of {instance}")
            started.append(f"RDS snapshot of {instance}")
        return "started " + "; ".join(started) + " (progress in the thread)"

    def _sink(self, window: Window) -> ThreadSink:
        channel, ts = window.message or (self.config.channels.incidents, "")

        async def fallback(text: str, blocks: list[Any] | None = None) -> None:
            log.info("%s: %s", window.ref, text)

        return ThreadSink(self.client, channel, ts, fallback)

    def _background(self, window: Window, work: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except (UserError, DependencyError) as exc:
                await self._thread(window, f"⚠️ {what}: {exc}")

        self.tasks.spawn(run(), name=f"{window.ref}-{what}")

    async def _rollback_readiness(self, window: Window) -> str:
        """Every ``--services`` deployment has an earlier revision to roll back to; names those that do not."""
        if not window.services:
            return "no services named (--services): nothing to check"

        def read() -> list[str]:
            cluster = self.clusters.connect(window.cluster)
            missing = []
            for service in window.services:
                namespace, name = service.split("/", 1)
                try:
                    found = rollout.history(cluster, namespace, name)
                except API_ERRORS as exc:
                    missing.append(f"{service} ({explain_kube(exc, f'deployment {service}')})")
                    continue
                earlier = [r for r in found.revisions if found.current is None or r.number < found.current]
                if not earlier:
                    missing.append(f"{service} (no earlier revision)")
            return missing

        missing = await asyncio.to_thread(read)
        if missing:
            return f"cannot roll back: {'; '.join(missing)}"
        return f"every service has an earlier revision to roll back to ({len(window.services)})"

    # During the window -----------------------------------------------------------------------------------------
    async def rollout_status(self, number: int) -> None:
        """Follow each service's rollout in the window's thread."""
        window = await self.store.get(number)
        if not window.services:
            raise UserError(f"{window.ref} names no services (--services).")

        async def follow(service: str) -> None:
            namespace, name = service.split("/", 1)

            async def read() -> tuple[str, bool]:
                try:
                    cluster = await asyncio.to_thread(self.clusters.connect, window.cluster)
                    line, complete = await asyncio.to_thread(deployment.rollout_status, cluster, namespace, name)
                except API_ERRORS as exc:
                    return f"status unreadable: {explain_kube(exc, f'deployment {service}')}", True
                return (f"rollout complete ({line})" if complete else line), complete

            timeout = self.config.kubernetes.rollout_timeout.total_seconds()
            await self.follower.follow(read, self._sink(window), f"Rollout of `{service}`", timeout=timeout)

        await asyncio.gather(*(follow(s) for s in window.services))

    async def smoke_tests(self, number: int, actor: str) -> list[smoke.ProbeResult]:
        """Every ``maintenance.smoke_tests`` entry at once; the results in the thread; a failure offers the
        roll-back runbook for the window's services."""
        window = await self.store.get(number)
        probes = [
            smoke.Probe(name=t.name, url=t.url, expect_status=t.expect_status, timeout=t.timeout.total_seconds())
            for t in self.config.maintenance.smoke_tests
        ]
        if not probes:
            raise UserError("No smoke tests are configured (maintenance.smoke_tests).")
        results = await smoke.run(probes)
        failed = [r for r in results if not r.ok]
        head = f"Smoke tests for {window.ref}: {len(results) - len(failed)}/{len(results)} passed"
        await self._thread(
            window, head, [SectionBlock(text=md("\n".join([f"*{head}*", *render.smoke_lines(results)])))]
        )
        await self.audit.record(
            {"kind": "maintenance-smoke", "actor": actor, "target": window.ref, "result": f"{len(failed)} failed"}
        )
        if failed and window.services:
            await self._offer_rollbacks(window, actor)
        return results

    async def _offer_rollbacks(self, window: Window, actor: str) -> None:
        channel = window.message[0] if window.message else self.config.channels.incidents
        book = self.runner.find("rollback")
        for service in window.services:
            namespace, name = service.split("/", 1)
            words = [name, namespace] + ([f"--cluster={window.cluster}"] if window.cluster else [])

            async def publish(blocks: list[Any], summary: str, in_channel: bool) -> None:
                await self._thread(window, summary, blocks)

            try:
                await self.runner.run(self.runner.request(book, words), channel=channel, user=actor, publish=publish)
            except (UserError, DependencyError) as exc:
                await self._thread(window, f"⚠️ roll-back of {service}: {exc}")

    async def after_change(self, executed: Executed) -> None:
        """The executor's hook: a node change made from a window's button is recorded on the window, whose
        message then offers what comes next."""
        number = executed.window
        if number is None:
            return
        change = executed.change
        now = self.clock()

        def mutate(w: Window) -> tuple[Window, TimelineEntry]:
            cordoned = list(w.cordoned)
            if isinstance(change, Cordon):
                cordoned += [n for n in change.nodes if n not in cordoned]
            elif isinstance(change, Drain) and change.node not in cordoned:
                cordoned.append(change.node)
            elif isinstance(change, Uncordon):
                cordoned = [n for n in cordoned if n not in change.nodes]
            entry = TimelineEntry(
                at=now, actor=executed.actor, kind=change.done, text=f"{change.target} {executed.what}"
            )
            return w.model_copy(update={"cordoned": cordoned}), entry

        try:
            window, _ = await self.store.change(number, mutate)
        except WindowNotFound:
            return
        window = await self._renew_offers(window)
        await self._refresh(window)
        await self._thread(window, f"{executed.text}")

    # Reminders -------------------------------------------------------------------------------------------------
    async def tick(self, now: datetime) -> int:
        """Post every reminder that is due, each exactly once across replicas; how many were claimed."""
        claimed = await self.store.reminders.claim_due(now, now + LEASE)
        for member in claimed:
            try:
                await self._remind(member, now)
            except StoreUnavailable as exc:  # the claim lapses and another tick takes it again
                log.warning("maintenance reminder %s deferred: %s", member, exc)
            except SLACK_ERRORS as exc:
                slack.failed("chat.postMessage", f"maintenance reminder {member}", exc)
                await self.store.reminders.complete(member, now + RETRY_FAILED_POST)
        return len(claimed)

    async def _remind(self, member: str, now: datetime) -> None:
        parsed = parse_member(member)
        if parsed is None:
            await self.store.reminders.complete(member, None)
            return
        number, kind = parsed
        try:
            window = await self.store.get(number)
        except WindowNotFound:
            await self.store.reminders.complete(member, None)
            return
        due = window.state is WindowState.SCHEDULED or (
            kind is Reminder.OVERRUN and window.state is WindowState.RUNNING
        )
        if not due or await self.store.was_sent(number, kind):
            await self.store.reminders.complete(member, None)
            return
        text = render.reminder_text(window, kind)
        if kind in (Reminder.WEEK, Reminder.DAY):
            for channel in filter(None, (self.config.channels.incidents, self.config.channels.stakeholders)):
                await self.client.chat_postMessage(channel=channel, text=text)
        elif kind is Reminder.SOON:
            opened = await self.client.conversations_open(users=window.owner)
            await self.client.chat_postMessage(channel=str(opened["channel"]["id"]), text=text)
        elif window.message is not None:
            await self.client.chat_postMessage(
                channel=window.message[0], thread_ts=window.message[1], text=text, reply_broadcast=True
            )
        else:
            await self.client.chat_postMessage(channel=self.config.channels.incidents, text=text)
        await self.store.mark_sent(number, kind, now)
        await self.store.reminders.complete(member, None)

    # For the other domains (wired in bot/runtime/services.py) -----------------------------------------------
    async def active(self, now: datetime) -> list[Window]:
        """Windows running now (or scheduled for now); cached a few seconds (each incident opened asks)."""
        at, windows = self._active
        if time.monotonic() - at > ACTIVE_CACHE_SECONDS:
            windows = await self.store.upcoming()
            self._active = (time.monotonic(), windows)
        return [w for w in windows if w.active(now)]

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
