"""Health digest at scale; writes its section of bench/RESULTS.md.

A static list server (its own process) serves a cluster of 10,000 pods, 500 nodes and 2,000 events
(plus PVCs, HPAs and certificates), honouring ``limit``/``continue`` like the real API server. Each
measurement runs in a fresh child process so its peak RSS is its own:

- the full digest, as the bot builds it (official client, raw JSON pages);
- pods + nodes + events read through the typed models, beside the same three read as raw JSON.

Run: ``python -m bench.digest`` (part of ``make bench``).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.results import machine_info, write_section
from tests.support.net import serve_forever

PODS, NODES, EVENTS = 10_000, 500, 2_000


def _objects(now: datetime) -> dict[str, list[dict[str, Any]]]:
    from tests.support.cluster_seed import container, event, node, pod

    pods = []
    for i in range(PODS):
        if i % 100 == 0:
            pods.append(
                pod(
                    f"api-{i}",
                    f"ns-{i % 50}",
                    containers=[
                        container(
                            "app",
                            waiting="CrashLoopBackOff",
                            restarts=i % 20,
                            last=("OOMKilled", 137, now - timedelta(minutes=5)),
                        )
                    ],
                )
            )
        else:
            pods.append(pod(f"api-{i}", f"ns-{i % 50}"))
    nodes = [node(f"node-{i}", ready=i % 100 != 0) for i in range(NODES)]
    events = [
        event(f"ev-{i}", f"ns-{i % 50}", "BackOff", f"api-{(i * 7) % PODS}", now - timedelta(minutes=i % 25))
        for i in range(EVENTS)
    ]
    return {
        "/api/v1/pods": pods,
        "/api/v1/nodes": nodes,
        "/api/v1/events": events,
        "/api/v1/persistentvolumeclaims": [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": f"pvc-{i}", "namespace": "db"},
                "spec": {},
                "status": {"phase": "Bound" if i % 50 else "Pending"},
            }
            for i in range(200)
        ],
        "/apis/autoscaling/v2/horizontalpodautoscalers": [
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": f"hpa-{i}", "namespace": "api"},
                "spec": {"maxReplicas": 10, "scaleTargetRef": {"kind": "Deployment", "name": "x"}},
                "status": {"currentReplicas": 10 if i % 10 == 0 else 3, "desiredReplicas": 3},
            }
            for i in range(100)
        ],
        "/apis/cert-manager.io/v1/certificates": [],
    }


def serve(port_queue: Any) -> None:
    """The static list server: pre-built objects, pages cut by limit/continue."""
    from aiohttp import web

    from tests.support.cluster_seed import version_info

    now = datetime.now(UTC)
    data = _objects(now)
    version = json.dumps(version_info()).encode()
    cache: dict[tuple[str, int, int], bytes] = {}

    async def handle(request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        if path == "/version":
            return web.Response(body=version, content_type="application/json")
        if path not in data:
            return web.json_response({"kind": "Status", "code": 404}, status=404)
        items = data[path]
        if path.endswith("/events") and request.query.get("fieldSelector") == "type=Warning":
            items = [e for e in items if e.get("type") == "Warning"]
        limit = int(request.query.get("limit") or len(items) or 1)
        start = int(request.query.get("continue") or 0)
        key = (request.path + request.query.get("fieldSelector", ""), start, limit)
        if key not in cache:
            end = start + limit
            meta = {"resourceVersion": "1"} | ({"continue": str(end)} if end < len(items) else {})
            cache[key] = json.dumps(
                {"kind": "List", "apiVersion": "v1", "metadata": meta, "items": items[start:end]}
            ).encode()
        return web.Response(body=cache[key], content_type="application/json")

    serve_forever(handle, port_queue, method="GET")


def child(mode: str, url: str) -> None:
    """One measurement in a fresh process; prints a JSON line."""
    from kubernetes import client

    from runbooks.checklist.collect import collect
    from runbooks.kube.client import Cluster

    configuration = client.Configuration()
    configuration.host = url
    cluster = Cluster("bench", client.ApiClient(configuration))
    started = time.perf_counter()
    if mode == "digest":
        result = asyncio.run(collect(cluster, datetime.now(UTC), timeout=60))
        extra = {
            "problems": sum(len(s.findings) for s in result.sections),
            "failed": [s.key for s in result.sections if s.failed],
        }
    elif mode == "raw3":
        kept = [list(cluster.pods()), list(cluster.nodes()), list(cluster.warning_events())]
        extra = {"items": [len(k) for k in kept]}
    else:  # typed: the same three lists through the typed models, kept in memory like the raw rows
        core, kept, requests = cluster.core, [], 0
        for call, kwargs in (
            (core.list_pod_for_all_namespaces, {}),
            (core.list_node, {}),
            (core.list_event_for_all_namespaces, {"field_selector": "type=Warning"}),
        ):
            items, token = [], None
            while True:
                page = call(limit=500, _continue=token, **kwargs) if token else call(limit=500, **kwargs)
                requests += 1
                items.extend(page.items)
                token = page.metadata._continue
                if not token:
                    break
            kept.append(items)
        extra = {"items": [len(k) for k in kept]}
        cluster._requests = requests
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "seconds": seconds, "rss_mb": rss_mb, "requests": cluster.requests, **extra}))


def main() -> None:
    ctx = multiprocessing.get_context("spawn")
    port_queue = ctx.Queue()
    server = ctx.Process(target=serve, args=(port_queue,), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port_queue.get(timeout=120)}"
    results = {}
    try:
        for mode in ("digest", "raw3", "typed"):
            runs = []
            for _ in range(3):
                out = subprocess.run(
                    [sys.executable, "-m", "bench.digest", "--child", mode, url],
                    capture_output=True,
                    text=True,
                    check=True,
                    timeout=300,
                )
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            results[mode] = min(runs, key=lambda r: r["seconds"])
    finally:
        server.terminate()
    d, raw, typed = results["digest"], results["raw3"], results["typed"]
    lines = [
        "## Health digest at scale",
        "",
        f"Command: `python -m bench.digest` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: a static list server (aiohttp, its own process) serving {PODS:,} pods, {NODES} nodes, {EVENTS:,} warning",
        "events, 200 PVCs and 100 HPAs, honouring `limit`/`continue` (500 per page); each row is the best of 3 runs, each",
        "in a fresh process whose peak RSS (ru_maxrss, Python and the kubernetes client included) is reported.",
        "",
        "| measure | time | peak RSS | API requests | target |",
        "|---|---:|---:|---:|---:|",
        f"| full digest, official client, raw JSON pages (what the bot runs) | {d['seconds']:.2f} s | {d['rss_mb']:.0f} MB | {d['requests']} | ≤ 1.5 s, ≤ 150 MB |",
        f"| pods + nodes + events, raw JSON pages | {raw['seconds']:.2f} s | {raw['rss_mb']:.0f} MB | {raw['requests']} | — |",
        f"| pods + nodes + events, typed models | {typed['seconds']:.2f} s | {typed['rss_mb']:.0f} MB | {typed['requests']} | — |",
        "",
        f"The digest found {d['problems']} problems; failed sections: {d['failed'] or 'none'}.",
    ]
    write_section("digest", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
