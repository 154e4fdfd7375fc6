"""Finding a workload's pods: a Deployment's selector, or ``app=<name>`` as the operations guide does."""

from __future__ import annotations

from kubernetes.client.exceptions import ApiException

from runbooks.cluster import Cluster, Obj


def selector_for(cluster: Cluster, namespace: str, workload: str) -> tuple[str, bool]:
    """The workload's pod selector, and whether the workload is a Deployment."""
    try:
        deployment = cluster.read(cluster.apps.read_namespaced_deployment, workload, namespace)
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
    listed = cluster.list_all(cluster.core.list_namespaced_pod, namespace=namespace, label_selector=selector)
    return [p for p in listed if matches((p.get("metadata") or {}).get("labels") or {}, selector)]


def api_error(exc: ApiException, what: str, change: bool = False) -> str:
    """A readable sentence for a Kubernetes API error, naming the object and the permission."""
    if exc.status == 403:
        if change:
            return (
                f"forbidden: the bot may not change {what}; grant it get and patch on deployments "
                "in that namespace (deploy/ has a Role for it)"
            )
        return f"forbidden: the bot may not read {what}; grant it get/list on that resource in its RBAC role"
    if exc.status == 404:
        return f"{what} was not found"
    if exc.status == 409:
        return f"{what} was changed by someone else meanwhile; nothing was overwritten, run the runbook again"
    return f"the Kubernetes API answered {exc.status} {exc.reason} for {what}"
