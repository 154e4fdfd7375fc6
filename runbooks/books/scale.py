"""Runbook "scale": set a Deployment's replica count, with the autoscaler that may undo it named.

The runbook reads the Deployment (and any HorizontalPodAutoscaler targeting it) and offers a
"Scale 3 → 6" button; the change patches ``spec.replicas``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from runbooks.changes import DeploymentChange, Proposal, Site
from runbooks.errors import Refused
from runbooks.kube import deployment, names
from runbooks.kube.client import Cluster
from runbooks.kube.deployment import DeploymentState
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
    """The patch that sets the replica count; Refused when it is already there."""
    if not 0 <= replicas <= MAX_REPLICAS:
        raise Refused(f"{replicas} replicas is outside 0–{MAX_REPLICAS}")
    if state.replicas == replicas:
        raise Refused(f"{state.target} already has {replicas} replica(s)")
    return {"metadata": {"resourceVersion": state.resource_version}, "spec": {"replicas": replicas}}


class Scale(DeploymentChange):
    kind: Literal["scale"] = "scale"
    replicas: int

    label: ClassVar[str] = "scale"
    verb: ClassVar[str] = "scale"
    done: ClassVar[str] = "scaled"

    def carry_out(self, site: Site, now: datetime) -> str:
        cluster = site.cluster()
        state = deployment.read(cluster, self.namespace, self.deployment)
        deployment.patch(cluster, self.namespace, self.deployment, plan(state, self.replicas))
        return f"from {state.replicas} to {self.replicas} replica(s)"


def _run(cluster: Cluster, params: ScaleParams) -> ScaleOffer:
    state = deployment.read(cluster, params.namespace, params.deployment, with_autoscaler=True)
    return ScaleOffer(state=state, replicas=params.replicas)


def _propose(report: ScaleOffer, cluster: str | None, now: datetime) -> list[Proposal]:
    state, replicas = report.state, report.replicas
    try:
        plan(state, replicas)
    except Refused as exc:
        return [Proposal("scale", refusal=str(exc))]
    change = Scale(namespace=state.namespace, deployment=state.deployment, replicas=replicas, cluster=cluster)
    return [Proposal("scale", change)]


RUNBOOK = Runbook(
    name="scale",
    summary="Scale: set a deployment's replica count (operators only)",
    usage="/runbook scale <deployment> <replicas> [namespace]",
    params=ScaleParams,
    steps=("read the deployment and its autoscaler", "set the replica count", "follow the rollout"),
    mutating_steps=("set the replica count",),
    run=_run,
    propose=_propose,
)
