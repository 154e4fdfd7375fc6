"""A Deployment's rollout history and the roll-back patch, the way ``kubectl rollout undo`` does it.

History comes from the Deployment's ReplicaSets (owner references, ``deployment.kubernetes.io/revision``,
``kubernetes.io/change-cause``). Rolling back to revision N patches the Deployment's pod template with
that ReplicaSet's template minus ``pod-template-hash`` (a JSON merge patch that also removes what the
target lacks), guarded by the Deployment's resourceVersion so a concurrent change is not overwritten.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from runbooks.errors import Refused
from runbooks.kube import deployment
from runbooks.kube.client import Cluster, path
from runbooks.kube.deployment import images
from runbooks.kube.objects import Obj, parse_time

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"


class Revision(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    replicaset: str
    images: list[str]
    change_cause: str | None
    created: datetime | None
    template: dict[str, Any]


class History(BaseModel):
    model_config = ConfigDict(frozen=True)

    namespace: str
    deployment: str
    current: int | None
    paused: bool
    resource_version: str
    template: dict[str, Any]
    revisions: list[Revision]  # newest first

    def revision(self, number: int) -> Revision | None:
        return next((r for r in self.revisions if r.number == number), None)


class RollbackRefused(Refused):
    """The roll-back cannot be done; the message says why."""


def image_change(before: list[str], after: list[str]) -> str:
    """``api-gateway:2.4.1 → api-gateway:2.4.0`` (images side by side)."""
    return f"{', '.join(before) or '?'} → {', '.join(after) or '?'}"


def clean_template(template: Obj) -> Obj:
    """The ReplicaSet's template as it belongs on the Deployment: without the pod-template-hash label."""
    out = copy.deepcopy(template)
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return out


def merge_patch(current: Any, target: Any) -> Any:
    """An RFC 7386 merge patch turning ``current`` into ``target`` (null removes a key; lists are replaced)."""
    if not isinstance(current, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, Any] = {key: None for key in current if key not in target}
    for key, value in target.items():
        if key not in current:
            patch[key] = value
        elif current[key] != value:
            patch[key] = merge_patch(current[key], value)
    return patch


def history(cluster: Cluster, namespace: str, name: str) -> History:
    """The Deployment and its ReplicaSet revisions, newest first."""
    dep = cluster.get(deployment.resource(namespace, name))
    uid = dep["metadata"].get("uid")
    selector = (dep.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
    label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or None
    revisions = []
    for rs in cluster.list_all(path(deployment.APPS, namespace, "replicasets"), labelSelector=label_selector):
        meta = rs.get("metadata") or {}
        owners = meta.get("ownerReferences") or []
        if not any(o.get("kind") == "Deployment" and (o.get("uid") == uid or o.get("name") == name) for o in owners):
            continue
        annotations = meta.get("annotations") or {}
        if not str(annotations.get(REVISION, "")).isdigit():
            continue
        template = (rs.get("spec") or {}).get("template") or {}
        revisions.append(
            Revision(
                number=int(annotations[REVISION]),
                replicaset=str(meta.get("name")),
                images=images(template),
                change_cause=annotations.get(CHANGE_CAUSE),
                created=parse_time(meta.get("creationTimestamp")),
                template=template,
            )
        )
    revisions.sort(key=lambda r: r.number, reverse=True)
    annotations = dep["metadata"].get("annotations") or {}
    current = int(annotations[REVISION]) if str(annotations.get(REVISION, "")).isdigit() else None
    return History(
        namespace=namespace,
        deployment=name,
        current=current,
        paused=bool((dep.get("spec") or {}).get("paused")),
        resource_version=str(dep["metadata"].get("resourceVersion", "")),
        template=(dep.get("spec") or {}).get("template") or {},
        revisions=revisions,
    )


def plan(state: History, to_revision: int) -> tuple[Revision, dict[str, Any]]:
    """Check the roll-back is possible and build the patch; raise RollbackRefused with the reason."""
    target = state.revision(to_revision)
    if target is None:
        known = ", ".join(str(r.number) for r in state.revisions) or "none"
        raise RollbackRefused(f"revision {to_revision} of {state.namespace}/{state.deployment} is gone (kept: {known})")
    if state.paused:
        raise RollbackRefused(f"{state.namespace}/{state.deployment} is paused; resume it before rolling back")
    wanted = clean_template(target.template)
    if clean_template(state.template) == wanted:
        raise RollbackRefused(f"{state.namespace}/{state.deployment} already runs revision {to_revision}'s template")
    patch = {
        "metadata": {"resourceVersion": state.resource_version},
        "spec": {"template": merge_patch(clean_template(state.template), wanted)},
    }
    return target, patch


def apply(cluster: Cluster, state: History, patch: dict[str, Any]) -> None:
    deployment.patch(cluster, state.namespace, state.deployment, patch)
