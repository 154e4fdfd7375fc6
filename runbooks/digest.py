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
from pydantic import BaseModel, ConfigDict
from urllib3.exceptions import HTTPError

from runbooks import health
from runbooks.cluster import Cluster, Obj
from runbooks.health import Section

CHECK_TIMEOUT = 20.0


class ClusterHealth(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    reachable: bool
    version: str | None = None
    error: str | None = None
    sections: list[Section] = []
    api_requests: int = 0
    seconds: float = 0.0


def _explain(exc: Exception, what: str) -> str:
    """A readable note for a failed read, naming what is missing."""
    if isinstance(exc, ApiException):
        if exc.status == 403:
            return f"forbidden: the bot's identity may not list {what} (add get/list on {what} to its RBAC role)"
        if exc.status == 404:
            return f"not available on this cluster ({what} API not found)"
        return f"the API answered {exc.status} {exc.reason} for {what}"
    if isinstance(exc, TimeoutError):
        return f"timed out reading {what}"
    return f"could not read {what}: {type(exc).__name__}"


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
    except (ApiException, HTTPError, OSError, TimeoutError) as exc:
        return Section(key=key, title=title, note=_explain(exc, what), failed=True)
    return check(items)


async def collect(cluster: Cluster, now: datetime, timeout: float = CHECK_TIMEOUT) -> ClusterHealth:
    started = time.perf_counter()
    try:
        version = await asyncio.wait_for(asyncio.to_thread(cluster.version, timeout), timeout)
    except (ApiException, HTTPError, OSError, TimeoutError) as exc:
        return ClusterHealth(
            name=cluster.name,
            reachable=False,
            error=f"API server unreachable: {_explain(exc, 'the API')}",
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
        return Section(key="certificates", title=title, note=_explain(exc, "certificates"), failed=True)
    except (HTTPError, OSError, TimeoutError) as exc:
        return Section(key="certificates", title=title, note=_explain(exc, "certificates"), failed=True)
    return health.check_certificates(items, now)


async def collect_all(
    clusters: Sequence[Cluster], now: datetime, timeout: float = CHECK_TIMEOUT
) -> list[ClusterHealth]:
    return list(await asyncio.gather(*(collect(c, now, timeout) for c in clusters)))
