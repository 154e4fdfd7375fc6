"""Carrying out an offer when its button is clicked: the one safety path of every mutating action.

Only for ``permissions.operators`` (the user from the signed request, never the button), only once per
offer (SET NX), re-planned against the Deployment as it is now (refused with the reason when it no
longer applies), audited in every outcome, and noted on the incident it was offered in.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.board import Board
from bot.core.errors import DependencyError, UserError
from bot.core.outbox import Outbox
from bot.core.permissions import Access, Who, refusal
from bot.core.redis import StoreUnavailable
from bot.core.text import user
from bot.incidents.service import IncidentService
from bot.operations.audit import AuditLog
from bot.operations.offers import Claim, Offers
from runbooks.aws.errors import code as aws_code
from runbooks.aws.session import AwsSession
from runbooks.changes import CHANGE_ERRORS, Change, Site, answered
from runbooks.errors import NotConfigured, Refused
from runbooks.kube.client import Cluster, ClusterSet, UnknownCluster
from runbooks.registry import parse_change

log = logging.getLogger(__name__)


def _claimed_text(label: str, held: Claim) -> str:
    if held.state == "claimed":
        return f"This {label} is being carried out by {held} right now; it is not repeated."
    if held.state == "unknown":
        return (
            f"This {label} was tried by {held}, but the API did not answer; it is not repeated. "
            "Check what it was to change and run the command again if needed."
        )
    return f"This {label} was already carried out by {held}; it is not repeated."


def _status(exc: BaseException) -> str:
    return str(getattr(exc, "status", None) or aws_code(exc))


@dataclass(frozen=True)
class Executed:
    change: Change
    site: Site
    text: str  # "<@U1> rolled back `production/api` to revision 2: api:2.4.1 → api:2.4.0"
    actor: str = ""
    what: str = ""  # what carry_out said it did
    context: dict[str, Any] = field(default_factory=dict)  # what the offer was made in: incident, window

    @property
    def window(self) -> int | None:
        value = self.context.get("window")
        return int(value) if value is not None else None


@dataclass(frozen=True)
class AfterChange:
    """What another domain does once a change it offered is made (a maintenance window records the nodes it
    cordoned), declared on the board; failures are logged, the change stands."""

    key: str
    done: Callable[[Executed], Awaitable[None]]
    order: int = 0


CONTEXT = ("incident", "window", "offered_to")


class ChangeExecutor:
    def __init__(
        self,
        *,
        clusters: ClusterSet,
        offers: Offers,
        audit: AuditLog,
        access: Access,
        incidents: IncidentService,
        outbox: Outbox,
        clock: Callable[[], datetime],
        aws: AwsSession | None = None,
        board: Board,
    ) -> None:
        self.aws = aws
        self.outbox = outbox
        self.clusters = clusters
        self.offers = offers
        self.audit = audit
        self.access = access
        self.incidents = incidents
        self.clock = clock
        self.board = board

    async def execute(self, offer_id: str, actor: str) -> Executed:
        """Carry out the offer for ``actor``; a refusal or failure raises UserError / DependencyError."""
        pending = await self.offers.get(offer_id)
        change = parse_change(pending)
        if pending is None or change is None:
            raise UserError("This offer expired or is unknown; run the runbook again.")
        target = change.target
        audit = {**change.model_dump(), "actor": actor, "target": target}
        if not await self.access.is_operator(actor):
            await self.audit.record({**audit, "result": "refused: not an operator"})
            raise UserError(f"{refusal(Who.OPERATORS, f'{change.verb} {target}')} Nothing was changed.")
        token = secrets.token_hex(8)
        try:
            held = await self.offers.take(offer_id, actor, self.clock(), token)
        except StoreUnavailable:
            # The claim may have been written and only its answer lost: give it back once the store answers,
            # so the next click is not told "already carried out" for a change that never ran.
            await self.outbox.deliver(
                f"release of the unconfirmed claim on offer {offer_id}", lambda: self.offers.give_back(offer_id, token)
            )
            raise
        if held is not None:
            raise UserError(_claimed_text(change.label, held))
        label = change.label.capitalize()
        site = Site(cluster=lambda: self._connect(change.cluster), aws=self.aws)
        try:
            what = await asyncio.to_thread(change.carry_out, site, self.clock())
        except Refused as exc:
            await self.offers.give_back(offer_id, token)
            await self.audit.record({**audit, "result": f"refused: {exc}"})
            raise UserError(f"{label} refused: {exc}. Nothing was changed.") from None
        except NotConfigured:  # no kubeconfig, AWS not set up: nothing was tried, said as every command says it
            await self.offers.give_back(offer_id, token)
            await self.audit.record({**audit, "result": "failed: not configured"})
            raise
        except CHANGE_ERRORS as exc:
            if answered(exc):  # the API said no: nothing was done, the offer may be tried again
                await self.offers.give_back(offer_id, token)
                await self.audit.record({**audit, "result": f"failed: {_status(exc)}"})
                raise DependencyError(f"{label} failed: {change.explain(exc)}.") from None
            # The request may or may not have reached the API: the offer stays used, so a second
            # click cannot apply it twice; the reply says to check and offer again.
            await self.offers.settle(offer_id, token, "unknown")
            await self.audit.record({**audit, "result": f"unknown: {type(exc).__name__}"})
            raise DependencyError(
                f"{label} of `{target}`: {change.explain(exc)}; check it and run the command again if needed."
            ) from None
        # The change is made: whatever fails from here on, the reply says so, and its records are kept
        # (retried from the outbox while the state store is away), never lost and never "nothing was changed".
        where = f" in cluster `{change.cluster}`" if change.cluster and self.clusters.several else ""
        done_entry = {**audit, "result": "done", "done": what}
        await self.outbox.deliver(
            f"completion of offer {offer_id}", lambda: self.offers.settle(offer_id, token, "done")
        )
        await self.outbox.deliver(f"audit entry {done_entry}", lambda: self.audit.record(done_entry))
        if pending.get("incident"):
            number = int(pending["incident"])
            await self.outbox.deliver(
                f"timeline note on INC-{number}: {change.done} {target}: {what}",
                lambda: self.incidents.note(number, change.done, f"{target}: {what}", actor),
            )
        context = {k: pending[k] for k in CONTEXT if pending.get(k) is not None}
        executed = Executed(change, site, f"{user(actor)} {change.done} `{target}`{where} {what}", actor, what, context)
        for after in self.board.of(AfterChange):
            try:
                await after.done(executed)
            except Exception:
                log.exception("%s after %s of %s", after.key, change.label, target)
        return executed

    async def follow_ups(self, executed: Executed, outcome: str) -> list[tuple[Change, str]]:
        """What the change offers next once it is complete (an EKS control plane: its node groups), each stored
        as its own offer in the same context."""
        changes = await asyncio.to_thread(executed.change.then, executed.site, outcome)
        return [(c, await self.offers.offer({**c.model_dump(), **executed.context})) for c in changes]

    def _connect(self, name: str | None) -> Cluster:
        try:
            return self.clusters.connect(name)
        except UnknownCluster:
            raise Refused(f"cluster `{name}` is no longer configured") from None
