"""The capacity review on a large cluster, as a user waits for it, and what its trend costs in Redis; writes its
section of bench/RESULTS.md.

The issue's targets: the capacity review over 500 nodes and 10,000 pods within 2 s in a running bot; 90 days of samples
for 20 node groups within 1 MB in Redis.

- The cluster below (500 nodes in 20 node groups, 10,000 pods with requests, 100 of them unschedulable, 200 HPAs,
  NodeMetrics and PodMetrics) served by ``bench.kubeapi.StaticApi(capacity=True)`` in its own process.
- ``chatops-bot serve`` (its own process, a throwaway redis-server, the Slack stand-in in this process so that every
  call has its arrival time): the signed ``/capacity prod`` POSTed, timed until the stand-in receives the review on
  the response_url. Narrower, named as such: the reading alone (``capacity_read.review`` in this process).
- The samples: ``CapacityStore.record`` for 90 days of 20 node groups into a fresh redis-server, then ``MEMORY USAGE``
  of every key it wrote, and ``used_memory`` before and after.

Run: ``python -m bench.capacity`` (part of ``make bench``).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.results import machine_info, write_section

NODES, PODS, GROUPS, UNSCHEDULABLE, HPAS = 500, 10_000, 20, 100, 200
RUNS, READER_RUNS, DAYS = 6, 3, 90
METRICS = "/apis/metrics.k8s.io/v1beta1"
CONFIG = """\
channels: {incidents: C0INCIDENTS}
kubernetes: {clusters: [{name: prod, context: prod}]}
"""


# The cluster -------------------------------------------------------------------------------------------------------
def _node(i: int) -> dict[str, Any]:
    group = i % GROUPS
    label = (
        {"karpenter.sh/nodepool": f"pool-{group}"} if group >= 16 else {"eks.amazonaws.com/nodegroup": f"ng-{group}"}
    )
    resources = {"cpu": "7910m", "memory": "31676592Ki", "pods": "58", "ephemeral-storage": "95551679124"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"ip-10-0-{i // 250}-{i % 250}.ec2.internal", "resourceVersion": "1",
                     "labels": {**label, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m6i.2xlarge",
                                "topology.kubernetes.io/zone": f"us-east-1{'abc'[i % 3]}"}},
        "spec": {"providerID": f"aws:///us-east-1a/i-{i:017x}"},
        "status": {"capacity": resources, "allocatable": resources,
                   "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                   "nodeInfo": {"kubeletVersion": "v1.30.4-eks-a737599", "osImage": "Amazon Linux 2023"}},
    }  # fmt: skip


def _pod(i: int, node: str | None) -> dict[str, Any]:
    app = f"app-{i // 20}"
    request = {"cpu": f"{100 + (i % 8) * 50}m", "memory": f"{256 + (i % 6) * 128}Mi"}
    spec: dict[str, Any] = {
        "containers": [
            {"name": "app", "image": f"registry.example.com/{app}:1.{i % 9}.0", "resources": {"requests": request,
             "limits": request}, "ports": [{"containerPort": 8080}], "env": [{"name": "LOG_LEVEL", "value": "info"}]},
            {"name": "envoy", "image": "envoyproxy/envoy:v1.30.1",
             "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}},
        ],
        "initContainers": [{"name": "migrate", "image": "migrate:1", "resources": {"requests": {"cpu": "500m"}}}],
        "serviceAccountName": "default",
    }  # fmt: skip
    if node:
        spec["nodeName"] = node
        status: dict[str, Any] = {"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}]}
    else:
        why = "Insufficient memory" if i % 2 else "Insufficient cpu"
        message = f"0/{NODES} nodes are available: {NODES} {why}. preemption: 0/{NODES} nodes are available."
        status = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
                                                      "reason": "Unschedulable", "message": message}]}  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{app}-5d8f7c9b4-{i:05d}", "namespace": f"ns-{(i // 20) % 50}", "resourceVersion": "1",
                     "labels": {"app": app, "pod-template-hash": "5d8f7c9b4"},
                     "ownerReferences": [{"kind": "ReplicaSet", "name": f"{app}-5d8f7c9b4", "controller": True}]},
        "spec": spec,
        "status": status,
    }  # fmt: skip


def _hpa(i: int, now: datetime) -> dict[str, Any]:
    pinned = i % 10 == 0
    limited = {"type": "ScalingLimited", "status": "True" if pinned else "False",
               "reason": "TooManyReplicas" if pinned else "DesiredWithinRange",
               "lastTransitionTime": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"app-{i}", "namespace": f"ns-{i % 50}", "resourceVersion": "1"},
        "spec": {"minReplicas": 2, "maxReplicas": 20, "scaleTargetRef": {"kind": "Deployment", "name": f"app-{i}"}},
        "status": {"currentReplicas": 20 if pinned else 5, "desiredReplicas": 20 if pinned else 5,
                   "conditions": [limited]},
    }  # fmt: skip


def cluster(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Objects by list path, as ``bench.kubeapi.serve`` takes them."""
    nodes = [_node(i) for i in range(NODES)]
    names = [n["metadata"]["name"] for n in nodes]
    pods = [_pod(i, names[i % NODES] if i >= UNSCHEDULABLE else None) for i in range(PODS)]
    stamp = {"timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "window": "20s"}
    node_metrics = [{"kind": "NodeMetrics", "metadata": {"name": n}, **stamp,
                     "usage": {"cpu": f"{1_000_000_000 + i * 9_000_000}n", "memory": f"{8_000_000 + i * 40_000}Ki"}}
                    for i, n in enumerate(names)]  # fmt: skip
    pod_metrics = [{"kind": "PodMetrics", "metadata": {"name": p["metadata"]["name"], "namespace": p["metadata"]["namespace"]},
                    **stamp, "containers": [{"name": "app", "usage": {"cpu": "12m", "memory": "90Mi"}},
                                            {"name": "envoy", "usage": {"cpu": "3m", "memory": "30Mi"}}]}
                   for p in pods[UNSCHEDULABLE:]]  # fmt: skip
    return {
        "/api/v1/nodes": nodes,
        "/api/v1/pods": pods,
        "/apis/autoscaling/v2/horizontalpodautoscalers": [_hpa(i, now) for i in range(HPAS)],
        f"{METRICS}/nodes": node_metrics,
        f"{METRICS}/pods": pod_metrics,
    }


# The bot -----------------------------------------------------------------------------------------------------------
def round_trips(tmp: Path, recorder: Any, kubeconfig: Path) -> dict[str, Any]:
    """Each signed ``/capacity prod`` POSTed: its acknowledgement and the review's arrival, seconds from the POST."""
    import redis

    from bench.changes import arrived
    from bench.health import rss_mb
    from tests.support.bot_process import BotProcess, SignedSlack
    from tests.support.net import wait_for
    from tests.support.redis_server import RedisServer

    server = RedisServer().start()
    config = tmp / "chatops.yaml"
    config.write_text(CONFIG)
    env = {"LOG_LEVEL": "INFO", "KUBECONFIG": str(kubeconfig)}
    bot = BotProcess(redis_url=server.url, slack_api_url=recorder.api_url, config_path=config,
                     log_path=tmp / "capacity.log", extra_env=env).start()  # fmt: skip
    slack = SignedSlack(bot.base_url, recorder.response_url)
    state = redis.Redis.from_url(server.url, decode_responses=True)
    try:  # the hourly sampling job reads the cluster once at start: the review is timed once it is done
        wait_for(lambda: list(state.scan_iter("capacity:sampled:prod:*")), timeout=120, what="the first sample")
        out: dict[str, Any] = {"idle_mb": rss_mb(bot, "VmRSS"), "runs": []}
        for _ in range(RUNS):
            recorder.reset()
            started = time.monotonic()
            ack = slack.command("prod", command="/capacity", user="U0BOB")
            acked = time.monotonic() - started
            assert ack.status_code == 200 and "Reviewing the capacity" in ack.text, ack.text
            reply = arrived(recorder, "response_url", lambda c: str(c.params.get("text")).startswith("Capacity review"))
            out["runs"].append({"ack": acked, "answer": reply.at - started, "summary": str(reply.params["text"])})
            time.sleep(0.5)  # the bot idle again
        out["peak_mb"] = rss_mb(bot, "VmHWM")
        return out
    finally:
        state.close()
        slack.close()
        bot.terminate()
        server.cleanup()


def reader_only(kubeconfig: Path) -> list[float]:
    """``capacity_read.review`` in this process (its lists read in worker threads, as the bot does)."""
    import os

    from runbooks.checklist.capacity_read import review
    from runbooks.kube.client import Cluster

    os.environ["KUBECONFIG"] = str(kubeconfig)
    cluster = Cluster.connect("prod", "prod")
    seconds = []
    for _ in range(READER_RUNS):
        started = time.perf_counter()
        found = asyncio.run(review(cluster, datetime.now(UTC)))
        seconds.append(time.perf_counter() - started)
        assert len(found.groups) == GROUPS and sum(found.pending.values()) == UNSCHEDULABLE, found.notes
    return seconds


# The samples -------------------------------------------------------------------------------------------------------
async def _record(url: str) -> None:
    from redis.asyncio import Redis

    from bot.capacity.store import CapacityStore
    from bot.capacity.trend import Sample, day_number

    client = Redis.from_url(url, decode_responses=True)
    store = CapacityStore(client, "bench redis")
    today = day_number(datetime.now(UTC).date())
    for back in reversed(range(DAYS)):
        day = today - back
        samples = {f"ng-{g}": Sample(day, 150_000 + day % 97 * 311, 600_000 + day % 89 * 1_013, 197_750, 791_914)
                   for g in range(GROUPS)}  # fmt: skip
        assert await store.record("prod", day, samples)
    await client.aclose()


def sample_memory() -> dict[str, Any]:
    import redis

    from tests.support.redis_server import RedisServer

    server = RedisServer().start()
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        before = int(client.info("memory")["used_memory"])
        asyncio.run(_record(server.url))
        after = int(client.info("memory")["used_memory"])
        samples = {k: int(client.memory_usage(k) or 0) for k in client.scan_iter("capacity:samples:*")}
        claims = {k: int(client.memory_usage(k) or 0) for k in client.scan_iter("capacity:sampled:*")}
        fields = {client.hlen(k) for k in samples}
        encoding = {str(client.object("encoding", k)) for k in samples}
        return {"keys": len(samples), "bytes": sum(samples.values()), "claims": len(claims),
                "claim_bytes": sum(claims.values()), "fields": fields, "encoding": encoding, "used": after - before}  # fmt: skip
    finally:
        client.close()
        server.cleanup()


# The run -----------------------------------------------------------------------------------------------------------
def figures(values: list[float]) -> str:
    """first / median of the rest / max, in seconds."""
    return f"{values[0]:.2f} / {statistics.median(values[1:]):.2f} / {max(values):.2f} s"


def verdict(value: float, target: float, unit: str) -> str:
    shown = f"{value:.2f} {unit}" if unit == "s" else f"{value:,.0f} {unit}"
    return f"met ({shown})" if value <= target else f"**missed** ({shown})"


def report(bot: dict[str, Any], reader: list[float], memory: dict[str, Any]) -> list[str]:
    answers = [r["answer"] for r in bot["runs"]]
    per_sample = memory["bytes"] / (memory["keys"] * DAYS)
    return [
        "## The capacity review on a large cluster, and its samples in Redis",
        "",
        f"Command: `python -m bench.capacity` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: {NODES} nodes in {GROUPS} node groups (16 EKS managed node groups, 4 Karpenter pools), {PODS:,} pods "
        f"(two containers and an init container each, with requests; {UNSCHEDULABLE} Pending for Insufficient cpu or "
        f"memory), {HPAS} HPAs ({HPAS // 10} pinned at their maximum for 2 days), NodeMetrics and PodMetrics, served "
        "by the static API of `bench/kubeapi.py` in its own process (pre-built JSON, pages of 500). One "
        "`chatops-bot serve` process (LOG_LEVEL=INFO), a throwaway `redis-server`, the Slack stand-in in the bench's "
        "process (each call timed as it arrives); config `kubernetes: {clusters: [{name: prod, context: prod}]}`, no "
        "Prometheus (use from metrics.k8s.io). Timed after the bot's first hourly sample has been taken.",
        "Figures: the first run in a fresh bot / the median of the warm runs / the max of all.",
        "",
        "| measure | result | target |",
        "|---|---:|---:|",
        f"| HTTP round trip: the signed `/capacity prod` POSTed → the review received on the response_url ({RUNS} "
        f"runs) | {figures(answers)} | ≤ 2 s: {verdict(max(answers), 2, 's')} |",
        f"| … of which the acknowledgement (HTTP 200) | {figures([r['ack'] for r in bot['runs']])} | — |",
        f"| reading alone: `capacity_read.review` in-process, 5 lists at once ({READER_RUNS} runs) "
        f"| {reader[0]:.2f} / {statistics.median(reader[1:]):.2f} / {max(reader):.2f} s | — |",
        f"| bot process RSS: before the first review → peak (VmHWM) after the last | {bot['idle_mb']:.0f} → "
        f"{bot['peak_mb']:.0f} MB | — |",
        f"| {DAYS} days × {GROUPS} node groups of samples: `MEMORY USAGE` of the {memory['keys']} hashes "
        f"({'/'.join(sorted(memory['encoding']))}, {'/'.join(str(f) for f in sorted(memory['fields']))} fields each) "
        f"| {memory['bytes']:,} B ({per_sample:.0f} B a sample) | ≤ 1 MB: {verdict(memory['bytes'], 1_048_576, 'B')} |",
        f"| … the day claims kept meanwhile (2 d TTL: at most 2 a cluster in steady state; here {memory['claims']}, "
        f"all written within the run) | {memory['claim_bytes']:,} B | — |",
        f"| … `used_memory` before → after the 90 days written | +{memory['used']:,} B | — |",
        "",
        f"The review said: {bot['runs'][-1]['summary']}.",
    ]


def main() -> None:
    from bench.kubeapi import StaticApi
    from tests.support.slack_recorder import SlackRecorder

    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-capacity-"))
    api = StaticApi(capacity=True).start()
    recorder = SlackRecorder().start()
    try:
        kubeconfig = api.kubeconfig(tmp / "kubeconfig", context="prod")
        bot = round_trips(tmp, recorder, kubeconfig)
        reader = reader_only(kubeconfig)
    finally:
        recorder.stop()
        api.stop()
    lines = report(bot, reader, sample_memory())
    write_section("capacity", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
