"""A Deployment as the mutating runbooks see it, and the one way they change it.

Every change (roll back, restart, scale) is a JSON merge patch on the Deployment guarded by the
``resourceVersion`` read just before, so a change made meanwhile by someone else is never
overwritten: the API answers 409 and the bot says so. One verb (``patch`` on deployments) covers
them all, which keeps the bot's RBAC to a single namespaced rule.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from runbooks.kube.client import Cluster, path
from runbooks.kube.lean import ApiException
from runbooks.kube.objects import Obj


class DeploymentState(BaseModel):
    model_config = ConfigDict(frozen=True)

    namespace: str
    deployment: str
    replicas: int
    ready: int
    updated: int
    available: int
    images: list[str]
    paused: bool
    restarted_at: str | None
    autoscaler: str | None  # "hpa-name (2–10)" when a HorizontalPodAutoscaler manages the replica count
    resource_version: str

    @property
    def target(self) -> str:
        return f"{self.namespace}/{self.deployment}"


RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
APPS = "/apis/apps/v1"


def resource(namespace: str, name: str) -> str:
    return path(APPS, namespace, "deployments", name)


def images(template: Obj) -> list[str]:
    return [str(c.get("image")) for c in (template.get("spec") or {}).get("containers") or []]


def _autoscaler(cluster: Cluster, namespace: str, name: str) -> str | None:
    """The HPA scaling this Deployment, if any (a cluster without the API or the permission: none known)."""
    try:
        listed = list(cluster.hpas(namespace))
    except ApiException:
        return None
    for hpa in listed:
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        if ref.get("kind") == "Deployment" and ref.get("name") == name:
            low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", "?")
            return f"{(hpa.get('metadata') or {}).get('name')} ({low}–{high})"
    return None


def read(cluster: Cluster, namespace: str, name: str, *, with_autoscaler: bool = False) -> DeploymentState:
    dep = cluster.get(resource(namespace, name))
    meta, spec, status = dep.get("metadata") or {}, dep.get("spec") or {}, dep.get("status") or {}
    template = spec.get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return DeploymentState(
        namespace=namespace,
        deployment=name,
        replicas=int(spec.get("replicas", 1) or 0),
        ready=int(status.get("readyReplicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        images=images(template),
        paused=bool(spec.get("paused")),
        restarted_at=annotations.get(RESTARTED_AT),
        autoscaler=_autoscaler(cluster, namespace, name) if with_autoscaler else None,
        resource_version=str(meta.get("resourceVersion", "")),
    )


def patch(cluster: Cluster, namespace: str, name: str, body: dict[str, Any]) -> None:
    cluster.merge_patch(resource(namespace, name), body)


def rollout_status(cluster: Cluster, namespace: str, name: str) -> tuple[str, bool]:
    """One reading of the rollout: a progress line, and whether it is complete."""
    dep = cluster.get(resource(namespace, name))
    spec, status = dep.get("spec") or {}, dep.get("status") or {}
    want = int(spec.get("replicas", 1) or 0)
    updated, available = int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0)
    observed = int(status.get("observedGeneration") or 0) >= int((dep.get("metadata") or {}).get("generation") or 0)
    return f"{updated}/{want} updated, {available}/{want} available", observed and updated >= want and available >= want
