"""Nodes for maintenance: cordon and uncordon (a merge patch of ``spec.unschedulable``, as ``kubectl cordon``
does), and drain through the Eviction API (PodDisruptionBudgets respected: an eviction they refuse is reported,
never forced; DaemonSet and mirror pods skipped, like ``kubectl drain --ignore-daemonsets``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runbooks.kube.client import Cluster, path
from runbooks.kube.lean import ApiException
from runbooks.kube.objects import Obj

CORE = "/api/v1"
POLICY = "/apis/policy/v1"
MIRROR = "kubernetes.io/config.mirror"
FINISHED = frozenset({"Succeeded", "Failed"})


def unschedulable(cluster: Cluster, node: str) -> bool:
    """Whether the node is cordoned (raises ApiException 404 when there is no such node)."""
    return bool((cluster.get(path(CORE, None, "nodes", node)).get("spec") or {}).get("unschedulable"))


def set_unschedulable(cluster: Cluster, node: str, value: bool) -> None:
    cluster.merge_patch(path(CORE, None, "nodes", node), {"spec": {"unschedulable": value}})


def pods_on(cluster: Cluster, node: str) -> list[Obj]:
    """The pods scheduled on ``node`` (the field selector again here: not every API applies it)."""
    selector = f"spec.nodeName={node}"
    found = cluster.list_all(path(CORE, None, "pods"), fieldSelector=selector)
    return [p for p in found if (p.get("spec") or {}).get("nodeName") == node]


def skipped(pod: Obj) -> str | None:
    """Why a drain leaves this pod alone (None: it is evicted)."""
    meta = pod.get("metadata") or {}
    if MIRROR in (meta.get("annotations") or {}):
        return "mirror pod"
    if any(o.get("kind") == "DaemonSet" for o in meta.get("ownerReferences") or []):
        return "DaemonSet pod"
    if (pod.get("status") or {}).get("phase") in FINISHED:
        return "finished"
    return None


def evict(cluster: Cluster, namespace: str, pod: str) -> None:
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": namespace}}
    cluster.create(path(CORE, namespace, "pods", pod, "eviction"), body)


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a pod's labels; an empty one matches nothing,
    as for PodDisruptionBudgets."""
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and present and labels.get(key) in values:
            return False
        if (operator == "Exists" and not present) or (operator == "DoesNotExist" and present):
            return False
    return True


def budgets_for(pod: Obj, budgets: Sequence[Obj]) -> list[str]:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return [
        str((b.get("metadata") or {}).get("name"))
        for b in budgets
        if selector_matches((b.get("spec") or {}).get("selector") or {}, labels)
    ]


@dataclass
class Drained:
    """What a drain did, pod by pod."""

    evicted: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # pod → "PDB payments-pdb"
    skipped: dict[str, list[str]] = field(default_factory=dict)  # reason → pods
    failed: dict[str, str] = field(default_factory=dict)  # pod → the API's answer

    def summary(self) -> str:
        parts = [f"evicted {len(self.evicted)} pod(s)"]
        if self.blocked:
            parts.append("blocked by " + "; ".join(f"{why}: {pod}" for pod, why in sorted(self.blocked.items())))
        parts += [f"skipped {len(pods)} {why}(s)" for why, pods in sorted(self.skipped.items())]
        if self.failed:
            parts.append("failed: " + "; ".join(f"{pod} ({why})" for pod, why in sorted(self.failed.items())))
        return ", ".join(parts)


def budgets_in(cluster: Cluster, pods: Sequence[Obj]) -> dict[str, list[Obj]]:
    """The PodDisruptionBudgets of each namespace a drain would evict pods from: read before the drain's first write,
    so one who may not read them changes nothing."""
    namespaces = {str((p.get("metadata") or {}).get("namespace")) for p in pods if skipped(p) is None}
    return {ns: list(cluster.list_all(path(POLICY, ns, "poddisruptionbudgets"))) for ns in sorted(namespaces)}


def drain(cluster: Cluster, node: str, budgets: dict[str, list[Obj]] | None = None) -> Drained:
    """Evict every pod of a cordoned node that may be evicted; nothing is forced. ``budgets``: the budgets read before
    (see ``budgets_in``); a namespace not among them (a pod that landed meanwhile) is read when one blocks."""
    result = Drained()
    budgets = dict(budgets or {})
    for pod in pods_on(cluster, node):
        meta = pod.get("metadata") or {}
        namespace, name = str(meta.get("namespace")), str(meta.get("name"))
        ref = f"{namespace}/{name}"
        reason = skipped(pod)
        if reason is not None:
            result.skipped.setdefault(reason, []).append(ref)
            continue
        try:
            evict(cluster, namespace, name)
            result.evicted.append(ref)
        except ApiException as exc:
            if exc.status == 404:  # gone meanwhile
                continue
            if exc.status == 429:  # a PodDisruptionBudget does not allow it now
                if namespace not in budgets:
                    budgets[namespace] = list(cluster.list_all(path(POLICY, namespace, "poddisruptionbudgets")))
                names = budgets_for(pod, budgets[namespace])
                result.blocked[ref] = "PDB " + (", ".join(names) if names else "(unnamed)")
                continue
            result.failed[ref] = f"{exc.status} {exc.reason}"
    return result
