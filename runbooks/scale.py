"""Runbook "scale": set a Deployment's replica count, with the autoscaler that may undo it named.

The runbook reads the Deployment (and any HorizontalPodAutoscaler targeting it) and offers a
"Scale 3 → 6" button; the change patches ``spec.replicas``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runbooks import deployment, names
from runbooks.cluster import Cluster
from runbooks.deployment import ActionRefused, DeploymentState
from runbooks.registry import Runbook

MAX_REPLICAS = 500


class ScaleParams(BaseModel):
    model_config = ConfigDict(frozen=True)

    deployment: names.DeploymentName
    replicas: int = Field(ge=0, le=MAX_REPLICAS)
    namespace: names.Namespace = "default"


class ScaleOffer(BaseModel):
    model_config = ConfigDict(frozen=True)

    state: DeploymentState
    replicas: int


def plan(state: DeploymentState, replicas: int) -> dict[str, Any]:
    """The patch that sets the replica count; ActionRefused when it is already there."""
    if not 0 <= replicas <= MAX_REPLICAS:
        raise ActionRefused(f"{replicas} replicas is outside 0–{MAX_REPLICAS}")
    if state.replicas == replicas:
        raise ActionRefused(f"{state.target} already has {replicas} replica(s)")
    return {"metadata": {"resourceVersion": state.resource_version}, "spec": {"replicas": replicas}}


def _run(cluster: Cluster, params: ScaleParams) -> ScaleOffer:
    state = deployment.read(cluster, params.namespace, params.deployment, with_autoscaler=True)
    return ScaleOffer(state=state, replicas=params.replicas)


RUNBOOK = Runbook(
    name="scale",
    summary="Scale: set a deployment's replica count (operators only)",
    usage="/runbook scale <deployment> <replicas> [namespace]",
    params=ScaleParams,
    steps=("read the deployment and its autoscaler", "set the replica count", "follow the rollout"),
    mutating_steps=("set the replica count",),
    run=_run,
)
