"""Runbook "Rollback" (operations guide): the rollout history with a roll-back offer per earlier revision."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from runbooks.changes import DeploymentChange, Proposal, Site
from runbooks.errors import Refused
from runbooks.kube import deployment, names, rollout
from runbooks.kube.client import Cluster
from runbooks.kube.rollout import History
from runbooks.registry import Runbook


class RollbackParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment: names.DeploymentName
    namespace: names.Namespace = "default"


class Rollback(DeploymentChange):
    kind: Literal["rollback"] = "rollback"
    to_revision: int
    change: str  # "image:2.4.1 → image:2.4.0", as shown in the confirm dialog
    from_revision: int | None = None  # the revision running when this was offered

    label: ClassVar[str] = "roll-back"
    verb: ClassVar[str] = "roll back"
    done: ClassVar[str] = "rolled back"

    def carry_out(self, site: Site, now: datetime) -> str:
        """Refused when another rollout happened since the offer: the confirm named a change that is not the one
        this would make any more. What is reported is read from the deployment as it is now."""
        cluster = site.cluster()
        history = rollout.history(cluster, self.namespace, self.deployment)
        current = history.revision(history.current) if history.current is not None else None
        running = current.images if current else []
        if self.from_revision is not None and history.current != self.from_revision:
            raise Refused(
                f"the deployment changed since this was offered: now {', '.join(running) or '?'} "
                f"(revision {history.current}); run /rollback again"
            )
        revision, patch = rollout.plan(history, self.to_revision)
        deployment.patch(cluster, self.namespace, self.deployment, patch)
        return f"to revision {revision.number}: {rollout.image_change(running, revision.images)}"


def revision_key(number: int) -> str:
    return f"revision-{number}"


def proposals(history: History, cluster: str | None) -> list[Proposal]:
    """One roll-back per earlier revision."""
    current = history.revision(history.current) if history.current is not None else None
    return [
        Proposal(
            revision_key(rev.number),
            Rollback(
                namespace=history.namespace,
                deployment=history.deployment,
                to_revision=rev.number,
                change=rollout.image_change(current.images if current else [], rev.images),
                from_revision=history.current,
                cluster=cluster,
            ),
        )
        for rev in history.revisions
        if rev.number != history.current
    ]


def _run(cluster: Cluster, params: RollbackParams) -> History:
    return rollout.history(cluster, params.namespace, params.deployment)


def _propose(report: History, cluster: str | None, now: datetime) -> list[Proposal]:
    return proposals(report, cluster)


RUNBOOK = Runbook(
    name="rollback",
    summary="Rollback: rollout history with a roll-back button per earlier revision (operators only)",
    usage="/runbook rollback <deployment> [namespace]   (or /rollback <deployment> [namespace])",
    params=RollbackParams,
    steps=("rollout history", "roll back to a chosen revision", "follow the rollout"),
    mutating_steps=("roll back to a chosen revision",),
    run=_run,
    propose=_propose,
)
