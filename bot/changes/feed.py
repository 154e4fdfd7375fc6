"""The change feed read: each cluster's changes (``runbooks.kube.history``, in a worker thread, the clusters at once)
and the changes made through this bot (its audit stream), and the roll-back offer of a rollout that can be undone
(the existing offer of the rollback runbook: a button carries only its opaque id)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block, ButtonElement

from bot.changes import render
from bot.core.blocks import messages
from bot.core.durations import format_duration
from bot.core.redis import StoreUnavailable
from bot.core.settings.teams import Owners
from bot.core.text import escape
from bot.operations.audit import AuditLog
from bot.operations.offered import change_button
from bot.operations.offers import Offers
from runbooks.books.rollback import Rollback, proposals
from runbooks.errors import NotConfigured
from runbooks.kube import rollout
from runbooks.kube.client import ClusterSet
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.history.model import Change, Feed, Kind
from runbooks.kube.history.read import feed

log = logging.getLogger(__name__)

READ_TIMEOUT = 30.0


class ChangeFeed:
    def __init__(
        self,
        *,
        clusters: ClusterSet,
        audit: AuditLog,
        offers: Offers,
        clock: Callable[[], datetime],
        secrets: bool = False,
    ) -> None:
        self.clusters = clusters
        self.audit = audit
        self.offers = offers
        self.clock = clock
        # Secrets (and Helm's release secrets) only when the bot is given list on them (changes.secrets)
        self.kinds = [k for k in Kind if k is not Kind.BOT and (secrets or k not in (Kind.SECRET, Kind.HELM))]

    async def read(
        self,
        since: datetime,
        until: datetime,
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        workload: str | None = None,
    ) -> list[Feed]:
        """Every named cluster's feed (``cluster`` None: each configured one), the bot's own changes in each; a
        cluster that cannot be read is a feed with one problem, never an exception."""
        chosen: Sequence[str | None] = [cluster] if cluster else (self.clusters.names or [None])
        feeds = await asyncio.gather(*(self._one(c, since, until, namespace, workload) for c in chosen))
        ours = await self._ours(since, until, namespace)
        out = []
        for found in feeds:
            mine = [c for c in ours if c.cluster == found.cluster]
            changes = sorted([*found.changes, *mine], key=lambda c: c.at, reverse=True)
            out.append(found.model_copy(update={"changes": changes}))
        return out

    async def reachable(self) -> bool:
        """Whether any cluster is configured at all (a kubeconfig, an in-cluster account): without one, an incident's
        "What changed" is left out rather than said on every incident."""
        try:
            await asyncio.to_thread(self.clusters.connect, None)
        except NotConfigured:
            return False
        return True

    async def _one(
        self, name: str | None, since: datetime, until: datetime, namespace: str | None, workload: str | None
    ) -> Feed:
        shown = self.clusters.shown(name)
        try:
            cluster = await asyncio.to_thread(self.clusters.connect, name)
            return await asyncio.wait_for(
                asyncio.to_thread(
                    feed, cluster, since, until, namespace=namespace, workload=workload, kinds=self.kinds
                ),
                READ_TIMEOUT,
            )
        except NotConfigured as exc:
            why = str(exc)
        except TimeoutError:
            why = f"the Kubernetes API did not answer within {READ_TIMEOUT:.0f} s"
        except API_ERRORS as exc:
            why = explain(exc, "the cluster's changes")
        log.warning("the changes of cluster %s not read: %s", shown, why)
        return Feed(cluster=shown, since=since, until=until, changes=[], problems=[why])

    async def _ours(self, since: datetime, until: datetime, namespace: str | None) -> list[Change]:
        """The changes carried out through this bot (audited as done), with who."""
        try:
            entries = await self.audit.entries(since, until)
        except StoreUnavailable as exc:
            log.warning("the bot's own changes not read: %s", exc)
            return []
        out = []
        for entry in entries:
            if entry.get("result") != "done" or (namespace and entry.get("namespace") != namespace):
                continue
            out.append(_ours(entry, self.clusters.shown(entry.get("cluster") or None)))
        return out

    async def rollbacks(self, changes: Sequence[Change], origin: dict[str, Any]) -> dict[int, ButtonElement]:
        """Roll back buttons (by the change's index) for the first few Deployment rollouts that are still the
        running revision: the rollback runbook's own offer of the revision before it (their histories read at once)."""
        candidates = [
            i for i, c in enumerate(changes)
            if c.kind is Kind.ROLLOUT and (c.workload or "").startswith("deployment/")
        ][: render.BUTTONS]  # fmt: skip
        found = await asyncio.gather(*(self._rollback(changes[i], origin) for i in candidates))
        return {i: button for i, button in zip(candidates, found, strict=True) if button is not None}

    async def _rollback(self, change: Change, origin: dict[str, Any]) -> ButtonElement | None:
        name = (change.workload or "").split("/", 1)[1]
        cluster = None if change.cluster == self.clusters.shown(None) and not self.clusters.names else change.cluster
        try:
            connected = await asyncio.to_thread(self.clusters.connect, cluster)
            history = await asyncio.to_thread(rollout.history, connected, change.namespace or "default", name)
        except (NotConfigured, *API_ERRORS) as exc:  # type: ignore[misc]
            log.info("no roll-back offered for %s/%s: %s", change.namespace, name, type(exc).__name__)
            return None
        if history.current is None or history.current != change.revision:
            return None  # rolled out again since: /rollback shows the history as it is now
        earlier = [r.number for r in history.revisions if r.number < history.current]
        if not earlier:
            return None
        offer = next(
            (p.change for p in proposals(history, cluster) if isinstance(p.change, Rollback)
             and p.change.to_revision == max(earlier)),
            None,
        )  # fmt: skip
        if offer is None:
            return None
        offer_id = await self.offers.offer({**offer.model_dump(), **origin})
        text = f"Roll back {change.namespace}/{name} to rev {offer.to_revision}"
        states = f"{change.namespace}/{name}: {offer.change} (revision {history.current} → {offer.to_revision})."
        return change_button(
            offer, offer_id, text, title="Roll back?", states=states, confirm="Roll back", key=str(change.revision)
        )


def _ours(entry: dict[str, str], cluster: str) -> Change:
    millis = int(entry.get("id", "0-0").split("-", 1)[0])
    target = entry.get("target") or entry.get("deployment") or entry.get("kind") or "?"
    what = entry.get("done") or entry.get("kind") or "change"
    workload = f"deployment/{entry['deployment']}" if entry.get("deployment") else None
    return Change(
        at=datetime.fromtimestamp(millis / 1000, UTC),
        cluster=cluster,
        kind=Kind.BOT,
        namespace=entry.get("namespace") or None,
        name=entry.get("deployment") or target,
        workload=workload,
        summary=f"{entry.get('kind', 'change')} through chatops-bot: {what}"[:200],
        by=entry.get("actor") or None,
    )


LISTED = 100  # lines of one /changes answer; the rest counted


async def listing(
    feed_: ChangeFeed,
    since: datetime,
    *,
    cluster: str | None,
    namespace: str | None,
    workload: str | None,
    origin: dict[str, Any],
    owners: Owners | None = None,
) -> tuple[str, list[list[Block]]]:
    """``/changes``: newest first, one line each, the Roll back buttons of rollouts still running; in messages
    Slack takes (at most 3; the rest counted with how to narrow it)."""
    until = feed_.clock()
    feeds = await feed_.read(since, until, cluster=cluster, namespace=namespace)
    changes = sorted((c for f in feeds for c in f.changes), key=lambda c: c.at, reverse=True)
    if workload:
        changes = [c for c in changes if c.name == workload or (c.workload or "/").split("/", 1)[1] == workload]
    shown = changes[:LISTED]
    buttons = await feed_.rollbacks(shown, origin)
    where = f"{namespace}/{workload}" if workload else namespace or "the whole cluster"
    head = f"{len(changes)} change(s) in {where} in the last {format_duration(until - since)}"
    rest = len(changes) - len(shown)
    more = f"…and {rest} more: name a namespace or a shorter `--since`" if rest else ""
    title = f"🔎 *Changes* in {escape(where)}, last {format_duration(until - since)}, newest first"
    blocks = render.feed_blocks(title, shown, feeds, buttons=list(buttons.values()), more=more, owners=owners)
    return head, messages(blocks, most=3, cut="…more left out: name a namespace or a shorter `--since`")
