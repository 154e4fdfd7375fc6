"""Alerts that arrive with evidence (``alerts.enrich``): when an alert opens or joins an incident, the diagnosis its
rule names runs on the target its labels name, in the background, and its report is posted in the incident's thread
as ``/runbook`` shows it, offers included; the change feed (``run: changes``) is asked to post its own message.

Each enrichment runs once per incident (per rule and target, claimed in Redis across replicas) however often
Alertmanager re-sends the group; a pod's workload is claimed too, so two crashing pods of one Deployment give one
report. It is time-boxed by ``alerts.enrich_timeout``, and whatever goes wrong (a bad label, a workload that is not
there, the API refusing or not answering) is one line in the thread, never a failed delivery or a blocked incident.
Log lines stay out of the shared post unless ``kubernetes.share_logs``: a "Show logs" button runs the runbook again
for the responder who clicks, privately, from what is kept server-side under the button's opaque id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts import targets as plan
from bot.alerts.payload import Alert
from bot.alerts.render import enriched_context, logs_blocks
from bot.alerts.store import ENRICHED_TTL, AlertStore
from bot.alerts.targets import CHANGES, Target
from bot.core import keys, slack
from bot.core.errors import UserError
from bot.core.redis import StoreUnavailable
from bot.core.settings.alerting import Alerts
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape
from bot.incidents.model import Incident
from bot.incidents.service import IncidentService
from bot.operations.render import cluster_context
from bot.operations.run import CLUSTER_OPTION, Request, RunbookRunner
from runbooks.books.crashloop import CrashloopReport
from runbooks.books.error_rate import ErrorRateReport
from runbooks.errors import BadRequest, NotConfigured
from runbooks.kube.client import Cluster, path
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException
from runbooks.registry import Runbook, parse_args, target

log = logging.getLogger(__name__)

PER_DELIVERY = 5  # enrichments one delivery may start (a group of 50 crashing pods is not 50 diagnoses at once)
ANNOUNCEMENT_WAIT = 30.0  # how long a report waits for the announcement it replies under
WITHHELD = "(log lines not posted in the channel: Show logs)"
T = TypeVar("T")

# The change feed's "What changed" for the incident, narrowed by the alert's labels (bot.changes posts it itself).
Changes = Callable[[Incident, Mapping[str, str]], Awaitable[None]]


@dataclass(frozen=True)
class Found:
    """A diagnosis that answered: the runbook, its params, where it ran, its report."""

    book: Runbook
    params: BaseModel
    cluster: str
    report: BaseModel

    @property
    def where(self) -> str:
        return target(self.params)


class NotEnriched(Exception):
    """One line saying why an enrichment has no report."""


def withheld(report: BaseModel) -> BaseModel:
    """The report without its log lines (each quote replaced by a pointer to "Show logs")."""
    if isinstance(report, CrashloopReport):
        crashing = [c.model_copy(update={"previous_logs": [WITHHELD]}) if c.previous_logs else c
                    for c in report.crashing]  # fmt: skip
        return report.model_copy(update={"crashing": crashing})
    if isinstance(report, ErrorRateReport) and report.samples:
        return report.model_copy(update={"samples": [WITHHELD]})
    return report


def quotes_logs(report: BaseModel) -> bool:
    if isinstance(report, CrashloopReport):
        return any(c.previous_logs for c in report.crashing)
    return isinstance(report, ErrorRateReport) and bool(report.samples)


def gist(report: BaseModel, summary: str) -> str:
    """What the timeline keeps of a report: "3 restarts, OOMKilled"."""
    if isinstance(report, CrashloopReport):
        if not report.crashing:
            return f"no crashing containers among {report.pods_seen} pod(s)"
        worst = max(report.crashing, key=lambda c: c.restarts)
        more = f" ({len(report.crashing)} crashing containers)" if len(report.crashing) > 1 else ""
        return f"{worst.restarts} restarts, {worst.last_reason or worst.waiting or 'restarting'}{more}"
    if isinstance(report, ErrorRateReport):
        return f"{report.error_lines}/{report.lines_read} recent log lines match `{report.pattern}`"
    return summary


def missing(report: BaseModel) -> bool:
    """The workload is not there: no Deployment of that name, and no pod with its ``app`` label."""
    if isinstance(report, CrashloopReport):
        return report.pods_seen == 0 and not report.deployment
    return isinstance(report, ErrorRateReport) and report.pods_seen == 0 and report.history is None


def owner(cluster: Cluster, namespace: str, pod: str) -> str:
    """The workload owning a pod: its controller (a ReplicaSet's own, the Deployment); a pod (or ReplicaSet) that is
    gone, or that nothing owns, is named by its name's form."""
    try:
        found = cluster.get(path("/api/v1", namespace, "pods", pod))
    except ApiException as exc:
        if exc.status == 404:
            return plan.workload_of_pod(pod)
        raise
    ref = _controller(found)
    if ref is None:
        return plan.workload_of_pod(pod)
    if ref.get("kind") != "ReplicaSet":
        return str(ref["name"])  # a StatefulSet, a DaemonSet, a Job
    try:
        replicaset = cluster.get(path("/apis/apps/v1", namespace, "replicasets", str(ref["name"])))
    except ApiException as exc:
        if exc.status == 404:  # replaced meanwhile
            return plan.workload_of_pod(pod)
        raise
    return str((_controller(replicaset) or ref)["name"])


def _controller(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return next((r for r in refs if r.get("controller") and r.get("name")), None)


class Enricher:
    def __init__(
        self,
        *,
        settings: Alerts,
        runner: RunbookRunner,
        store: AlertStore,
        incidents: IncidentService,
        client: AsyncWebClient,
        tasks: BackgroundTasks,
        changes: Changes | None = None,
    ) -> None:
        self.rules = settings.enrichments
        self.timeout = settings.enrich_timeout.total_seconds()
        self.runner = runner
        self.store = store
        self.incidents = incidents
        self.client = client
        self.tasks = tasks
        self.changes = changes

    def firing(self, number: int, alerts: Sequence[Alert]) -> None:
        """Start, in the background, the enrichments these firing alerts of INC-n ask for (none: nothing runs)."""
        if not self.rules:
            return
        clusters, namespaces = self.runner.clusters.names, self.runner.namespaces
        wanted = plan.targets(self.rules, [a.labels for a in alerts], clusters, namespaces, PER_DELIVERY)
        wanted = [t for t in wanted if t.run != CHANGES or self.changes is not None]  # not wired: skipped quietly
        if wanted:
            self.tasks.spawn(self._all(number, wanted), name=f"enrich-INC-{number}")

    async def _all(self, number: int, wanted: list[Target]) -> None:
        await asyncio.gather(*(self._one(number, target) for target in wanted))

    async def _one(self, number: int, target: Target) -> None:
        try:
            if not await self.store.claim(keys.enriched(number, target.key()), ENRICHED_TTL, target.shown):
                return  # enriched already (a re-send), or being enriched by another replica
            if target.problem is not None:
                await self._said(number, f"not enriched: {target.run} for {target.alertname}: {target.problem}")
            elif target.run == CHANGES:
                await self._changes(number, target)
            else:
                await self._diagnose(number, target)
        except Exception:
            # Slack or Redis failing now: the incident stands, the log says what was lost.
            log.exception("INC-%s: the enrichment %s on %s was lost", number, target.run, target.shown)

    async def _changes(self, number: int, target: Target) -> None:
        assert self.changes is not None
        what = f"changes for {target.shown}"
        changes = self.changes

        async def post() -> bool:
            await changes(await self.incidents.store.get(number), target.labels)
            return True

        if await self._boxed(number, what, post()):
            await self._noted(number, "enriched", f"{what}: posted in the thread")

    async def _diagnose(self, number: int, target: Target) -> None:
        found = await self._boxed(number, f"{target.run} on {target.shown}", self._read(number, target))
        if found is not None:
            await self._report(number, target, found)

    async def _boxed(self, number: int, what: str, work: Coroutine[Any, Any, T]) -> T | None:
        """``work`` within ``alerts.enrich_timeout``; whatever stops it is one line in the thread (and None)."""
        box = asyncio.timeout(self.timeout)
        try:
            async with box:
                return await work
        except NotEnriched as exc:
            line = f"{what}: {exc}"
        except Exception as exc:
            if isinstance(exc, TimeoutError) and box.expired():
                line = f"{what} did not answer within {self.timeout:g} s"
            else:
                log.exception("INC-%s: %s failed", number, what)
                line = f"{what} failed ({type(exc).__name__}); the bot's log has the details"
        await self._said(number, line)
        return None

    async def _read(self, number: int, target: Target) -> Found | None:
        """Connect, find the workload (a pod's owner, claimed too), run the runbook; NotEnriched says why not."""
        book = self.runner.books[target.run]
        namespace = str(target.namespace)
        try:
            cluster = await asyncio.to_thread(self.runner.clusters.connect, target.cluster)
            workload = target.workload
            if workload is None:
                workload = await asyncio.to_thread(owner, cluster, namespace, str(target.pod))
                claimed = keys.enriched(number, target.key(workload))
                if not await self.store.claim(claimed, ENRICHED_TTL, f"{namespace}/{workload}"):
                    return None  # another pod of this workload was enriched
            params = parse_args(book, [workload, namespace, *target.options])
            report = await asyncio.to_thread(book.run, cluster, params)
        except (BadRequest, NotConfigured) as exc:
            raise NotEnriched(str(exc)) from None
        except API_ERRORS as exc:  # a timeout of one request too; the time box's own is not raised in here
            raise NotEnriched(explain(exc, f"workload {target.shown}")) from None
        if missing(report):
            raise NotEnriched(f"no such workload in cluster `{cluster.name}` (no Deployment {namespace}/{workload}, "
                              f"no pods with app={workload})")  # fmt: skip
        return Found(book, params, cluster.name, report)

    async def _report(self, number: int, target: Target, found: Found) -> None:
        """Post the report as ``/runbook`` renders it (offers stored on the incident), logs left out unless shared."""
        share = self.runner.share_logs or not quotes_logs(found.report)
        shown = found.report if share else withheld(found.report)
        origin: dict[str, object] = {"incident": number, "offered_to": None}
        cluster = found.cluster if self.runner.clusters.listed else None
        # RunbookRunner's own offer path: each proposed change stored as an offer on the incident, then rendered.
        blocks, summary = await self.runner.render_offers(found.book, shown, cluster, origin)
        blocks = [blocks[0], enriched_context(target.alertname), *blocks[1:]]
        if cluster and self.runner.clusters.several:
            blocks.insert(1, cluster_context(cluster))
        if not share:
            kept = {"run": found.book.name, "cluster": cluster, "incident": number, **found.params.model_dump()}
            blocks += logs_blocks(await self.store.keep_logs(kept))
        await self._post(number, f"🔎 {summary}", blocks)
        await self._noted(number, "enriched", f"{found.book.name} on {found.where}: {gist(found.report, summary)}")
        entry = {"kind": "runbook", "runbook": found.book.name, "actor": await self._actor(number), "operator": "no"}
        await self.runner.audit.record({**entry, "summary": f"INC-{number} enriched: {summary}"})

    # The click ---------------------------------------------------------------------------------------------------
    async def logs(self, logs_id: str) -> Request:
        """What a "Show logs" button runs again: the runbook, checked as ``/runbook`` checks it (cluster, namespace
        allow-list, params), from what was kept under its opaque id (never from the button)."""
        kept = await self.store.kept_logs(logs_id)
        if kept is None:
            raise UserError("These logs are no longer kept (a week after the alert). Run `/runbook` for them.")
        book = self.runner.find(str(kept.get("run")))
        options = [f"--{k}={v}" for k, v in kept.items() if k in book.params.model_fields and v is not None
                   and k not in ("workload", "namespace")]  # fmt: skip
        cluster = [f"{CLUSTER_OPTION}{kept['cluster']}"] if kept.get("cluster") else []
        return self.runner.request(book, [str(kept.get("workload")), str(kept.get("namespace")), *options, *cluster])

    # Lines, posts and notes ----------------------------------------------------------------------------------------
    async def _said(self, number: int, line: str) -> None:
        """A line in the thread, and on the timeline."""
        await self._post(number, f"⚠️ {escape(line)}")
        await self._noted(number, "not enriched", line)

    async def _post(self, number: int, text: str, blocks: Sequence[Block] | None = None) -> None:
        """In the incident's channel, else its announcement's thread (posted beside this, waited for)."""
        incident = await self.incidents.store.get(number)
        if incident.room is None:
            await self.incidents.store.posted_announcement(number, ANNOUNCEMENT_WAIT)
        where = await self.incidents.store.where_to_reply(incident)
        if where is None:
            log.warning("INC-%s: an enrichment not posted: the incident has no announcement", number)
            return
        try:
            await self.client.chat_postMessage(
                channel=where[0], thread_ts=where[1], text=text, blocks=blocks, unfurl_links=False
            )
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"an enrichment of INC-{number}", exc)

    async def _actor(self, number: int) -> str:
        incident = await self.incidents.store.get(number)
        return incident.alert.actor if incident.alert else "Alertmanager"

    async def _noted(self, number: int, kind: str, text: str) -> None:
        """On the timeline only: the thread has the report (or the line) already."""
        try:
            await self.incidents.note(number, kind, text, await self._actor(number))
        except StoreUnavailable as exc:
            log.warning("INC-%s: %s not on the timeline: %s", number, kind, exc)
