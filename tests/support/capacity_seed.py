"""A cluster for the capacity review (raw JSON as the API server and metrics-server write it): three node groups (two
EKS managed node groups and a Karpenter pool) and one unlabelled node, pods Running and Pending with requests, one
pod the scheduler cannot place ("Insufficient memory"), NodeMetrics and PodMetrics, and HPAs: one pinned at its
maximum for two days, a twin pinned for two hours, one limited at its minimum.

The figures the tests expect (allocatable, requested, used per group) are the module's constants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.cluster_seed import iso

Obj = dict[str, Any]
GIB = 1024**3
EKS, KARPENTER = "eks.amazonaws.com/nodegroup", "karpenter.sh/nodepool"
NODE_METRICS, POD_METRICS = "metrics.k8s.io/v1beta1/nodes", "metrics.k8s.io/v1beta1/pods"


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"uid-{name}",
        "resourceVersion": "1",
        "creationTimestamp": "2026-01-01T00:00:00Z",
    }
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def node(name: str, cpu: str, memory: str, labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(name, labels=labels),
        "spec": {},
        "status": {
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def pod(
    name: str,
    namespace: str,
    node_name: str | None,
    requests: list[dict[str, str]],
    *,
    phase: str = "Running",
    init: list[dict[str, str]] | None = None,
    scheduled: Obj | None = None,
) -> Obj:
    """``requests``: each app container's (``{"cpu": "500m", "memory": "1Gi"}``); ``init``: the init containers'."""

    def containers(prefix: str, each: list[dict[str, str]]) -> list[Obj]:
        return [
            {"name": f"{prefix}{i}", "image": "app:1.0", "resources": {"requests": r, "limits": r}}
            for i, r in enumerate(each)
        ]

    spec: Obj = {"containers": containers("app", requests)}
    if init:
        spec["initContainers"] = containers("init", init)
    if node_name:
        spec["nodeName"] = node_name
    status: Obj = {"phase": phase, "conditions": [scheduled] if scheduled else []}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta(name, namespace), "spec": spec, "status": status}


def unschedulable(message: str) -> Obj:
    """The PodScheduled condition the scheduler writes beside its FailedScheduling event."""
    return {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }


def node_metrics(name: str, cpu: str, memory: str, at: datetime) -> Obj:
    return {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": _meta(name),
        "timestamp": iso(at),
        "window": "20.05s",
        "usage": {"cpu": cpu, "memory": memory},
    }


def pod_metrics(name: str, namespace: str, usage: list[dict[str, str]], at: datetime) -> Obj:
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": _meta(name, namespace),
        "timestamp": iso(at),
        "window": "18.2s",
        "containers": [{"name": f"app{i}", "usage": u} for i, u in enumerate(usage)],
    }


def hpa(name: str, namespace: str, *, limited: tuple[str, str, datetime] | None, current: int, most: int = 10) -> Obj:
    """``limited``: the ScalingLimited condition's status, reason and lastTransitionTime."""
    conditions = [
        {
            "type": "AbleToScale",
            "status": "True",
            "reason": "ReadyForNewScale",
            "lastTransitionTime": iso(datetime.now(UTC)),
        }
    ]
    if limited:
        status, reason, since = limited
        conditions.append(
            {"type": "ScalingLimited", "status": status, "reason": reason, "lastTransitionTime": iso(since),
             "message": "the desired replica count is more than the maximum replica count"}
        )  # fmt: skip
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name, namespace),
        "spec": {"minReplicas": 2, "maxReplicas": most, "scaleTargetRef": {"kind": "Deployment", "name": name}},
        "status": {"currentReplicas": current, "desiredReplicas": current, "conditions": conditions},
    }


def seed(now: datetime, metrics: bool = True) -> dict[str, list[Obj]]:
    """The cluster; ``metrics``: metrics-server installed (else its API answers 404, as when it is absent)."""
    nodes = [
        node("general-a", "4", "16Gi", {EKS: "general"}),
        node("general-b", "4", "16Gi", {EKS: "general"}),
        node("spot-1", "8", "32Gi", {KARPENTER: "spot"}),
        node("lone", "2", "8Gi"),
    ]
    pods = [
        pod("api-1", "shop", "general-a", [{"cpu": "1500m", "memory": "6Gi"}, {"cpu": "500m", "memory": "2Gi"}]),
        pod("api-2", "shop", "general-b", [{"cpu": "1", "memory": "4Gi"}]),
        # An init container larger than the app's sum: the effective request is the init container's.
        pod(
            "migrate-1", "shop", "general-b", [{"cpu": "250m", "memory": "512Mi"}], init=[{"cpu": "1", "memory": "1Gi"}]
        ),
        pod("batch-1", "batch", "spot-1", [{"cpu": "4", "memory": "12Gi"}]),
        pod("starting-1", "batch", "spot-1", [{"cpu": "1", "memory": "2Gi"}], phase="Pending"),  # bound: counted
        pod("done-1", "batch", "spot-1", [{"cpu": "6", "memory": "20Gi"}], phase="Succeeded"),  # not counted
        pod(
            "waiting-1",
            "shop",
            None,
            [{"cpu": "1", "memory": "24Gi"}],
            phase="Pending",
            scheduled=unschedulable(
                "0/4 nodes are available: 4 Insufficient memory. preemption: 0/4 nodes are "
                "available: 4 No preemption victims found for incoming pod."
            ),
        ),
        pod(
            "waiting-2",
            "shop",
            None,
            [{"cpu": "16", "memory": "1Gi"}],
            phase="Pending",
            scheduled=unschedulable("0/4 nodes are available: 2 Insufficient cpu, 2 Insufficient memory."),
        ),
    ]
    hpas = [
        hpa("api", "shop", limited=("True", "TooManyReplicas", now - timedelta(days=2)), current=10),
        hpa("checkout", "shop", limited=("True", "TooManyReplicas", now - timedelta(hours=2)), current=10),
        hpa("quiet", "shop", limited=("True", "TooFewReplicas", now - timedelta(days=9)), current=2),
        hpa("free", "shop", limited=("False", "DesiredWithinRange", now - timedelta(days=3)), current=4),
    ]
    objects: dict[str, list[Obj]] = {
        "v1/nodes": nodes,
        "v1/pods": pods,
        "autoscaling/v2/horizontalpodautoscalers": hpas,
    }
    if metrics:
        objects |= metrics_of(now)
    return objects


def metrics_of(now: datetime) -> dict[str, list[Obj]]:
    """What metrics-server answers for the seeded nodes and pods."""
    return {
        NODE_METRICS: [
            node_metrics("general-a", "3700123456n", "15032385536", now),  # 93 % CPU, 87.5 % memory: above 85 %
            node_metrics("general-b", "500m", "2097152Ki", now),
            node_metrics("spot-1", "1", "4Gi", now),
            node_metrics("lone", "250m", "1Gi", now),
        ],
        POD_METRICS: [
            pod_metrics("api-1", "shop", [{"cpu": "1800m", "memory": "7Gi"}, {"cpu": "100m", "memory": "256Mi"}], now),
            pod_metrics("api-2", "shop", [{"cpu": "900m", "memory": "3Gi"}], now),
            pod_metrics("migrate-1", "shop", [{"cpu": "10m", "memory": "100Mi"}], now),
            pod_metrics("batch-1", "batch", [{"cpu": "100m", "memory": "512Mi"}], now),
        ],
    }


def many_groups(groups: int, per_group: int = 2) -> dict[str, list[Obj]]:
    """``groups`` node groups of ``per_group`` nodes each, one pod per node, no metrics API."""
    nodes = [
        node(f"ng-{g:03d}-{n}", "4", "16Gi", {EKS: f"node-group-with-a-long-name-{g:03d}"})
        for g in range(groups)
        for n in range(per_group)
    ]
    pods = [pod(f"p-{n['metadata']['name']}", "work", n["metadata"]["name"], [{"cpu": "1", "memory": "2Gi"}])
            for n in nodes]  # fmt: skip
    return {"v1/nodes": nodes, "v1/pods": pods, "autoscaling/v2/horizontalpodautoscalers": []}
