"""Collect the Morning Checklist from one or more clusters, concurrently, each check with its own timeout.

A forbidden (403), missing (404) or slow API degrades only its own section, with a note naming what
is missing; the rest of the digest is still built.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from kubernetes.client.exceptions import ApiException

from runbooks.checklist import checks as health
from runbooks.checklist.model import ClusterHealth, Section
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.objects import Obj

CHECK_TIMEOUT = 20.0


async def _section(
    key: str,
    title: str,
    what: str,
    read: Callable[[], list[Obj]],
    check: Callable[[list[Obj]], Section],
    *,
    timeout: float,
) -> Section:
    try:
        items = await asyncio.wait_for(asyncio.to_thread(read), timeout)
    except API_ERRORS as exc:
        return Section(key=key, title=title, note=explain(exc, what, "list"), failed=True)
    return check(items)


async def collect(cluster: Cluster, now: datetime, timeout: float = CHECK_TIMEOUT) -> ClusterHealth:
    started = time.perf_counter()
    try:
        version = await asyncio.wait_for(asyncio.to_thread(cluster.version, timeout), timeout)
    except API_ERRORS as exc:
        return ClusterHealth(
            name=cluster.name,
            reachable=False,
            error=f"API server unreachable: {explain(exc, 'the API', 'list')}",
            api_requests=cluster.requests,
            seconds=time.perf_counter() - started,
        )

    pods: list[Obj] | None = None

    def read_pods() -> list[Obj]:
        nonlocal pods
        if pods is None:
            pods = list(cluster.pods())
        return pods

    pod_lock = asyncio.Lock()

    async def pod_section(key: str, title: str, check: Callable[[list[Obj]], Section]) -> Section:
        async with pod_lock:  # one paginated read of the pods feeds both pod checks
            return await _section(key, title, "pods", read_pods, check, timeout=timeout)

    sections = await asyncio.gather(
        _section("nodes", "Nodes", "nodes", lambda: list(cluster.nodes()), health.check_nodes, timeout=timeout),
        pod_section("pods", "Pods not Running or Succeeded", health.check_pods),
        pod_section("restarts", "Restarts in the last 24 h", lambda items: health.check_restarts(items, now)),
        _section(
            "pvcs",
            "PersistentVolumeClaims not Bound",
            "persistentvolumeclaims",
            lambda: list(cluster.pvcs()),
            health.check_pvcs,
            timeout=timeout,
        ),
        _certificates(cluster, now, timeout),
        _section(
            "hpas",
            "HorizontalPodAutoscalers",
            "horizontalpodautoscalers",
            lambda: list(cluster.hpas()),
            health.check_hpas,
            timeout=timeout,
        ),
        _section(
            "events",
            "Warning events (last 30 min)",
            "events",
            lambda: list(cluster.warning_events()),
            lambda items: health.check_events(items, now),
            timeout=timeout,
        ),
    )
    return ClusterHealth(
        name=cluster.name,
        reachable=True,
        version=version,
        sections=list(sections),
        api_requests=cluster.requests,
        seconds=time.perf_counter() - started,
    )


async def _certificates(cluster: Cluster, now: datetime, timeout: float) -> Section:
    title = "Certificates (cert-manager)"
    try:
        items = await asyncio.wait_for(asyncio.to_thread(lambda: list(cluster.certificates())), timeout)
    except ApiException as exc:
        if exc.status == 404:  # no cert-manager CRD: skip the section, it is not a problem
            return Section(key="certificates", title=title, note="skipped: cert-manager is not installed")
        return Section(key="certificates", title=title, note=explain(exc, "certificates", "list"), failed=True)
    except API_ERRORS as exc:
        return Section(key="certificates", title=title, note=explain(exc, "certificates", "list"), failed=True)
    return health.check_certificates(items, now)


async def collect_all(
    clusters: Sequence[Cluster], now: datetime, timeout: float = CHECK_TIMEOUT
) -> list[ClusterHealth]:
    return list(await asyncio.gather(*(collect(c, now, timeout) for c in clusters)))
