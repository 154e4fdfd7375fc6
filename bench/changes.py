"""``/changes --since=24h`` on a large cluster, and an alert's incident with its "What changed"; writes its section of
bench/RESULTS.md.

The issue's target: the feed reads lists, not watches, bounded by the range: at 10,000 pods / 2,000 ReplicaSets /
1,000 ConfigMaps, ``/changes --since=24h`` cluster-wide answers within 2 s as an HTTP round trip from a running bot,
and enrichment adds no more than 1 s before the incident's first thread line.

- The cluster of ``bench/changes_cluster.py`` (three days of history) served by ``bench.kubeapi.StaticApi`` in its
  own process, so that the figures are the bot's; the round trip is measured against kmock too (the tests' emulator,
  ``tests/support/kube.py``: each list one page, and slower to answer).
- ``chatops-bot serve`` (its own process, a throwaway redis-server, the Slack stand-in in this process so that
  every call has its arrival time): the signed ``/changes --since=24h`` POSTed, timed until the stand-in receives
  the answer on the response_url; then Alertmanager webhooks, each opening an incident, timed until its
  announcement, its first thread line and its "What changed".
- Narrower, named as such: the reader alone (``feed()`` in this process, against the same API), and its profile.

Run: ``python -m bench.changes`` (part of ``make bench``).
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from bench import changes_cluster as seed
from bench.health import rss_mb
from bench.kubeapi import StaticApi
from bench.results import machine_info, write_section

# The bot -------------------------------------------------------------------------------------------------------------
COMMAND_RUNS, ALERT_RUNS, READER_RUNS = 6, 5, 5
ANSWER = "change(s) in the whole cluster"
CONFIG = """\
channels: {incidents: C0INCIDENTS}
oncall: {timezone: UTC, rotation: [U0ALICE, U0BOB], lead: U0LEAD}
permissions: {operators: [U0OPS]}
alerts: {min_severity: P3, max_new_per_minute: 1000}
"""
CLUSTERS = """\
kubernetes: {clusters: [{name: prod, context: prod}]}
changes: {secrets: true}
"""
ALERTS_TOKEN = "bench-alerts-token-0123456789"


class Rig:
    """One ``chatops-bot serve`` process with a throwaway redis-server, reaching the API through ``kubeconfig``
    (None: no cluster at all), and the Slack stand-in of this process."""

    def __init__(self, tmp: Path, recorder: Any, name: str, kubeconfig: Path | None) -> None:
        from tests.support.bot_process import BotProcess, SignedSlack
        from tests.support.redis_server import RedisServer

        self.redis = RedisServer().start()
        config = tmp / f"{name}.yaml"
        config.write_text(CONFIG + (CLUSTERS if kubeconfig else ""))
        env = {"LOG_LEVEL": "INFO", "ALERTS_TOKEN": ALERTS_TOKEN, "KUBECONFIG": str(kubeconfig or tmp / "none")}
        self.bot = BotProcess(
            redis_url=self.redis.url,
            slack_api_url=recorder.api_url,
            config_path=config,
            log_path=tmp / f"{name}.log",
            extra_env=env,
        ).start()
        self.slack = SignedSlack(self.bot.base_url, recorder.response_url)
        self.recorder = recorder
        recorder.reset()

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *_: object) -> None:
        self.slack.close()
        self.bot.terminate()
        self.redis.cleanup()


def arrived(recorder: Any, method: str, match: Callable[[Any], bool], timeout: float = 60.0) -> Any:
    """The first call of ``method`` matching, waiting for it."""
    from tests.support.net import wait_for

    found = wait_for(
        lambda: [c for c in recorder.of(method) if match(c)], timeout=timeout, interval=0.005, what=f"a {method} call"
    )
    return cast(list[Any], found)[0]


def command_round_trips(rig: Rig, runs: int) -> list[dict[str, float]]:
    """Each signed ``/changes --since=24h`` POSTed; when its acknowledgement came back and when the stand-in
    received the answer on the response_url, in seconds from the POST."""
    out = []
    for _ in range(runs):
        rig.recorder.reset()
        started = time.monotonic()
        ack = rig.slack.command("--since=24h", command="/changes", user="U0BOB")
        acked = time.monotonic() - started
        assert ack.status_code == 200 and "Reading what changed" in ack.text, ack.text
        reply = arrived(rig.recorder, "response_url", lambda c: ANSWER in str(c.params.get("text")))
        out.append({"ack": acked, "answer": reply.at - started, "count": float(str(reply.params["text"]).split()[0])})
        time.sleep(0.5)  # the rest of its messages, and the bot idle again
    return out


def alert_payload(i: int, pod: str, namespace: str) -> dict[str, Any]:
    from tests.integration.test_alerts import alert, group

    name = f"HighErrorRate{i}"
    item = alert(name, f"{pod}:8080", severity="critical", namespace=namespace, pod=pod)
    return group(name, [item], **{k: v for k, v in item["labels"].items() if k != "alertname"})


def one_incident(rig: Rig, i: int, app: str, team: str, changes: bool) -> dict[str, float]:
    import httpx

    from tests.support.slack_recorder import blocks_of, text_of_blocks

    rig.recorder.reset()
    pod = f"{app}-{seed.suffix(10, app, seed.REVISIONS)}-{seed.suffix(5, app, i)}"
    body = json.dumps(alert_payload(i, pod, team)).encode()
    started = time.monotonic()
    answer = httpx.post(
        f"{rig.bot.base_url}/alerts/alertmanager",
        content=body,
        timeout=30,
        headers={"Authorization": f"Bearer {ALERTS_TOKEN}"},
    )
    answered = time.monotonic() - started
    ref = str(answer.json()["incident"])
    posted = arrived(
        rig.recorder,
        "chat.postMessage",
        lambda c: "thread_ts" not in c.params and f"{ref}:" in text_of_blocks(blocks_of(c)),
    )
    first = arrived(rig.recorder, "chat.postMessage", lambda c: c.params.get("thread_ts") == posted.reply_ts)
    row = {"webhook": answered, "announcement": posted.at - started, "first_line": first.at - started}
    if changes:
        what = arrived(
            rig.recorder,
            "chat.postMessage",
            lambda c: c.params.get("thread_ts") == posted.reply_ts and "What changed" in text_of_blocks(blocks_of(c)),
        )
        row["changes"] = what.at - started
    return row


def incident_times(rig: Rig, runs: int, changes: bool) -> list[dict[str, float]]:
    """Each Alertmanager webhook POSTed (a new incident each, its pod of a Deployment rolled out in the last 2 h);
    when the webhook was answered, the announcement posted, the first line in its thread, and "What changed"."""
    recent = [d for d in range(seed.DEPLOYMENTS) if seed.revisions_of(d)[-1][3] < 7_200]  # rolled out in the last 2 h
    out = []
    for i in range(runs):
        app, team = seed.workload_name(recent[i % len(recent)])
        out.append(one_incident(rig, i, app, team, changes))
        time.sleep(1.0)  # the incident's other messages, and the bot idle again
    return out


# The reader alone ----------------------------------------------------------------------------------------------------
def reader_only(kubeconfig: Path, runs: int) -> dict[str, Any]:
    """``feed()`` in this process (its lists read by its threads, as the bot does), whole cluster, 24 h; then each
    reader on its own, one after the other, under cProfile: their wall times and the top costs."""
    import gc
    import os

    from runbooks.kube.client import Cluster
    from runbooks.kube.history.read import feed

    os.environ["KUBECONFIG"] = str(kubeconfig)
    cluster = Cluster.connect("prod", "prod")
    gc.freeze()  # as the server does once started (bot/runtime/server.py): collections skip what was loaded
    seconds, count = [], 0
    for _ in range(runs):
        until = datetime.now(UTC)
        started = time.perf_counter()
        found = feed(cluster, until - timedelta(hours=24), until)
        seconds.append(time.perf_counter() - started)
        count = len(found.changes)
        assert not found.problems, found.problems
    readers, profile = profiled(cluster)
    return {"seconds": seconds, "count": count, "readers": readers, "profile": profile}


def profiled(cluster: Any) -> tuple[list[tuple[str, float, int]], str]:
    """Each reader of the whole-cluster feed run in this thread: (its name, wall seconds, changes), and the
    profile of them all (top functions by own time)."""
    from runbooks.kube.history.lists import Reads, Scope
    from runbooks.kube.history.model import Kind
    from runbooks.kube.history.read import readers

    until = datetime.now(UTC)
    scope = Scope(cluster="prod", since=until - timedelta(hours=24), until=until, namespace=None, kind=None, name=None)
    wanted = set(Kind)
    names = [
        "Deployment rollouts",
        "ControllerRevision rollouts",
        "ConfigMaps",
        "Secrets",
        "Helm releases",
        "HPAs and their events",
        "nodes and their events",
        "CronJobs",
    ]
    chosen = readers(scope, wanted)
    assert len(chosen) == len(names)
    profile = cProfile.Profile()
    out = []
    for name, reader in zip(names, chosen, strict=True):
        started = time.perf_counter()
        profile.enable()
        found = reader(Reads(cluster), scope)
        profile.disable()
        out.append((name, time.perf_counter() - started, len(found)))
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(12)
    return out, text.getvalue()


def top_costs(profile: str) -> list[str]:
    """The profile's rows as ``| own s | cumulative s | calls | function |``."""
    rows = []
    for line in profile.splitlines():
        found = re.match(r"^\s*(\d+(?:/\d+)?)\s+([\d.]+)\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+(.*)$", line)
        if found:
            calls, own, cumulative, where = found.groups()
            where = re.sub(r"^.*?/(site-packages|lib/python3\.\d+|main)/", "", where)
            rows.append(f"| {float(own):.3f} | {float(cumulative):.3f} | {calls} | `{where}` |")
    return rows


# The run -------------------------------------------------------------------------------------------------------------
def bot_runs(tmp: Path, recorder: Any, api: StaticApi) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kubeconfig = api.kubeconfig(tmp / "kubeconfig", context="prod")
    with Rig(tmp, recorder, "changes", kubeconfig) as rig:
        out["idle_mb"] = rss_mb(rig.bot, "VmRSS")
        before = api.served()
        out["commands"] = command_round_trips(rig, COMMAND_RUNS)
        out["served"] = {k: v - before[k] for k, v in api.served().items()}
        out["peak_mb"] = rss_mb(rig.bot, "VmHWM")
    with Rig(tmp, recorder, "incidents", kubeconfig) as rig:
        out["incidents"] = incident_times(rig, ALERT_RUNS, changes=True)
        out["incidents_peak_mb"] = rss_mb(rig.bot, "VmHWM")
    with Rig(tmp, recorder, "no-cluster", None) as rig:
        out["baseline"] = incident_times(rig, ALERT_RUNS, changes=False)
    return out


def kmock_runs(tmp: Path, recorder: Any, now: datetime) -> list[dict[str, float]]:
    """The round trip against kmock (last: its objects live in this process, and a large heap slows every
    collection of this process's garbage collector)."""
    from tests.support.kube import KubeEmulator

    emulator = KubeEmulator().start()  # the same cluster, as the tests serve theirs: one page per list
    emulator.seed({p.removeprefix("/apis/").removeprefix("/api/"): items for p, items in seed.cluster(now).items()})
    try:
        with Rig(tmp, recorder, "kmock", emulator.kubeconfig(tmp / "kmock-kubeconfig", context="prod")) as rig:
            return command_round_trips(rig, 3)
    finally:
        emulator.stop()


def main() -> None:
    from tests.support.slack_recorder import SlackRecorder

    now = datetime.now(UTC)
    tmp = Path(tempfile.mkdtemp(prefix="chatops-bench-changes-"))
    api = StaticApi(changes=True, now=now).start()
    recorder = SlackRecorder().start()
    try:
        bot = bot_runs(tmp, recorder, api)  # first: the API's first answers (each page serialised) are the bot's
        reader = reader_only(tmp / "kubeconfig", READER_RUNS)
        bot["kmock"] = kmock_runs(tmp, recorder, now)
    finally:
        recorder.stop()
        api.stop()
    counts = {int(run["count"]) for run in bot["commands"] + bot["kmock"]}
    assert counts == {reader["count"]}, (counts, reader["count"])  # the bot said what the reader reads
    lines = report(bot, reader)
    write_section("changes", lines)
    print("\n".join(lines))


def figures(values: list[float]) -> str:
    """first / median of the rest / max, in seconds."""
    return f"{values[0]:.2f} / {statistics.median(values[1:]):.2f} / {max(values):.2f} s"


def verdict(seconds: float, target: float) -> str:
    return (
        f"met ({seconds:.2f} s ≤ {target:.0f} s)"
        if seconds <= target
        else f"**missed** ({seconds:.2f} s > {target:.0f} s)"
    )


def report(bot: dict[str, Any], reader: dict[str, Any]) -> list[str]:
    return [
        '## /changes and an incident\'s "What changed" on a large cluster',
        "",
        f"Command: `python -m bench.changes` (part of `make bench`), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        f"Machine: {machine_info()}.",
        f"Setup: a cluster of {seed.PODS:,} pods, {seed.DEPLOYMENTS * seed.REVISIONS:,} ReplicaSets of {seed.DEPLOYMENTS} Deployments "
        "(~6.7 KB each with their templates and managedFields; revisions over 3 days, roll-backs, restarts), "
        f"{seed.CONFIGMAPS:,} ConfigMaps (~4.8 KB), {seed.OPAQUE + seed.TOKENS + seed.RELEASES * seed.RELEASE_REVISIONS} Secrets (Helm release "
        f"secrets and service-account tokens among them), {seed.NODES} nodes, {seed.HPAS} HPAs, {seed.STATEFULSETS + seed.DAEMONSETS} "
        f"StatefulSets and DaemonSets with their ControllerRevisions, {seed.CRONJOBS} CronJobs and "
        f"{seed.BACKOFFS + seed.RESCALES + seed.NODE_EVENTS:,} events, served by a static API in its own process (pre-built JSON, "
        "pages of 500 by `limit`/`continue`, label and field selectors applied as the API server does; "
        "`bench/kubeapi.py`, the cluster `bench/changes_cluster.py`). One `chatops-bot serve` process (LOG_LEVEL=INFO), a throwaway `redis-server`, the "
        "Slack stand-in in the bench's process (each call timed as it arrives); config "
        "`kubernetes: {clusters: [{name: prod, context: prod}]}`, `changes: {secrets: true}` (every kind read).",
        "Figures: the first run in a fresh bot / the median of the warm runs / the max of all.",
        "",
        *command_section(bot, reader),
        "",
        *incident_section(bot),
        "",
        *profile_section(reader),
    ]


def command_section(bot: dict[str, Any], reader: dict[str, Any]) -> list[str]:
    commands, served = bot["commands"], bot["served"]
    answer = [r["answer"] for r in commands]
    return [
        f"### `/changes --since=24h`, the whole cluster ({reader['count']:,} changes; the answer lists 100)",
        "",
        "| measure | first / median / max | target |",
        "|---|---:|---:|",
        f"| HTTP round trip: the signed command POSTed → its answer received on the response_url ({COMMAND_RUNS} "
        f"runs) | {figures(answer)} | ≤ 2 s: {verdict(max(answer), 2)} |",
        f"| … of which the acknowledgement (HTTP 200) | {figures([r['ack'] for r in commands])} | — |",
        f"| the same round trip against kmock (`tests/support/kube.py`: one page per list, 3 runs) "
        f"| {figures([r['answer'] for r in bot['kmock']])} | — |",
        f"| reader only: `feed()` in-process against the static API, its garbage collector frozen as the "
        f"server's is ({READER_RUNS} runs) "
        f"| {figures(reader['seconds'])} | — |",
        f"| bot process RSS: before the first command → peak (VmHWM) after the last | {bot['idle_mb']:.0f} → "
        f"{bot['peak_mb']:.0f} MB | — |",
        "",
        f"Over the {COMMAND_RUNS} commands the static API answered {served['requests'] / COMMAND_RUNS:.0f} requests "
        f"per command in {served['seconds']:.2f} s of its own time in all, most of it during the first (a page is "
        "serialised once, then served from memory), so the round trip is the bot's: lists read in threads, decoded and reduced as "
        "they arrive, then ranked, rendered and posted, and the Roll back offers of the first five running "
        "rollouts (each a GET and a list of its ReplicaSets). Against a real API server, its own list latency "
        "(a consistent list of 2,000 ReplicaSets, ~13.5 MB) adds to these figures.",
    ]


def incident_section(bot: dict[str, Any]) -> list[str]:
    incidents, baseline = bot["incidents"], bot["baseline"]
    added = statistics.median(r["first_line"] for r in incidents) - statistics.median(r["first_line"] for r in baseline)
    after_first = [r["changes"] - r["first_line"] for r in incidents]
    return [
        '### An alert\'s incident: its announcement, its first thread line, its "What changed"',
        "",
        f"Alertmanager webhooks POSTed ({ALERT_RUNS}, each a new P1 incident on a pod of a Deployment rolled out in "
        "the last 2 h), timed from the POST to each message's arrival at the stand-in; the same alerts sent to a "
        "bot with no cluster configured (no change feed) as the baseline.",
        "",
        "| measure | first / median / max | target |",
        "|---|---:|---:|",
        f"| webhook answered (HTTP 200) | {figures([r['webhook'] for r in incidents])} | — |",
        f"| announcement posted | {figures([r['announcement'] for r in incidents])} | — |",
        f"| first thread line (the page's mention) | {figures([r['first_line'] for r in incidents])} | — |",
        f"| first thread line, no change feed (baseline) | {figures([r['first_line'] for r in baseline])} | — |",
        f"| what the change feed adds before the first thread line (medians) | {round(added * 1000):+d} ms | ≤ 1 s: "
        f"{verdict(max(added, 0.0), 1)} |",
        f'| "What changed" posted in the thread | {figures([r["changes"] for r in incidents])} | — |',
        f"| … after the first thread line | {figures(after_first)} | — |",
        f"| bot process peak RSS (VmHWM) after the incidents | {bot['incidents_peak_mb']:.0f} MB | — |",
    ]


def shares(profile: str) -> tuple[float, float, float]:
    """(seconds decoding JSON, seconds reading the lists (requests and decoding), seconds in all) of the profile."""
    total = re.search(r"in ([\d.]+) seconds", profile)
    decode = re.search(r"^\s*\d+\s+([\d.]+)\s.*json/decoder\.py:\d+\(raw_decode\)", profile, re.M)
    lists = re.search(r"^\s*\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s.*history/lists\.py:\d+\(each\)", profile, re.M)
    return tuple(float(m.group(1)) if m else 0.0 for m in (decode, lists, total))  # type: ignore[return-value]


def profile_section(reader: dict[str, Any]) -> list[str]:
    decoding, lists, total = shares(reader["profile"])
    slowest = max(reader["readers"], key=lambda r: r[1])
    return [
        "### Where the reader's time goes",
        "",
        "Each reader of the whole-cluster feed run alone, one after the other in one thread, under cProfile "
        "(in `feed()` they run at once, a thread each):",
        "",
        "| reader | wall s (profiled) | changes |",
        "|---|---:|---:|",
        *[f"| {name} | {seconds:.3f} | {found} |" for name, seconds, found in reader["readers"]],
        "",
        "Top costs by own time:",
        "",
        "| own s | cumulative s | calls | function |",
        "|---:|---:|---:|---|",
        *top_costs(reader["profile"]),
        "",
        f"Of the {total:.2f} s profiled, reading the lists is {lists:.2f} s, {decoding:.2f} s of it decoding their "
        f"JSON (the client's `json.loads` of each page); the rest, {total - lists:.2f} s, is what the feed does "
        "with the objects (managedFields, revisions, images) and the profiler's own overhead. The slowest reader "
        f"({slowest[0]}: the Deployments, then ~13.5 MB of ReplicaSets in pages of 500, one after the other) is "
        "the feed's critical path; the other readers finish beside it.",
    ]


if __name__ == "__main__":
    main()
