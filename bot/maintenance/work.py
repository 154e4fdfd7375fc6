"""The work of a running maintenance window: the guide's checklist ticked with who and when (running what a step
runs: a backup of the window's namespaces and databases, the roll-back readiness of its services), its rollouts
followed, its smoke tests run (a failure offers the roll-back), and the node changes made from its buttons recorded
on it (the executor's ``AfterChange``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block, SectionBlock

from bot.backups import parse as backup_parse
from bot.backups.service import BackupService, default_name
from bot.core.blocks import md
from bot.core.errors import DependencyError, UserError
from bot.core.outbox import Outbox
from bot.core.settings.config import BotConfig
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape, user
from bot.core.timeline import TimelineEntry
from bot.maintenance import render
from bot.maintenance.messages import WindowMessages, node_changes
from bot.maintenance.model import OVER, STEPS, Tick, Window
from bot.maintenance.store import MaintenanceStore, WindowNotFound
from bot.operations.audit import AuditLog
from bot.operations.execute import Executed
from bot.operations.follow import Follower
from bot.operations.run import RunbookRunner
from runbooks import smoke
from runbooks.changes.nodes import Cordon, Drain, Uncordon
from runbooks.errors import NotConfigured
from runbooks.kube import deployment, rollout
from runbooks.kube.client import ClusterSet
from runbooks.kube.errors import API_ERRORS
from runbooks.kube.errors import explain as explain_kube

log = logging.getLogger(__name__)

Publish = Callable[[str, list[Block] | None], Awaitable[None]]


Start = Callable[[], None]


def _ticked_already(key: str, tick: Tick) -> UserError:
    return UserError(f"“{STEPS[key].text}” was ticked by {user(tick.by)} already.")


class WindowWork:
    def __init__(
        self,
        *,
        store: MaintenanceStore,
        messages: WindowMessages,
        config: BotConfig,
        clock: Callable[[], datetime],
        audit: AuditLog,
        backups: BackupService,
        runner: RunbookRunner,
        clusters: ClusterSet,
        follower: Follower,
        tasks: BackgroundTasks,
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        self.store = store
        self.messages = messages
        self.config = config
        self.clock = clock
        self.audit = audit
        self.backups = backups
        self.runner = runner
        self.clusters = clusters
        self.follower = follower
        self.tasks = tasks

    async def step(self, actor: str, number: int, key: str) -> str:
        """Tick a checklist step (running what it runs first); what to tell the person who clicked."""
        if key not in STEPS:
            raise UserError("That is not a step of the checklist.")
        window = await self.store.get(number)
        if window.state in OVER:
            raise UserError(f"{window.ref} is {window.state.value}; its checklist is closed.")
        if key in window.ticks:
            raise _ticked_already(key, window.ticks[key])
        note, start = "", list[Start]()
        if key == "backup":
            note, start = self._backup(window, actor)
        elif key == "ready":
            note = await self._rollback_readiness(window)
        now = self.clock()
        tick = Tick(by=actor, at=now, note=note)

        def ticked(w: Window) -> tuple[Window, TimelineEntry]:
            if key in w.ticks:  # a second click, ticked meanwhile: nothing started twice
                raise _ticked_already(key, w.ticks[key])
            text = f"{STEPS[key].text}{': ' + note if note else ''}"
            return w.model_copy(update={"ticks": {**w.ticks, key: tick}}), TimelineEntry(
                at=now, actor=actor, kind="ticked", text=text
            )

        window, _ = await self.store.change(number, ticked)
        for begin in start:  # once the tick is kept: a state store away leaves nothing started ("Nothing was changed")
            begin()
        await self.messages.refresh(window)
        return f"{STEPS[key].text}: ticked{': ' + note if note else ''}."

    def _backup(self, window: Window, actor: str) -> tuple[str, list[Start]]:
        """ "Backup critical data": a Velero backup of the window's namespaces and a snapshot of each configured RDS
        instance, each followed in the window's thread; what to say, and how to start each (once the tick is kept)."""
        namespaces = self.backups.scope(window.namespaces)  # kubernetes.namespaces: refused before anything starts
        channel = window.message[0] if window.message else self.config.channels.incidents
        cmd = backup_parse.BackupCreate(namespaces=namespaces)
        name = f"{window.ref.lower()}-{default_name(cmd, self.clock())}"[:63].rstrip("-")
        cmd = backup_parse.BackupCreate(name=name, namespaces=namespaces)

        def backup() -> None:
            work = self.backups.create(window.cluster, cmd, actor, channel, self.messages.sink(window))
            self._background(window, work, f"backup {name}")

        start = [backup]
        started = [f"Velero backup {name} of {', '.join(namespaces) or 'every namespace'}"]
        aws = self.config.aws
        for instance in (aws.rds.wanted if aws is not None else []) or []:

            def snapshot(instance: str = instance) -> None:
                work = self.backups.db_snapshot(
                    backup_parse.DbSnapshot(instance), actor, channel, self.messages.sink(window)
                )
                self._background(window, work, f"snapshot of {instance}")

            start.append(snapshot)
            started.append(f"RDS snapshot of {instance}")
        return "started " + "; ".join(started) + " (progress in the thread)", start

    def _background(self, window: Window, work: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except (UserError, DependencyError, NotConfigured) as exc:
                await self.messages.thread(window, f"⚠️ {what}: {exc}")

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
            await self.follower.follow(read, self.messages.sink(window), f"Rollout of `{service}`", timeout=timeout)

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
        await self.messages.thread(
            window, head, [SectionBlock(text=md("\n".join([f"*{head}*", *render.smoke_lines(results)])))]
        )
        if failed and window.services:
            await self._offer_rollbacks(window, actor)
        entry = {"kind": "maintenance-smoke", "actor": actor, "target": window.ref, "result": f"{len(failed)} failed"}
        await self.audit.keep(self.outbox, entry)
        return results

    async def _offer_rollbacks(self, window: Window, actor: str) -> None:
        channel = window.message[0] if window.message else self.config.channels.incidents
        book = self.runner.find("rollback")
        for service in window.services:
            namespace, name = service.split("/", 1)
            words = [name, namespace] + ([f"--cluster={window.cluster}"] if window.cluster else [])

            async def publish(blocks: list[Any], summary: str, in_channel: bool) -> None:
                await self.messages.thread(window, summary, blocks)

            try:
                await self.runner.run(self.runner.request(book, words), channel=channel, user=actor, publish=publish)
            except (UserError, DependencyError, NotConfigured) as exc:
                await self.messages.thread(window, f"⚠️ roll-back of {service}: {exc}")

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
        window = await self.messages.renew_offers(window)
        await self.messages.refresh(window)
        await self.messages.thread(window, f"{executed.text}")

    async def still_cordoned(self, window: Window) -> None:
        uncordon = node_changes(window).get("uncordon")
        offer = window.offers.get("uncordon")
        if uncordon is None or offer is None:
            return
        text = f"⚠️ {window.ref} is done, but these nodes are still cordoned by it: {', '.join(window.cordoned)}."
        blocks: list[Block] = [SectionBlock(text=md(escape(text)))]
        blocks += render.announcement(window, {"uncordon": uncordon}, 0)[-1:]
        await self.messages.thread(window, text, blocks, broadcast=True)
