"""``/health`` on a large cluster, as Slack asks it; writes its section of bench/RESULTS.md.

``chatops-bot serve`` (its own process, with a throwaway redis-server and the Slack stand-in) reaches the static
API of ``bench/kubeapi.py`` at 10,000, 30,000 and 100,000 pods (500 / 1,500 / 5,000 nodes, 2,000 / 6,000 / 20,000
warning events). Signed ``/health`` commands are sent by 1 and by 6 people at once; the figure is the bot process's
peak RSS (VmHWM) after every answer went out, and the time until the last answer.

Run: ``python -m bench.health`` (part of ``make bench``); ``python -m bench.health 10000`` for one size.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.digest import SIZES
from bench.kubeapi import StaticApi, scaled
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


def settled(api: StaticApi) -> None:
    """Until the API has had no request for a second: the bot's start-up work done (with a state store, the day's
    capacity sample reads every node and pod once, in the background), so /health is asked of a running bot."""
    last, quiet = -1.0, 0
    deadline = time.monotonic() + 120
    while quiet < 4 and time.monotonic() < deadline:
        served = api.served()["requests"]
        quiet = quiet + 1 if served == last else 0
        last = served
        time.sleep(0.25)


def run(askers: int, api: StaticApi, kubeconfig: Path, tmp: Path, settle: bool = True) -> dict[str, float]:
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
        if settle:
            settled(api)
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


def warm(url: str) -> None:
    """Every page the checklist reads, read once: the static API serialises a page on its first request, which is
    the API server's time, not the bot's."""
    from runbooks.checklist.collect import collect
    from runbooks.kube.client import Cluster
    from runbooks.kube.lean import ApiClient, Configuration

    configuration = Configuration()
    configuration.host = url
    cluster = Cluster("bench", ApiClient(configuration))

    async def read() -> None:
        await collect(cluster, datetime.now(UTC), timeout=120)

    asyncio.run(read())


def main(sizes: tuple[int, ...] = SIZES) -> None:
    started = datetime.now(UTC)
    curve = {}
    for size in sizes:
        api = StaticApi(size=size).start()
        tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-health-"))
        kubeconfig = api.kubeconfig(tmp / "kubeconfig")
        try:
            warm(api.url)
            curve[size] = (
                run(1, api, kubeconfig, tmp),
                run(6, api, kubeconfig, tmp),
                run(6, api, kubeconfig, tmp, settle=False),
            )
        finally:
            api.stop()
    rows = []
    for size in sizes:
        pods, nodes, events = scaled(size)
        for askers, r in zip(("1", "6 at once", "6 at once, at start-up"), curve[size], strict=True):
            target = "≤ 3 s, ≤ 160 MB" if askers == "6 at once" and size == sizes[-1] else "—"
            rows.append(
                f"| {pods:,} / {nodes:,} / {events:,} | {askers} | {r['idle']:.0f} MB | {r['peak']:.0f} MB | "
                f"{r['seconds']:.2f} s | {target} |"
            )
    last = sizes[-1]
    six = curve[last][1]
    met = six["seconds"] <= 3 and six["peak"] <= 160
    verdict = (
        f"Target at {last:,} pods, six askers (≤ 3 s, ≤ 160 MB peak): {'met' if met else 'not met'} "
        f"({six['seconds']:.2f} s, {six['peak']:.0f} MB)."
    )
    lines = [
        "## /health on a large cluster",
        "",
        f"Command: `python -m bench.health` (part of `make bench`), {started:%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        "Setup: one `chatops-bot serve` process reaching the static API of `bench/kubeapi.py` (pods, nodes and warning",
        "events as in each row); signed `/health` commands sent at once by 1, then (in a fresh bot) 6 people, once the",
        "bot's start-up work is done (the API quiet for a second: with its state store, a bot's first hour reads every",
        "node and pod once for the day's capacity sample). Peak RSS is the bot process's VmHWM once every answer went",
        "out (start-up included); the time is from the first command to the last answer. The last row of each size asks",
        "as soon as the bot answers HTTP, its start-up sample still reading beside the build.",
        "",
        "| pods / nodes / events | askers | bot RSS before | bot peak RSS | last answer after | target |",
        "|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Six askers share one build (single flight) and its result is kept for a minute; each page of pods is decoded",
        "into the typed shape the checks read (msgspec) and reduced to findings as it arrives, so the cluster's objects",
        "are never all in memory.",
        "",
        verdict,
    ]
    write_section("health", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
