"""Error lines in the last 24 h of pod logs, per workload: the digest's "Errors in logs" without a log store.

Each container's log of the window is read once (``sinceSeconds``, ``limitBytes``: never more than the bound per
container), its lines matched with the caller's compiled pattern (RE2), and only counts and one sample line per
workload kept. Pods are read a few at a time in worker threads; a pod whose log cannot be read is counted, not fatal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from runbooks.checklist.capacity import LogErrors, WorkloadErrors
from runbooks.kube.client import Cluster, path
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException
from runbooks.kube.objects import Obj, meta

WINDOW = 86_400
WORKERS = 8
SAMPLE_CHARS = 300
KINDS = (("/apis/apps/v1", "deployments"), ("/apis/apps/v1", "statefulsets"), ("/apis/apps/v1", "daemonsets"))


def workload_of(pod: Obj) -> str:
    """The workload a pod belongs to: its controller's name (a ReplicaSet's Deployment), else the pod's own."""
    data = pod.get("metadata") or {}
    owner = next((o for o in data.get("ownerReferences") or [] if o.get("controller")), None)
    if owner is None:
        return str(data.get("name", "?"))
    name = str(owner.get("name", "?"))
    hash_ = (data.get("labels") or {}).get("pod-template-hash")
    if owner.get("kind") == "ReplicaSet" and hash_ and name.endswith(f"-{hash_}"):
        return name[: -len(hash_) - 1]
    return name


def _match_labels(obj: Obj) -> dict[str, str]:
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {str(k): str(v) for k, v in labels.items()}


def selected(pod: Obj, labels: dict[str, str]) -> bool:
    """Whether the pod carries every one of ``labels`` (the API server filters too; this keeps a server that ignores
    the selector from having other pods counted as the workload's)."""
    own = (pod.get("metadata") or {}).get("labels") or {}
    return all(own.get(k) == v for k, v in labels.items())


def workload_pods(cluster: Cluster, namespace: str, name: str) -> list[Obj] | None:
    """The pods of ``namespace/name`` (a Deployment, StatefulSet or DaemonSet); None when there is no such one."""
    for base, plural in KINDS:
        try:
            obj = cluster.get(path(base, namespace, plural, name))
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        labels = _match_labels(obj)
        if not labels:  # only matchExpressions: not read (said as no pods)
            return []
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return [p for p in cluster.pods(namespace, selector) if selected(p, labels)]
    return None


def count(text: str, search: Callable[[str], object]) -> tuple[int, str | None]:
    """Matching lines and the last of them (pure)."""
    n, sample = 0, None
    for line in text.splitlines():
        if search(line):
            n += 1
            sample = line
    return n, sample


def _pod_errors(
    cluster: Cluster, pod: Obj, search: Callable[[str], object], max_bytes: int
) -> tuple[int, str | None, bool, int]:
    ns, name = meta(pod)
    lines, sample, truncated, unread = 0, None, False, 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        resource = path("/api/v1", ns, "pods", name, "log")
        try:
            text = cluster.text(resource, container=c.get("name"), sinceSeconds=WINDOW, limitBytes=max_bytes)
        except API_ERRORS:
            unread += 1
            continue
        n, last = count(text, search)
        lines += n
        sample = last or sample
        truncated = truncated or len(text.encode()) >= max_bytes
    return lines, sample, truncated, unread


def _gather(cluster: Cluster, namespaces: Sequence[str], workloads: Sequence[str], report: LogErrors) -> list[Obj]:
    pods: dict[tuple[str | None, str], Obj] = {}
    for ns in namespaces:
        for pod in cluster.pods(ns):
            pods[meta(pod)] = pod
    for ref in workloads:
        ns, _, name = ref.partition("/")
        found = workload_pods(cluster, ns, name)
        if found is None:
            report.notes.append(f"no Deployment, StatefulSet or DaemonSet {ref}")
            continue
        for pod in found:
            pods[meta(pod)] = pod
    return [p for p in pods.values() if (p.get("status") or {}).get("phase") in ("Running", "Failed", "Succeeded")]


def read(
    cluster: Cluster,
    namespaces: Sequence[str],
    workloads: Sequence[str],
    search: Callable[[str], object],
    *,
    max_bytes: int,
    max_pods: int,
) -> LogErrors:
    """Blocking: call from a worker thread."""
    report = LogErrors()
    try:
        pods = _gather(cluster, namespaces, workloads, report)
    except API_ERRORS as exc:
        report.notes.append(explain(exc, "pods", "list"))
        return report
    report.left_out = max(0, len(pods) - max_pods)
    pods = pods[:max_pods]
    by_workload: dict[tuple[str, str], WorkloadErrors] = {}
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda p: _pod_errors(cluster, p, search, max_bytes), pods))
    for pod, (lines, sample, truncated, unread) in zip(pods, results, strict=True):
        ns, _ = meta(pod)
        key = (ns or "", workload_of(pod))
        entry = by_workload.setdefault(key, WorkloadErrors(*key))
        entry.pods += 1
        entry.lines += lines
        entry.sample = (sample[:SAMPLE_CHARS] if sample else None) or entry.sample
        entry.truncated = entry.truncated or truncated
        report.unread += unread
    report.pods_read = len(pods)
    report.workloads = sorted(
        (w for w in by_workload.values() if w.lines), key=lambda w: (-w.lines, w.namespace, w.name)
    )
    return report


async def log_errors(
    cluster: Cluster,
    namespaces: Sequence[str],
    workloads: Sequence[str],
    search: Callable[[str], object],
    *,
    max_bytes: int,
    max_pods: int,
    timeout: float,
) -> LogErrors:
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(read, cluster, namespaces, workloads, search, max_bytes=max_bytes, max_pods=max_pods),
            timeout,
        )
    except TimeoutError:
        return LogErrors(notes=[f"timed out reading pod logs after {timeout:.0f} s"])
