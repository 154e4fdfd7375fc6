"""Collect the Morning Checklist from one or more clusters, concurrently, each check with its own timeout.

Each check reads its list page by page in a worker thread and reduces every page to findings as it arrives,
so a 10,000-pod cluster never sits in memory whole. A forbidden (403), missing (404) or slow API degrades only
its own section, with a note naming what is missing. A cluster is reachable when its lists answer; its version
is read beside them and shown as unknown when the answer cannot be read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from urllib3.exceptions import HTTPError

from runbooks.checklist import checks as health
from runbooks.checklist.model import ClusterHealth, Section
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException

CHECK_TIMEOUT = 20.0
ORDER = ("nodes", "pods", "restarts", "pvcs", "certificates", "hpas", "events")


async def _one(section: Awaitable[Section]) -> list[Section]:
    return [await section]


def _failed(key: str, title: str, what: str, exc: BaseException) -> Section:
    answered = isinstance(exc, ApiException) and exc.status != 0
    return Section(key=key, title=title, note=explain(exc, what, "list"), failed=True, unanswered=not answered)


async def _read(what: str, title: str, key: str, reduce: Callable[[], Section], timeout: float) -> Section:
    try:
        return await asyncio.wait_for(asyncio.to_thread(reduce), timeout)
    except API_ERRORS as exc:
        return _failed(key, title, what, exc)


async def _pod_sections(cluster: Cluster, now: datetime, timeout: float) -> list[Section]:
    """One paginated read of the pods feeds both pod checks."""
    try:
        pods, restarts = await asyncio.wait_for(
            asyncio.to_thread(health.check_pod_sections, cluster.pods(), now), timeout
        )
    except API_ERRORS as exc:
        return [
            _failed("pods", health.PODS_TITLE, "pods", exc),
            _failed("restarts", health.RESTARTS_TITLE, "pods", exc),
        ]
    return [pods, restarts]


async def _version(cluster: Cluster, timeout: float) -> str | None:
    try:
        return await asyncio.wait_for(asyncio.to_thread(cluster.version, timeout), timeout)
    except (ApiException, HTTPError, OSError, TimeoutError, ValueError):  # no /version, or not its document
        return None


async def collect(cluster: Cluster, now: datetime, timeout: float = CHECK_TIMEOUT) -> ClusterHealth:
    started, requests = time.perf_counter(), cluster.requests
    version_read = asyncio.create_task(_version(cluster, timeout))
    pod_sections, *rest = await asyncio.gather(
        _pod_sections(cluster, now, timeout),
        _one(_read("nodes", "Nodes", "nodes", lambda: health.check_nodes(cluster.nodes()), timeout)),
        _one(_read("persistentvolumeclaims", "PersistentVolumeClaims not Bound", "pvcs",
                   lambda: health.check_pvcs(cluster.pvcs()), timeout)),
        _one(_certificates(cluster, now, timeout)),
        _one(_read("horizontalpodautoscalers", "HorizontalPodAutoscalers", "hpas",
                   lambda: health.check_hpas(cluster.hpas()), timeout)),
        _one(_read("events", "Warning events (last 30 min)", "events",
                   lambda: health.check_events(cluster.warning_events(), now), timeout)),
    )  # fmt: skip
    version = await version_read
    by_key = {s.key: s for group in (pod_sections, *rest) for s in group}
    sections = [by_key[key] for key in ORDER]
    spent = {"api_requests": cluster.requests - requests, "seconds": time.perf_counter() - started}
    if all(s.unanswered for s in sections):  # not one list answered: the API server itself is out of reach
        error = next((s.note for s in sections if s.note), "no answer")
        return ClusterHealth(name=cluster.name, reachable=False, error=f"API server unreachable: {error}", **spent)
    return ClusterHealth(name=cluster.name, reachable=True, version=version, sections=sections, **spent)


async def _certificates(cluster: Cluster, now: datetime, timeout: float) -> Section:
    title = "Certificates (cert-manager)"
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(lambda: health.check_certificates(cluster.certificates(), now)), timeout
        )
    except ApiException as exc:
        if exc.status == 404:  # no cert-manager CRD: skip the section, it is not a problem
            return Section(key="certificates", title=title, note="skipped: cert-manager is not installed")
        return _failed("certificates", title, "certificates", exc)
    except API_ERRORS as exc:
        return _failed("certificates", title, "certificates", exc)


async def collect_all(
    clusters: Sequence[Cluster], now: datetime, timeout: float = CHECK_TIMEOUT
) -> list[ClusterHealth]:
    return list(await asyncio.gather(*(collect(c, now, timeout) for c in clusters)))
