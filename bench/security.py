"""The security audit at scale, as a user runs it; writes its section of bench/RESULTS.md.

Against the static API of ``bench/kubeapi.py`` with 10,000 pods without a security context (owned by Deployments, and
again with every pod its own workload: 20,000 findings, the worst case for what is kept and printed), 2,000 Services
and 1,000 bindings:

- ``chatops-bot audit --print`` as a whole process (start-up and imports included): wall time and peak RSS, best of 3;
- narrower, in one process: the collection alone (every list read page by page and reduced to findings).

Run: ``python -m bench.security`` (part of ``make bench``).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.digest import best, measure
from bench.kubeapi import CLUSTER_ROLE_BINDINGS, PODS, ROLE_BINDINGS, SERVICES, StaticApi
from bench.results import machine_info, write_section

RUNS = 3
REPO = Path(__file__).resolve().parents[1]


def child(url: str) -> None:
    """The collection alone, in a fresh process; prints a JSON line."""
    from runbooks.checklist.audit import collect
    from runbooks.kube.client import Cluster
    from runbooks.kube.lean import ApiClient, Configuration

    configuration = Configuration()
    configuration.host = url
    cluster = Cluster("bench", ApiClient(configuration))
    started = time.perf_counter()
    audit = asyncio.run(collect(cluster))
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "findings": len(audit.findings),
                      "notes": audit.notes, "requests": cluster.requests}))  # fmt: skip


def run(unowned: bool) -> tuple[dict[str, float], dict[str, float]]:
    """(the whole process, the collection alone), each the best of RUNS."""
    api = StaticApi(security=True, unowned=unowned).start()
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-security-"))
    kubeconfig = api.kubeconfig(tmp / "kubeconfig")
    config = tmp / "chatops.yaml"
    config.write_text("channels: {incidents: C0INCIDENTS}\nkubernetes: {clusters: [{name: bench, context: bench}]}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    env = {**base, "KUBECONFIG": str(kubeconfig), "CHATOPS_CONFIG": str(config), "HOME": str(tmp)}
    bot = [str(Path(sys.executable).with_name("chatops-bot")), "audit", "--print"]
    try:
        whole = best([measure(bot, env) for _ in range(RUNS)])
        runs = []
        for _ in range(RUNS):
            out = subprocess.run(
                [sys.executable, "-m", "bench.security", "--child", api.url],
                capture_output=True, text=True, check=True, timeout=300, cwd=REPO,
            )  # fmt: skip
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        return whole, best(runs)
    finally:
        api.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    whole, narrow = run(unowned=False)
    worst, worst_narrow = run(unowned=True)
    lines = [
        "## Security audit at scale",
        "",
        f"Command: `python -m bench.security` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: the static API of `bench/kubeapi.py` serving {PODS:,} pods without a security context, "
        f"{SERVICES:,} Services (200 LoadBalancers, 100 NodePorts),",
        f"{ROLE_BINDINGS + CLUSTER_ROLE_BINDINGS:,} bindings (4 to system:anonymous) and 50 default ServiceAccounts, "
        "500 items per page. Typical: the pods",
        "belong to 500 Deployments of 20 replicas; worst case: every pod is its own workload, so each is two findings.",
        f"Best of {RUNS} runs in fresh processes; peak RSS is ru_maxrss. Whole-process rows include start-up, imports,",
        "reading the kubeconfig and printing every finding.",
        "",
        "| measure | time | peak RSS | findings | API requests | target |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `chatops-bot audit --print`, whole process, typical | {whole['seconds']:.2f} s | {whole['rss_mb']:.0f} MB | "
        f"{narrow['findings']:,} | — | ≤ 1.0 s, ≤ 150 MB |",
        f"| `chatops-bot audit --print`, whole process, worst case | {worst['seconds']:.2f} s | "
        f"{worst['rss_mb']:.0f} MB | {worst_narrow['findings']:,} | — | ≤ 1.0 s, ≤ 150 MB |",
        f"| the collection alone, in process, typical | {narrow['seconds']:.2f} s | {narrow['rss_mb']:.0f} MB | "
        f"{narrow['findings']:,} | {narrow['requests']} | — |",
        f"| the collection alone, in process, worst case | {worst_narrow['seconds']:.2f} s | "
        f"{worst_narrow['rss_mb']:.0f} MB | {worst_narrow['findings']:,} | {worst_narrow['requests']} | — |",
        "",
        f"Checks that could not run: {narrow['notes'] or 'none'}.",
    ]
    write_section("security", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
