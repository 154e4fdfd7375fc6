"""Runbook "restart": a rolling restart of a Deployment, the way ``kubectl rollout restart`` does it.

The runbook reads the Deployment and offers a "Restart" button; the restart itself stamps
``kubectl.kubernetes.io/restartedAt`` on the pod template, so the Deployment controller replaces
the pods under its usual rolling-update rules (maxUnavailable / maxSurge), never all at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from runbooks import deployment, names
from runbooks.cluster import Cluster
from runbooks.deployment import RESTARTED_AT, ActionRefused, DeploymentState
from runbooks.registry import Runbook


class RestartParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment: names.DeploymentName
    namespace: names.Namespace = "default"


class RestartOffer(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: DeploymentState


def plan(state: DeploymentState, now: datetime) -> dict[str, Any]:
    """The patch that restarts the pods; ActionRefused when a restart would do nothing."""
    if state.paused:
        raise ActionRefused(f"{state.target} is paused; resume it before restarting")
    if state.replicas == 0:
        raise ActionRefused(f"{state.target} is scaled to 0 replicas; there are no pods to restart")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"resourceVersion": state.resource_version},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}},
    }


def _run(cluster: Cluster, params: RestartParams) -> RestartOffer:
    return RestartOffer(state=deployment.read(cluster, params.namespace, params.deployment))


RUNBOOK = Runbook(
    name="restart",
    summary="Restart: a rolling restart of a deployment's pods (operators only)",
    usage="/runbook restart <deployment> [namespace]",
    params=RestartParams,
    steps=("read the deployment", "restart its pods, rolling", "follow the rollout"),
    mutating_steps=("restart its pods, rolling",),
    run=_run,
)
