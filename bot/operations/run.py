"""Running a runbook from chat: the words checked before any API call, the report read in a worker
thread, the changes it proposes stored as offers, the report rendered, posted, noted on the incident
of the channel and audited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from bot.core.errors import DependencyError, UserError
from bot.core.outbox import Outbox
from bot.core.words import cluster_name
from bot.incidents.service import IncidentService
from bot.operations.audit import AuditLog
from bot.operations.offered import Offered
from bot.operations.offers import Offers
from bot.operations.render import Rendered, cluster_context, render, runbook_help, runbook_list
from runbooks.kube import names
from runbooks.kube.client import ClusterSet
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.registry import Runbook, parse_args, registry, target

RUN_TIMEOUT = 60.0
CLUSTER_OPTION = "--cluster="

# Post the report: its blocks, its one-line summary, and whether the whole channel sees it (else only the
# person who ran it).
Publish = Callable[[list[object], str, bool], Awaitable[None]]


@dataclass(frozen=True)
class Request:
    """A runbook run as asked for in chat, checked: the runbook, its params, the cluster."""

    book: Runbook
    params: BaseModel
    cluster: str | None

    @property
    def target(self) -> str:
        return target(self.params)


def cluster_option(words: list[str], clusters: ClusterSet) -> tuple[str | None, list[str]]:
    """Take ``--cluster=<name>`` out of the words; the name must be one of ``kubernetes.clusters``."""
    configured = clusters.names
    chosen = clusters.default
    rest = []
    for word in words:
        if not word.startswith(CLUSTER_OPTION):
            rest.append(word)
            continue
        chosen = cluster_name(word.removeprefix(CLUSTER_OPTION), configured)
    return chosen, rest


class RunbookRunner:
    def __init__(
        self,
        *,
        clusters: ClusterSet,
        namespaces: Sequence[str],
        share_logs: bool,
        offers: Offers,
        audit: AuditLog,
        incidents: IncidentService,
        outbox: Outbox,
        clock: Callable[[], datetime],
    ) -> None:
        self.books = registry()
        self.outbox = outbox
        self.clusters = clusters
        self.namespaces = list(namespaces)
        self.share_logs = share_logs
        self.offers = offers
        self.audit = audit
        self.incidents = incidents
        self.clock = clock

    def listing(self) -> str:
        return runbook_list(list(self.books.values()))

    def find(self, name: str) -> Runbook:
        book = self.books.get(name.lower())
        if book is None:
            raise UserError(f"`{name[:40]}` is not a runbook.\n{self.listing()}")
        return book

    @staticmethod
    def help(book: Runbook) -> str:
        return runbook_help(book)

    def request(self, book: Runbook, words: list[str]) -> Request:
        """Check the words (cluster, params, namespace allow-list) before any API call."""
        cluster, rest = self._cluster_option(words)
        params = parse_args(book, rest)
        namespace = getattr(params, "namespace", None)
        if namespace is not None:
            names.namespace(namespace, self.namespaces)
        return Request(book, params, cluster)

    def starting(self, request: Request) -> str:
        where = f" in cluster `{request.cluster}`" if self.clusters.several else ""
        return f"Running *{request.book.name}* on `{request.target}`{where}… results follow here."

    def _cluster_option(self, words: list[str]) -> tuple[str | None, list[str]]:
        return cluster_option(words, self.clusters)

    async def run(self, request: Request, *, channel: str, user: str, publish: Publish) -> None:
        """Read, offer, render and ``publish`` the report; then note it on the channel's incident and audit it."""
        book = request.book
        cluster = await asyncio.to_thread(self.clusters.connect, request.cluster)
        try:
            report = await asyncio.wait_for(asyncio.to_thread(book.run, cluster, request.params), RUN_TIMEOUT)
        except API_ERRORS as exc:
            raise DependencyError(f"*{book.name}* stopped: {explain(exc, f'workload {request.target}')}.") from exc
        incident = await self.incidents.store.room_of(channel)
        blocks, summary = await self.render_offers(
            book, report, request.cluster, {"incident": incident, "offered_to": user}
        )
        if request.cluster and self.clusters.several:
            blocks = [blocks[0], cluster_context(request.cluster), *blocks[1:]]
        # Pod logs can hold anything (customer data, tokens printed by mistake): a report quoting them goes to
        # the person who asked unless kubernetes.share_logs says the channel may see it.
        await publish(list(blocks), summary, self.share_logs or not book.shows_logs)
        # The report is posted: its records are kept (retried while the state store is away), and the asker is
        # never told "Nothing was changed" about a report they can read.
        if incident is not None:
            number = incident
            await self.outbox.deliver(
                f"timeline note on INC-{number}: ran runbook {book.name}",
                lambda: self.incidents.note(number, f"ran runbook {book.name}", summary, user),
            )
        entry = {"kind": "runbook", "runbook": book.name, "actor": user, "summary": summary}
        await self.audit.keep(self.outbox, entry)

    async def render_offers(
        self, book: Runbook, report: BaseModel, cluster: str | None, origin: dict[str, object]
    ) -> Rendered:
        """Store each proposed change as an offer (with the incident and user it was offered to); render."""
        now = self.clock()
        ids, changes, refusals = {}, {}, {}
        for proposal in book.propose(report, cluster, now) if book.propose else []:
            if proposal.change is not None:
                ids[proposal.key] = await self.offers.offer({**proposal.change.model_dump(), **origin})
                changes[proposal.key] = proposal.change
            elif proposal.refusal:
                refusals[proposal.key] = proposal.refusal
        return render(report, Offered(now=now, ids=ids, changes=changes, refusals=refusals))
