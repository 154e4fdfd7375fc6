"""Finding a workload's pods: a Deployment's selector, or ``app=<name>`` as the operations guide does."""

from __future__ import annotations

from runbooks.kube import deployment as deployments
from runbooks.kube.client import Cluster
from runbooks.kube.lean import ApiException
from runbooks.kube.objects import Obj


def selector_for(cluster: Cluster, namespace: str, workload: str) -> tuple[str, bool]:
    """The workload's pod selector, and whether the workload is a Deployment."""
    try:
        deployment = cluster.get(deployments.resource(namespace, workload))
    except ApiException as exc:
        if exc.status == 404:  # not a Deployment: use the guide's app label
            return f"app={workload}", False
        raise
    labels = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or f"app={workload}", True


def matches(labels: dict[str, str], selector: str) -> bool:
    """Equality-based label selector (``a=b,c!=d``), applied again to what the server returned."""
    for term in filter(None, selector.split(",")):
        negated = "!=" in term
        key, _, value = term.partition("!=" if negated else "=")
        if (labels.get(key) == value) == negated:
            return False
    return True


def pods(cluster: Cluster, namespace: str, selector: str) -> list[Obj]:
    listed = cluster.pods(namespace, selector)
    return [p for p in listed if matches((p.get("metadata") or {}).get("labels") or {}, selector)]
