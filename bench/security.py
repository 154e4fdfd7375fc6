"""The security audit at scale, as a user runs it; writes its section of bench/RESULTS.md.

Against the static API of ``bench/kubeapi.py`` at 10,000, 30,000 and 100,000 pods without a security context (owned
by Deployments of 20 replicas, and again with every pod its own workload: two findings each, the worst case for what
is kept and printed), with Services and bindings in proportion (2,000 and 1,000 at 10,000 pods):

- ``chatops-bot audit --print`` as a whole process (start-up and imports included): wall time and peak RSS, best of 3;
- narrower, in one process: the collection alone (every list read page by page and reduced to findings).

Run: ``python -m bench.security`` (part of ``make bench``); ``python -m bench.security 10000`` for one size.
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
from typing import Any

from bench.digest import SIZES, best, cell, measure
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

    async def audit() -> dict[str, Any]:  # a summary, not the audit: see bench.digest's child
        found = await collect(cluster)
        return {"findings": len(found.findings), "notes": found.notes}

    summary = asyncio.run(audit())
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, **summary, "requests": cluster.requests}))


def run(size: int, unowned: bool) -> tuple[dict[str, float], dict[str, float]]:
    """(the whole process, the collection alone), each the best of RUNS."""
    api = StaticApi(security=True, unowned=unowned, size=size).start()
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-security-"))
    kubeconfig = api.kubeconfig(tmp / "kubeconfig")
    config = tmp / "chatops.yaml"
    config.write_text("channels: {incidents: C0INCIDENTS}\nkubernetes: {clusters: [{name: bench, context: bench}]}\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    env = {**base, "KUBECONFIG": str(kubeconfig), "CHATOPS_CONFIG": str(config), "HOME": str(tmp)}
    bot = [str(Path(sys.executable).with_name("chatops-bot")), "audit", "--print"]
    try:
        subprocess.run(bot, env=env, capture_output=True, check=True, timeout=300)  # the API's pages cut once
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


def main(sizes: tuple[int, ...] = SIZES) -> None:
    started = datetime.now(UTC)
    curve = {(size, unowned): run(size, unowned) for size in sizes for unowned in (False, True)}

    def row(label: str, unowned: bool, narrow: bool, target: str = "—") -> str:
        cells = []
        for size in sizes:
            whole, alone = curve[(size, unowned)]
            cells.append(f"{cell(alone, requests=True)}, {alone['findings']:,.0f} findings" if narrow else cell(whole))
        return f"| {label} | " + " | ".join(cells) + f" | {target} |"

    factor = sizes[-1] / PODS
    lines = [
        "## Security audit at scale",
        "",
        f"Command: `python -m bench.security` (part of `make bench`), {started:%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        "Setup: the static API of `bench/kubeapi.py` serving " + ", ".join(f"{s:,}" for s in sizes)
        + " pods without a security context; per 10,000 pods",
        f"{SERVICES:,} Services (1 in 10 a LoadBalancer, 1 in 20 a NodePort) and {ROLE_BINDINGS + CLUSTER_ROLE_BINDINGS:,}"
        f" bindings (1 in 250 to system:anonymous; {int(SERVICES * factor):,} and "
        f"{int((ROLE_BINDINGS + CLUSTER_ROLE_BINDINGS) * factor):,} at {sizes[-1]:,} pods),",
        "50 default ServiceAccounts, 500 items per page. Typical: the pods belong to Deployments of 20 replicas; worst "
        "case: every pod is",
        f"its own workload, so each is two findings. Best of {RUNS} runs in fresh processes; peak RSS is ru_maxrss. "
        "Whole-process rows include",
        "start-up, imports, reading the kubeconfig and printing every finding. Pods are decoded by msgspec into the "
        "shape the audit reads",
        "(`runbooks.kube.shapes.SecuredPod`), each page reduced to findings as it arrives.",
        "",
        "| measure | " + " | ".join(f"{s:,} pods" for s in sizes) + " | target |",
        "|---|" + "---:|" * len(sizes) + "---:|",
        row("`chatops-bot audit --print`, whole process, typical", False, False, "≤ 3 s, ≤ 120 MB at 100,000 pods"),
        row("`chatops-bot audit --print`, whole process, worst case", True, False, "≤ 3 s, ≤ 120 MB at 100,000 pods"),
        row("the collection alone, in process, typical", False, True),
        row("the collection alone, in process, worst case", True, True),
        "",
        "Checks that could not run: "
        + (", ".join(sorted({n for (_, alone) in curve.values() for n in alone["notes"]})) or "none")
        + ".",
    ]  # fmt: skip
    if 10 * PODS in sizes:
        verdicts = []
        for unowned, case in ((False, "typical"), (True, "worst case")):
            whole, alone = curve[(10 * PODS, unowned)]
            met = whole["seconds"] <= 3 and whole["rss_mb"] <= 120
            verdicts.append(
                f"{case} {'met' if met else 'not met'} ({whole['seconds']:.2f} s, {whole['rss_mb']:.0f} MB)"
            )
        lines += ["", f"Targets at {10 * PODS:,} pods (≤ 3 s, ≤ 120 MB, whole process): " + "; ".join(verdicts) + "."]
        whole, alone = curve[(10 * PODS, True)]
        if whole["rss_mb"] > 120:
            lines.append(
                f"The worst case's collection peaks at {alone['rss_mb']:.0f} MB; the rest is the printing: "
                f"`audit --print` builds all {alone['findings']:,.0f} findings' lines as one string before it "
                "writes it (`bot/security/text.py`)."
            )
    write_section("security", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
