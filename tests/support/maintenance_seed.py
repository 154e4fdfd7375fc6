"""A cluster for maintenance windows: two nodes, the pods of one of them (an application pod, a DaemonSet pod, a
pod a PodDisruptionBudget protects), and the runbooks' Deployments (one with revisions to roll back to, one
without). Kubelets at ``kubelet`` (for the EKS skew checks)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.cluster_seed import node, pod
from tests.support.runbook_seed import seed as runbook_seed

Obj = dict[str, Any]
NS = "production"


def kubelet_node(name: str, kubelet: str) -> Obj:
    found = node(name)
    found["status"]["nodeInfo"] = {"kubeletVersion": kubelet}
    return found


def on(node_name: str, name: str, labels: dict[str, str], owner: str | None = None) -> Obj:
    found = pod(name, NS)
    found["metadata"]["labels"] = labels
    if owner:
        found["metadata"]["ownerReferences"] = [{"kind": owner, "name": f"{name}-owner", "uid": f"uid-{name}"}]
    found["spec"]["nodeName"] = node_name
    return found


def seed(now: datetime, kubelets: dict[str, str]) -> dict[str, list[Obj]]:
    objects = runbook_seed(now)
    objects["v1/nodes"] = [kubelet_node(name, version) for name, version in kubelets.items()]
    first = next(iter(kubelets))
    objects["v1/pods"] = [
        *objects["v1/pods"],
        on(first, "web-7d9f-1", {"app": "web"}, owner="ReplicaSet"),
        on(first, "fluentd-x2k", {"app": "fluentd"}, owner="DaemonSet"),
        on(first, "ledger-0", {"app": "ledger"}, owner="StatefulSet"),
    ]
    objects["policy/v1/poddisruptionbudgets"] = [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "ledger-pdb", "namespace": NS},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ledger"}}},
        }
    ]
    return objects
