"""Collect the Morning Checklist from one or more clusters, concurrently, each check with its own timeout.

Each check reads its list page by page in a worker thread and reduces every page to findings as it arrives,
so a 100,000-pod cluster never sits in memory whole; pods, nodes and events are decoded into typed shapes holding
only the fields the checks read (``runbooks.kube.shapes``). A forbidden (403), missing (404) or slow API degrades only
its own section, with a note naming what is missing. A cluster is reachable when its lists answer; its version
is read beside them and shown as unknown when the answer cannot be read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

from urllib3.exceptions import HTTPError

from runbooks.aws import rds
from runbooks.checklist import checks as health
from runbooks.checklist.backups import RDS_TITLE, VELERO_TITLE, check_rds, check_velero
from runbooks.checklist.model import ClusterHealth, Finding, Section
from runbooks.kube import shapes, velero
from runbooks.kube.client import Cluster
from runbooks.kube.errors import API_ERRORS, explain
from runbooks.kube.lean import ApiException
from runbooks.kube.velero_objects import descriptor_interval

if TYPE_CHECKING:
    from runbooks.aws.session import AwsSession

CHECK_TIMEOUT = 20.0
ORDER = ("nodes", "pods", "restarts", "pvcs", "certificates", "hpas", "events", "backups")
INTERVAL_SAMPLES = 8


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
            asyncio.to_thread(health.check_pod_sections, cluster.pods_as(shapes.Pod), now), timeout
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


def schedule_interval(expression: str, now: datetime) -> timedelta | None:
    """How often a Velero schedule runs: a descriptor's interval, or the longest gap between a cron's next fires
    (a weekday-only schedule waits 72 h over the weekend, and that is not a stale backup)."""
    return _interval(expression.strip(), now.replace(minute=0, second=0, microsecond=0))


@lru_cache(maxsize=256)  # schedules mostly share a handful of expressions
def _interval(expression: str, now: datetime) -> timedelta | None:
    fixed = descriptor_interval(expression)
    if fixed is not None or expression.startswith("@"):
        return fixed
    from runbooks import cron  # noqa: PLC0415 - APScheduler only when Velero schedules exist

    try:
        trigger = cron.trigger(expression, UTC)
    except ValueError:
        return None
    fires: list[datetime] = []
    fire = trigger.get_next_fire_time(None, now)
    while fire is not None and len(fires) < INTERVAL_SAMPLES:
        fires.append(fire)
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    gaps = [b - a for a, b in pairwise(fires)]
    return max(gaps) if gaps else None


async def _velero(cluster: Cluster, namespace: str, now: datetime, timeout: float) -> Section:
    def read() -> Section:
        schedules = velero.schedules(cluster, namespace)
        backups = velero.backups(cluster, namespace)
        locations = velero.locations(cluster, namespace)
        intervals = {s.name: schedule_interval(s.cron, now) for s in schedules}
        return check_velero(schedules, backups, locations, intervals, namespace=namespace, now=now)

    try:
        return await asyncio.wait_for(asyncio.to_thread(read), timeout)
    except ApiException as exc:
        if exc.status == 404:  # no Velero CRDs: skip the section, like cert-manager
            return Section(key="backups", title=VELERO_TITLE, note="skipped: Velero is not installed")
        return _failed("backups", VELERO_TITLE, "velero.io backups and schedules", exc)
    except API_ERRORS as exc:
        return _failed("backups", VELERO_TITLE, "velero.io backups and schedules", exc)


def rds_backups(aws: AwsSession, wanted: Sequence[str] | None, now: datetime) -> Section:
    """The RDS instances (``wanted``, or every one when None) and their newest automated snapshots, checked."""
    from runbooks.aws.errors import AWS_ERRORS  # noqa: PLC0415 - botocore only when AWS is configured
    from runbooks.aws.errors import explain as explain_aws  # noqa: PLC0415

    client = aws.rds()
    try:
        found = rds.instances(client) if wanted is None else [rds.instance(client, i) for i in wanted]
        present = [db for db in found if db is not None]
        newest = {}
        for db in present:
            automated = rds.snapshots(client, db.id, "automated")
            newest[db.id] = automated[0].created if automated else None
    except AWS_ERRORS as exc:
        note = explain_aws(exc, "rds:DescribeDBInstances and rds:DescribeDBSnapshots", "RDS")
        return Section(key="rds", title=RDS_TITLE, note=note, failed=True)
    section = check_rds(present, newest, now)
    lost = [
        Finding(namespace=None, name=f"rds/{w}", why="no such instance", rank=3)
        for w, db in zip(wanted or [], found, strict=False)
        if db is None
    ]
    return section.model_copy(update={"findings": lost + section.findings}) if lost else section


async def collect(
    cluster: Cluster, now: datetime, timeout: float = CHECK_TIMEOUT, velero_namespace: str = "velero"
) -> ClusterHealth:
    started, requests = time.perf_counter(), cluster.requests
    version_read = asyncio.create_task(_version(cluster, timeout))
    pod_sections, *rest = await asyncio.gather(
        _pod_sections(cluster, now, timeout),
        _one(_read("nodes", "Nodes", "nodes", lambda: health.check_nodes(cluster.nodes_as(shapes.Node)), timeout)),
        _one(_read("persistentvolumeclaims", "PersistentVolumeClaims not Bound", "pvcs",
                   lambda: health.check_pvcs(cluster.pvcs()), timeout)),
        _one(_certificates(cluster, now, timeout)),
        _one(_read("horizontalpodautoscalers", "HorizontalPodAutoscalers", "hpas",
                   lambda: health.check_hpas(cluster.hpas()), timeout)),
        _one(_read("events", "Warning events (last 30 min)", "events",
                   lambda: health.check_events(cluster.warning_events_as(shapes.Event), now), timeout)),
        _one(_velero(cluster, velero_namespace, now, timeout)),
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
    clusters: Sequence[Cluster], now: datetime, timeout: float = CHECK_TIMEOUT, velero_namespace: str = "velero"
) -> list[ClusterHealth]:
    return list(await asyncio.gather(*(collect(c, now, timeout, velero_namespace) for c in clusters)))
