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
from bot.core.settings.impersonate import Impersonate
from bot.core.text import user
from bot.incidents.service import IncidentService
from bot.operations.audit import AuditLog
from bot.operations.impersonate import Identity, cluster_refusal, identity_of, no_identity
from bot.operations.offers import Claim, Offers
from runbooks.aws.errors import code as aws_code
from runbooks.aws.session import AwsSession
from runbooks.changes import CHANGE_ERRORS, Change, Site, answered
from runbooks.errors import BadRequest, NotConfigured, Refused
from runbooks.kube.client import Cluster, ClusterSet, UnknownCluster
from runbooks.registry import parse_change

log = logging.getLogger(__name__)


def _claimed_text(label: str, held: Claim) -> str:
    if held.state == "claimed":
        return f"This {label} is being carried out by {held} right now; it is not repeated."
    if held.state == "partial":
        return (
            f"This {label} was carried out partway by {held} (refused or failed after part of it was made); it is not "
            "repeated. Check what it was to change and run the command again if needed."
        )
    if held.state == "unknown":
        return (
            f"This {label} was tried by {held}, but the API did not answer; it is not repeated. "
            "Check what it was to change and run the command again if needed."
        )
    return f"This {label} was already carried out by {held}; it is not repeated."


def _status(exc: BaseException) -> str:
    return str(getattr(exc, "status", None) or aws_code(exc))


READS = frozenset({"GET", "HEAD", "OPTIONS"})
VERBS = {"PATCH": "patched", "POST": "created", "PUT": "replaced", "DELETE": "deleted"}
SHOWN_WRITES = 6


class Recorded(Cluster):
    """A change's own view of its cluster (as the bot, or the impersonating copy): each write the API server accepted
    is recorded, so a refusal or failure after one is said as partway, never as "nothing was changed"."""

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster.name, cluster.api)
        self.written: list[tuple[str, str]] = []  # (method, path), appended from the change's thread

    def call(self, resource: str, method: str = "GET", **kwargs: Any) -> Any:
        answer = super().call(resource, method, **kwargs)
        if method.upper() not in READS:
            self.written.append((method.upper(), resource))
        return answer


def _written(writes: list[tuple[str, str]]) -> str:
    """``patched nodes/node-a, created pods/web-1/eviction in production`` (the first few, then how many more)."""
    shown = []
    for method, resource in writes[:SHOWN_WRITES]:
        parts = resource.split("/")[3 if resource.startswith("/api/") else 4 :]  # after /api/v1, /apis/<g>/<v>
        where = ""
        if len(parts) > 2 and parts[0] == "namespaces":  # namespaces/<ns>/<plural>…
            where, parts = f" in {parts[1]}", parts[2:]
        shown.append(f"{VERBS.get(method, method)} {'/'.join(parts)}{where}")
    more = f" and {len(writes) - SHOWN_WRITES} more" if len(writes) > SHOWN_WRITES else ""
    return ", ".join(shown) + more


@dataclass(frozen=True)
class Claimed:
    """The offer this click holds, and the token of its claim."""

    offer_id: str
    token: str


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
        impersonate: Impersonate | None = None,
    ) -> None:
        self.impersonate = impersonate
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
        identity = await self._identity(change, actor, audit)
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
        made: list[Recorded] = []  # the change's cluster, once it is connected
        site = Site(cluster=self._cluster_of(change.cluster, identity, audit, made), aws=self.aws)
        what = await self._carry_out(change, site, Claimed(offer_id, token), audit, identity=identity, made=made)
        # The change is made: whatever fails from here on, the reply says so, and its records are kept
        # (retried from the outbox while the state store is away), never lost and never "nothing was changed".
        where = f" in cluster `{change.cluster}`" if change.cluster and self.clusters.several else ""
        done_entry = {**audit, "result": "done", "done": what}
        await self.outbox.deliver(
            f"completion of offer {offer_id}", lambda: self.offers.settle(offer_id, token, "done")
        )
        await self.audit.keep(self.outbox, done_entry)
        if pending.get("incident"):
            number = int(pending["incident"])
            await self.outbox.deliver(
                f"timeline note on INC-{number}: {change.done} {target}: {what}",
                lambda: self.incidents.note(number, change.done, f"{target}: {what}", actor),
            )
        context = {k: pending[k] for k in CONTEXT if pending.get(k) is not None}
        # Following the change (its progress, what it offers next) is the bot's own reading, as itself.
        own = Site(cluster=lambda: self._connect(change.cluster), aws=self.aws)
        executed = Executed(change, own, f"{user(actor)} {change.done} `{target}`{where} {what}", actor, what, context)
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

    async def _identity(self, change: Change, actor: str, audit: dict[str, Any]) -> Identity | None:
        """With ``kubernetes.impersonate``, whom the clicker is in Kubernetes, before the offer is taken: a clicker
        with none is refused (whatever the change: the setting means only people it maps change things from chat),
        and a user group Slack does not tell the members of now fails the click, never guessed."""
        if self.impersonate is None:
            return None
        label = change.label.capitalize()
        try:
            identity = await identity_of(self.impersonate, self.access, actor)
        except DependencyError as exc:
            await self.audit.record({**audit, "result": f"failed: {exc}"})
            raise DependencyError(
                f"{label} not carried out: {exc}, so whom to make it as in the cluster is not known. Nothing was "
                "changed."
            ) from None
        if identity is None:
            await self.audit.record({**audit, "result": f"refused: {no_identity(actor)}"})
            raise UserError(f"{label} refused: {no_identity(actor)}. Nothing was changed.")
        return identity

    async def _carry_out(
        self,
        change: Change,
        site: Site,
        claim: Claimed,
        audit: dict[str, Any],
        *,
        identity: Identity | None,
        made: list[Recorded],
    ) -> str:
        """``change.carry_out`` in a worker thread: what it did, or the offer given back (or settled partial or
        unknown), the outcome audited and the refusal or failure raised as the reply."""
        label = change.label.capitalize()
        try:
            return await asyncio.to_thread(change.carry_out, site, self.clock())
        except (Refused, BadRequest) as exc:  # BadRequest: an identity no HTTP header carries (as_user)
            refusal = UserError(f"{label} refused: {exc}")
            raise await self._undone(change, claim, audit, made, result=f"refused: {exc}", error=refusal) from None
        except NotConfigured:  # no kubeconfig, AWS not set up: nothing was tried, said as every command says it
            await self.offers.give_back(claim.offer_id, claim.token)
            await self.audit.record({**audit, "result": "failed: not configured"})
            raise
        except CHANGE_ERRORS as exc:
            if not answered(exc):
                # The request may or may not have reached the API: the offer stays used, so a second
                # click cannot apply it twice; the reply says to check and offer again.
                written = _written(made[0].written) if made and made[0].written else ""
                done = {"done": written} if written else {}
                unknown = {**audit, "result": f"unknown: {type(exc).__name__}", **done}
                await self._keep(claim, "unknown", unknown)
                before = f" (made before it: {written})" if written else ""
                raise DependencyError(
                    f"{label} of `{change.target}`: {change.explain(exc)}{before}; check it and run the command again "
                    "if needed."
                ) from None
            # made as the clicker ("as": the cluster was reached as them): the cluster refused that person
            doing = f"{change.verb} {change.target}"
            refused = identity and "as" in audit and cluster_refusal(exc, identity, doing)
            error: UserError | DependencyError = DependencyError(f"{label} failed: {change.explain(exc)}")
            result = f"failed: {_status(exc)}"
            if refused:
                result, error = f"refused by the cluster: {_status(exc)}", UserError(f"{label} refused: {refused}")
            raise await self._undone(change, claim, audit, made, result=result, error=error) from None

    async def _undone(
        self,
        change: Change,
        claim: Claimed,
        audit: dict[str, Any],
        made: list[Recorded],
        *,
        result: str,
        error: UserError | DependencyError,
    ) -> Exception:
        """A change the API refused or failed, as the error to raise: before any write, the offer given back ("Nothing
        was changed.", another click may try again); after one, the offer stays used, settled and audited as partial,
        the reply naming what was made."""
        written = made[0].written if made else []
        if not written:
            await self.offers.give_back(claim.offer_id, claim.token)
            await self.audit.record({**audit, "result": result})
            return type(error)(f"{error}. Nothing was changed.")
        done = _written(written)
        await self._keep(claim, "partial", {**audit, "result": f"partial: {result}", "done": done})
        return type(error)(
            f"{error}, partway: already made, and not undone: {done}. Check `{change.target}` and run the command "
            "again if needed."
        )

    async def _keep(self, claim: Claimed, state: str, entry: dict[str, Any]) -> None:
        """A change that may have been made, or was made in part: the offer settled as ``state`` and audited through
        the outbox (a network cut that took the API's answer may take Redis too), so the reply still says what may
        have been made, never "Nothing was changed"."""
        offer = claim.offer_id
        await self.outbox.deliver(
            f"{state} settlement of offer {offer}", lambda: self.offers.settle(offer, claim.token, state)
        )
        await self.audit.keep(self.outbox, entry)

    def _cluster_of(
        self, name: str | None, identity: Identity | None, audit: dict[str, Any], made: list[Recorded]
    ) -> Callable[[], Cluster]:
        """The change's cluster, connected when first needed (once per change, its writes recorded in ``made``); with
        ``kubernetes.impersonate``, as ``identity`` (named as ``as`` in the audit)."""

        def connect() -> Cluster:
            if not made:
                cluster = self._connect(name)
                if identity is not None:
                    cluster = cluster.as_user(identity.user, identity.groups)
                    audit["as"] = identity.shown
                made.append(Recorded(cluster))
            return made[0]

        return connect

    def _connect(self, name: str | None) -> Cluster:
        try:
            return self.clusters.connect(name)
        except UnknownCluster:
            raise Refused(f"cluster `{name}` is no longer configured") from None
