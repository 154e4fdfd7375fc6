"""The checklist and the audit read page by page into typed shapes (Cluster.list_typed), against the bench's static
API, which cuts pages by ``limit``/``continue`` as the API server does (kmock answers a list in one page): every page
is read, and the answers are those of the same checks on the plain dicts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bench.kubeapi import StaticApi, objects, owned, security_objects
from runbooks.checklist import audit, collect, security
from runbooks.checklist import checks as health
from runbooks.kube import shapes
from runbooks.kube.client import PAGE_SIZE, Cluster
from runbooks.kube.lean import ApiClient, Configuration

SIZE = 1_200  # three pages of pods: 500, 500, 200
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    api = StaticApi(security=True, size=SIZE, now=NOW).start()
    configuration = Configuration()
    configuration.host = api.url
    try:
        yield Cluster("bench", ApiClient(configuration))
    finally:
        api.stop()


def test_every_page_of_pods_nodes_and_events_is_read_and_reduced(cluster: Cluster) -> None:
    now = NOW + timedelta(minutes=1)
    result = asyncio.run(collect.collect(cluster, now, timeout=30))
    assert result.reachable and not [s.key for s in result.sections if s.failed]
    data = objects(NOW, SIZE)
    owned(data["/api/v1/pods"])  # the API serves them owned (security=True)
    pods, nodes, events = data["/api/v1/pods"], data["/api/v1/nodes"], data["/api/v1/events"]
    assert len(pods) > 2 * PAGE_SIZE
    by_key = {s.key: s for s in result.sections}
    assert (by_key["pods"], by_key["restarts"]) == health.check_pod_sections(pods, now)
    assert by_key["nodes"] == health.check_nodes(nodes)
    assert by_key["events"] == health.check_events(events, now)
    assert len(by_key["pods"].findings) == SIZE // 100  # every 100th pod crash-loops, on every page
    assert len(by_key["events"].findings) == len(events)
    before = cluster.requests
    assert len(list(cluster.pods_as(shapes.Pod))) == SIZE
    assert cluster.requests - before == 3  # 500, 500, 200


def test_the_audit_reads_every_page_of_pods(cluster: Cluster) -> None:
    result = asyncio.run(audit.collect(cluster, timeout=30))
    assert not result.notes
    data = objects(NOW, SIZE) | security_objects(SIZE)
    owned(data["/api/v1/pods"])
    expected = security.check_pods(data["/api/v1/pods"], {})
    got = [f for f in result.findings if f.check in ("root", "default-sa")]
    assert sorted(got, key=lambda f: f.key) == sorted(expected, key=lambda f: f.key)
    assert len({f.name for f in got}) == SIZE // 20  # one finding per Deployment of 20, on whichever page
