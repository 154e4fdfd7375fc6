"""Carrying out an offer when its button is clicked: the one safety path of every mutating action.

Only for ``permissions.operators`` (the user from the signed request, never the button), only once per
offer (SET NX), re-planned against the Deployment as it is now (refused with the reason when it no
longer applies), audited in every outcome, and noted on the incident it was offered in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kubernetes.client.exceptions import ApiException

from bot.core.blocks import user
from bot.core.errors import DependencyError, UserError
from bot.core.permissions import Access
from bot.incidents.service import IncidentService
from bot.operations.audit import AuditLog
from bot.operations.offers import Offers
from runbooks.errors import Refused
from runbooks.kube.changes import Change
from runbooks.kube.client import Cluster, ClusterSet
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.registry import parse_change


@dataclass(frozen=True)
class Executed:
    change: Change
    cluster: Cluster
    text: str  # "<@U1> rolled back `production/api` to revision 2: api:2.4.1 → api:2.4.0"


class ChangeExecutor:
    def __init__(
        self,
        *,
        clusters: ClusterSet,
        offers: Offers,
        audit: AuditLog,
        access: Access,
        incidents: IncidentService,
        clock: Callable[[], datetime],
    ) -> None:
        self.clusters = clusters
        self.offers = offers
        self.audit = audit
        self.access = access
        self.incidents = incidents
        self.clock = clock

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
            raise UserError(f"Only operators (permissions.operators) may {change.verb} {target}. Nothing was changed.")
        done = await self.offers.take(offer_id, actor, self.clock())
        if done is not None:
            raise UserError(f"This {change.label} was already carried out by {done}; it is not repeated.")
        label = change.label.capitalize()
        try:
            cluster = await asyncio.to_thread(self.clusters.connect, change.cluster)
        except KeyError:
            await self.offers.give_back(offer_id)
            raise UserError(f"Cluster `{change.cluster}` is no longer configured; nothing was changed.") from None
        try:
            what = await asyncio.to_thread(change.carry_out, cluster, self.clock())
        except Refused as exc:
            await self.offers.give_back(offer_id)
            await self.audit.record({**audit, "result": f"refused: {exc}"})
            raise UserError(f"{label} refused: {exc}. Nothing was changed.") from None
        except ApiException as exc:
            await self.offers.give_back(offer_id)
            await self.audit.record({**audit, "result": f"failed: {exc.status}"})
            raise DependencyError(f"{label} failed: {explain(exc, f'deployment {target}', 'change')}.") from None
        except API_ERRORS as exc:
            # The request may or may not have reached the API: the offer stays used, so a second
            # click cannot apply it twice; the reply says to check and offer again.
            await self.audit.record({**audit, "result": f"unknown: {type(exc).__name__}"})
            raise DependencyError(
                f"{label} of `{target}`: the Kubernetes API did not answer ({type(exc).__name__}); "
                "check the deployment and run the runbook again if needed."
            ) from None
        where = f" in cluster `{change.cluster}`" if change.cluster and self.clusters.several else ""
        await self.audit.record({**audit, "result": "done", "done": what})
        if pending.get("incident"):
            await self.incidents.note(int(pending["incident"]), change.done, f"{target}: {what}", actor)
        return Executed(change, cluster, f"{user(actor)} {change.done} `{target}`{where} {what}")
