"""``/health`` on a large cluster, as Slack asks it; writes its section of bench/RESULTS.md.

``chatops-bot serve`` (its own process, with a throwaway redis-server and the Slack stand-in) reaches the static
API of ``bench/kubeapi.py`` (10,000 pods, 500 nodes, 2,000 warning events). Signed ``/health`` commands are sent
by 1 and by 6 people at once; the figure is the bot process's peak RSS (VmHWM) after every answer went out, and
the time until the last answer.

Run: ``python -m bench.health`` (part of ``make bench``).
"""

from __future__ import annotations

import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.kubeapi import PODS, StaticApi
from bench.results import machine_info, write_section
from tests.support.bot_process import BotProcess, SignedSlack
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import RecorderProcess

POSTED = re.compile(r'^chatops_digests_posted_total\{trigger="command"\} ([0-9.]+)$', re.M)


def rss_mb(bot: BotProcess, field: str) -> float:
    assert bot.proc is not None
    for line in Path(f"/proc/{bot.proc.pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def answered(bot: BotProcess) -> int:
    match = POSTED.search(httpx.get(f"{bot.base_url}/metrics").text)
    return int(float(match.group(1))) if match else 0


def run(askers: int, kubeconfig: Path, tmp: Path) -> dict[str, float]:
    redis = RedisServer().start()
    recorder = RecorderProcess().start()
    config = tmp / f"health-{askers}.yaml"
    config.write_text("channels: {incidents: C0INCIDENTS}\nkubernetes: {clusters: [{name: bench, context: bench}]}\n")
    bot = BotProcess(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=config,
        log_path=tmp / f"health-{askers}.log",
        extra_env={"LOG_LEVEL": "INFO", "KUBECONFIG": str(kubeconfig)},
    ).start()
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        idle = rss_mb(bot, "VmRSS")
        started = time.perf_counter()
        with ThreadPoolExecutor(askers) as pool:
            codes = list(
                pool.map(lambda i: slack.command("", command="/health", user=f"U0ASK{i}").status_code, range(askers))
            )
        assert codes == [200] * askers, codes
        wait_for(lambda: answered(bot) >= askers, timeout=120, interval=0.05, what="every /health answered")
        seconds = time.perf_counter() - started
        return {"idle": idle, "peak": rss_mb(bot, "VmHWM"), "seconds": seconds}
    finally:
        slack.close()
        bot.terminate()
        recorder.stop()
        redis.cleanup()


def main() -> None:
    api = StaticApi().start()
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-health-"))
    kubeconfig = api.kubeconfig(tmp / "kubeconfig")
    try:
        one, six = run(1, kubeconfig, tmp), run(6, kubeconfig, tmp)
    finally:
        api.stop()
    lines = [
        "## /health on a large cluster",
        "",
        f"Command: `python -m bench.health` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: one `chatops-bot serve` process reaching the static API of `bench/kubeapi.py` ({PODS:,} pods, 500 nodes,",
        "2,000 warning events); signed `/health` commands sent at once by 1, then (in a fresh bot) 6 people. Peak RSS is",
        "the bot process's VmHWM once every answer went out; the time is from the first command to the last answer.",
        "",
        "| askers | bot RSS before | bot peak RSS | last answer after | target |",
        "|---:|---:|---:|---:|---:|",
        f"| 1 | {one['idle']:.0f} MB | {one['peak']:.0f} MB | {one['seconds']:.2f} s | — |",
        f"| 6 at once | {six['idle']:.0f} MB | {six['peak']:.0f} MB | {six['seconds']:.2f} s | ≤ 160 MB |",
        "",
        "Six askers share one build (single flight) and its result is kept for a minute; each page of pods is reduced",
        "to findings as it arrives, so the cluster's objects are never all in memory.",
    ]
    write_section("health", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
