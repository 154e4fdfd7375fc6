"""Reading what the capacity review and the digest's resource use need from one cluster: nodes, pods, HPAs and
metrics.k8s.io, all at once, each list page by page in a worker thread and reduced as it arrives.

A metrics API that is absent (404, or 503 while its APIService has no backend) is said plainly ("no metrics API
(metrics.k8s.io does not answer): use unknown"); any other failure of one read is a note naming it, and the rest of
the review stands.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from runbooks.checklist.capacity import NO_METRICS, Amount, PinnedHpa, Review, Tally, pinned_hpa, usage
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException

METRICS = "/apis/metrics.k8s.io/v1beta1"
TIMEOUT = 20.0


class MetricsAbsent(Exception):
    """metrics.k8s.io does not answer: not installed (404) or its backend is down (503)."""


def _metrics(cluster: Cluster, what: str, timeout: float) -> list[dict[str, object]]:
    try:
        return list(cluster.list_all(f"{METRICS}/{what}", timeout=timeout))
    except ApiException as exc:
        if exc.status in (404, 503):
            raise MetricsAbsent from None
        raise


_POD_METRICS_ERRORS: tuple[type[Exception], ...] = (MetricsAbsent, *API_ERRORS)


async def node_use(cluster: Cluster, timeout: float = TIMEOUT) -> tuple[dict[str, Amount] | None, str | None]:
    """Each node's use from metrics.k8s.io, or None with why."""
    try:
        items = await asyncio.wait_for(asyncio.to_thread(_metrics, cluster, "nodes", timeout), timeout)
    except MetricsAbsent:
        return None, NO_METRICS
    except API_ERRORS as exc:
        return None, f"use unknown: {explain(exc, 'nodes.metrics.k8s.io', 'list')}"
    return usage(items), None


async def nodes(cluster: Cluster, use: dict[str, Amount] | None, timeout: float = TIMEOUT) -> Tally:
    """The nodes alone (the digest's resource use), with their use when given."""
    tally = Tally()
    await asyncio.wait_for(asyncio.to_thread(lambda: tally.add_nodes(cluster.nodes())), timeout)
    if use is not None:
        tally.add_node_use(use)
    return tally


async def review(
    cluster: Cluster,
    now: datetime,
    *,
    use: tuple[dict[str, Amount] | None, str | None] | None = None,
    timeout: float = TIMEOUT,
) -> Review:
    """The whole review of one cluster. ``use``: each node's use read elsewhere (Prometheus) with its note; None:
    read from metrics.k8s.io."""
    started = time.perf_counter()
    tally = Tally()
    notes: list[str] = []

    async def listed(what: str, read: object) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(read), timeout)  # type: ignore[arg-type]
            return True
        except API_ERRORS as exc:
            notes.append(explain(exc, what, "list"))
            return False

    pinned: list[PinnedHpa] = []

    def read_hpas() -> None:
        pinned.extend(p for h in cluster.hpas() if (p := pinned_hpa(h, now)) is not None)

    async def pods_use() -> dict[str, Amount] | None:
        try:
            items = await asyncio.wait_for(asyncio.to_thread(_metrics, cluster, "pods", timeout), timeout)
        except _POD_METRICS_ERRORS:
            return None
        return usage(items, by_namespace=True)

    node_reading = node_use(cluster, timeout) if use is None else _given(use)
    nodes_ok, pods_ok, _, (by_node, use_note), by_namespace = await asyncio.gather(
        listed("nodes", lambda: tally.add_nodes(cluster.nodes())),
        listed("pods", lambda: tally.add_pods(cluster.pods())),
        listed("horizontalpodautoscalers", read_hpas),
        node_reading,
        pods_use(),
    )
    if by_node is not None:
        tally.add_node_use(by_node)
    groups = tally.groups() if nodes_ok else []
    return Review(
        cluster=cluster.name,
        groups=groups,
        nodes=list(tally.nodes.values()),
        pending=dict(tally.pending.most_common()),
        pending_pods=tally.pending_pods,
        pinned=sorted(pinned, key=lambda p: p.since),
        over=tally.over_requesters(by_namespace) if by_namespace is not None else None,
        use_note=use_note,
        notes=list(dict.fromkeys(notes)),
        complete=nodes_ok and pods_ok,
        seconds=time.perf_counter() - started,
    )


async def _given(
    use: tuple[dict[str, Amount] | None, str | None],
) -> tuple[dict[str, Amount] | None, str | None]:
    return use
