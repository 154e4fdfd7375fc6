"""Runbook "restart": a rolling restart of a Deployment, the way ``kubectl rollout restart`` does it.

The runbook reads the Deployment and offers a "Restart" button; the restart itself stamps
``kubectl.kubernetes.io/restartedAt`` on the pod template, so the Deployment controller replaces
the pods under its usual rolling-update rules (maxUnavailable / maxSurge), never all at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from runbooks.changes import DeploymentChange, Proposal, Site
from runbooks.errors import Refused
from runbooks.kube import deployment, names
from runbooks.kube.client import Cluster
from runbooks.kube.deployment import RESTARTED_AT, DeploymentState
from runbooks.registry import Runbook


class RestartParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment: names.DeploymentName
    namespace: names.Namespace = "default"


class RestartOffer(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: DeploymentState


def plan(state: DeploymentState, now: datetime) -> dict[str, Any]:
    """The patch that restarts the pods; Refused when a restart would do nothing."""
    if state.paused:
        raise Refused(f"{state.target} is paused; resume it before restarting")
    if state.replicas == 0:
        raise Refused(f"{state.target} is scaled to 0 replicas; there are no pods to restart")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"resourceVersion": state.resource_version},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}},
    }


class Restart(DeploymentChange):
    kind: Literal["restart"] = "restart"

    label: ClassVar[str] = "restart"
    verb: ClassVar[str] = "restart"
    done: ClassVar[str] = "restarted"

    def carry_out(self, site: Site, now: datetime) -> str:
        cluster = site.cluster()
        state = deployment.read(cluster, self.namespace, self.deployment)
        deployment.patch(cluster, self.namespace, self.deployment, plan(state, now))
        return f"rolling restart of {state.replicas} replica(s)"


def _run(cluster: Cluster, params: RestartParams) -> RestartOffer:
    return RestartOffer(state=deployment.read(cluster, params.namespace, params.deployment))


def _propose(report: RestartOffer, cluster: str | None, now: datetime) -> list[Proposal]:
    state = report.state
    try:
        plan(state, now)
    except Refused as exc:
        return [Proposal("restart", refusal=str(exc))]
    return [Proposal("restart", Restart(namespace=state.namespace, deployment=state.deployment, cluster=cluster))]


RUNBOOK = Runbook(
    name="restart",
    summary="Restart: a rolling restart of a deployment's pods (operators only)",
    usage="/runbook restart <deployment> [namespace]",
    params=RestartParams,
    steps=("read the deployment", "restart its pods, rolling", "follow the rollout"),
    mutating_steps=("restart its pods, rolling",),
    run=_run,
    propose=_propose,
)
