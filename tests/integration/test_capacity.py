"""The capacity review and the digest's resource use over the wire: the bot in-process on signed HTTP, kmock seeded with
node groups, pods Running and Pending (one the scheduler cannot place for memory), NodeMetrics and PodMetrics and HPAs
(``tests/support/capacity_seed.py``); a second kmock with many node groups and no metrics API; a third cluster whose
API server is not there; the samples in the bot's own Redis."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from bot.capacity.trend import day_number
from bot.core import keys
from bot.core.clock import MovableClock
from bot.core.settings.capacity import NODE_CPU, NODE_MEMORY
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.capacity_seed import many_groups, seed
from tests.support.harness import Bot, past_next_minute
from tests.support.kube import KubeEmulator
from tests.support.net import free_port, wait_for
from tests.support.prometheus import FakePrometheus
from tests.support.redis_server import RedisServer
from tests.support.replies import replies, reply_text, wait_reply
from tests.support.slack_recorder import SlackRecorder, text_of_blocks

MANY = 80
CONFIG = """
channels: {incidents: C0INCIDENTS, digest: C0HEALTH}
digest: {cron: "0 3 1 1 *", check_timeout: 5s}
capacity: {cron: "%(cron)s"}
kubernetes: {clusters: %(clusters)s}
"""
ALL = "[{name: emu, context: emu}, {name: many, context: many}, {name: gone, context: gone}]"


# Fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A kubeconfig of three contexts: emu (the seeded cluster), many (80 node groups, no metrics API), gone."""
    emu, many = KubeEmulator().start(), KubeEmulator().start()
    emu.seed(seed(datetime.now(UTC)))
    many.seed(many_groups(MANY, per_group=1))
    path = emu.kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig")
    doc = yaml.safe_load(path.read_text())
    for name, url in (("many", many.url), ("gone", f"http://127.0.0.1:{free_port()}")):
        doc["clusters"].append({"name": name, "cluster": {"server": url}})
        doc["contexts"].append({"name": name, "context": {"cluster": name, "user": "bot"}})
    path.write_text(yaml.safe_dump(doc))
    yield path
    many.stop()  # kmock's resolvers unwind in the reverse order of their start
    emu.stop()


def config_file(directory: Path, cron: str = "0 9 1-7 * 1", clusters: str = ALL, extra: str = "") -> Path:
    path = directory / "chatops.yaml"
    path.write_text(textwrap.dedent(CONFIG % {"cron": cron, "clusters": clusters}) + extra)
    return path


def start(directory: Path, recorder: SlackRecorder, redis_url: str, kubeconfig: Path, name: str,
          config: Path, clock: MovableClock | None = None) -> Bot:  # fmt: skip
    return Bot(redis_url=redis_url, slack_api_url=recorder.api_url, config_path=config,
               log_path=directory / f"{name}.log", extra_env={"KUBECONFIG": str(kubeconfig)}, clock=clock).start()  # fmt: skip


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, recorder: SlackRecorder, redis_server: RedisServer,
        clusters: Path) -> Iterator[Bot]:  # fmt: skip
    directory = tmp_path_factory.mktemp("capacity")
    made = start(directory, recorder, redis_server.url, clusters, "capacity", config_file(directory))
    yield made
    made.terminate()


@pytest.fixture
def slack(bot: Bot, recorder: SlackRecorder) -> Iterator[SignedSlack]:
    client = SignedSlack(bot.base_url, recorder.response_url)
    yield client
    client.close()


def ask(
    slack: SignedSlack, recorder: SlackRecorder, text: str, phrase: str = "Capacity review"
) -> list[dict[str, Any]]:
    """The review's messages (one reply per message) for ``/capacity text``."""
    since = len(recorder.of("response_url"))
    assert "Reviewing the capacity of" in ack_text(slack.command(text, command="/capacity", user="U0BOB"))
    wait_reply(recorder, since, phrase)
    wait_for(lambda: any("as of" in reply_text(r) or "left out" in reply_text(r) for r in replies(recorder, since)),
             what="the review's last message")  # fmt: skip
    return [r for r in replies(recorder, since) if str(r.get("text", "")).startswith("Capacity review")]


def forget_samples(state: redis.Redis, cluster: str) -> None:
    for key in state.scan_iter(f"capacity:sample*:{cluster}:*"):
        state.delete(key)


# The review -------------------------------------------------------------------------------------------------------
def test_the_review_sums_each_node_group_and_names_pending_pods_pinned_hpas_and_over_requesters(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    forget_samples(state, "emu")
    (reply,) = ask(slack, recorder, "emu")
    assert reply["response_type"] == "in_channel"
    text = reply_text(reply)
    # Requests of Running and bound Pending pods (an init container's larger request wins; Succeeded pods are not
    # counted); use from NodeMetrics; groups by the EKS and Karpenter labels, the rest "other".
    assert ("*general* (2 nodes): CPU requested 4.0 of 8.0 cores (50 %), used 4.2 (53 %); "
            "memory requested 13.0 GiB of 32.0 GiB (41 %), used 16.0 GiB (50 %)") in text  # fmt: skip
    assert ("*spot* (1 node): CPU requested 5.0 of 8.0 cores (62 %), used 1.0 (12 %); "
            "memory requested 14.0 GiB of 32.0 GiB (44 %), used 4.0 GiB (12 %)") in text  # fmt: skip
    assert "*other* (1 node): CPU requested 0.0 of 2.0 cores (0 %)" in text
    assert text.index("*general*") < text.index("*spot*") < text.index("*other*")
    assert "*Pending pods*: 2 — Insufficient memory 1, Insufficient cpu and memory 1" in text
    assert "• `shop/waiting-1`: Insufficient memory" in text
    assert "*HPAs pinned at their maximum for more than a day*: 1" in text
    assert "`shop/api` at 10 replicas since <!date^" in text
    assert "checkout" not in text and "quiet" not in text and "shop/free" not in text  # 2 h; at its minimum; free
    assert "• `batch`: requests 4.0 cores, uses 0.1; requests 12.0 GiB of memory, uses 0.5 GiB" in text
    assert "`shop`:" not in text  # requests near its use
    assert "trend: not enough samples yet (1 day)" in text
    today = str(day_number(bot.clock().date()))
    assert state.hget(keys.capacity_samples("emu", "general"), today) == "4000,13312,8000,32768"
    assert state.hget(keys.capacity_samples("emu", "spot"), today) == "5000,14336,8000,32768"
    assert 0 < (state.ttl(keys.capacity_samples("emu", "general")) or 0) <= 91 * 86_400


def test_the_trend_of_the_kept_samples_is_said_as_a_rate_and_a_time_to_full(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, state: redis.Redis
) -> None:
    forget_samples(state, "emu")
    today = day_number(bot.clock().date())
    key = keys.capacity_samples("emu", "general")
    for back in range(28):  # memory requests +400 MiB a week up to 10,000 of 12,000 MiB; CPU flat
        state.hset(key, str(today - back), f"4000,{round(10_000 - 400 / 7 * back)},8000,12000")
    state.set(keys.capacity_sampled("emu", str(today)), "1")  # today's sample is the seeded one
    text = "\n".join(reply_text(r) for r in ask(slack, recorder, "emu"))
    assert ("trend over 28 days: CPU requests steady (0.0 %/week); memory requests grow 4 %/week; "
            "full in ~5 weeks at this rate") in text  # fmt: skip
    assert "trend: not enough samples yet (0 days)" in text  # spot: no samples kept, and today's is taken
    assert state.hget(key, str(today)) == "4000,10000,8000,12000"  # the day's sample is written once


@pytest.mark.parametrize(
    ("words", "said"),
    [("staging", "`staging` is not a configured cluster. Configured: `emu`, `many`, `gone`."),
     ("emu extra", "Too many words."), ("help", "`/capacity [cluster]`")],
)  # fmt: skip
def test_bad_words_are_refused_and_nothing_is_read(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder, words: str, said: str
) -> None:
    since = len(recorder.of("response_url"))
    assert said in ack_text(slack.command(words, command="/capacity", user="U0BOB"))
    bot.settled()
    assert not replies(recorder, since)


def test_an_unreachable_cluster_is_named_and_the_others_reviewed(
    bot: Bot, slack: SignedSlack, recorder: SlackRecorder
) -> None:
    messages = ask(slack, recorder, "")  # every configured cluster
    assert 1 <= len(messages) <= 3
    text = "\n".join(reply_text(r) for r in messages)
    assert "gone: no nodes read" in str(messages[0]["text"]) and "emu: 3 node groups, 2 pending pods" in text
    gone = text[text.index("*Cluster gone*") :]
    assert "⚠️ no nodes read: could not reach the Kubernetes API for " in gone
    assert "*general* (2 nodes)" in text  # the others still reviewed


def test_many_node_groups_stay_within_slacks_limits(slack: SignedSlack, recorder: SlackRecorder) -> None:
    messages = ask(slack, recorder, "many")
    for message in messages:  # the stand-in refuses what Slack refuses, and the test would fail (tests/conftest.py)
        assert len(message["blocks"]) <= 50
    text = "\n".join(reply_text(r) for r in messages)
    assert "_no metrics API (metrics.k8s.io does not answer): use unknown_" in text
    assert text.count("*node-group-with-a-long-name-") == 30
    assert f"• and {MANY - 30} smaller node groups ({MANY - 30} nodes)" in text
    assert "requests against use by namespace: no pod metrics" in text


# The digest -------------------------------------------------------------------------------------------------------
def test_the_digest_names_nodes_above_the_warning_and_says_where_use_is_unknown(
    slack: SignedSlack, recorder: SlackRecorder
) -> None:
    since = len(recorder.of("response_url"))
    assert "Checking 3 clusters" in ack_text(slack.command("", command="/health", user="U0BOB"))
    text = reply_text(wait_reply(recorder, since, "Resource use", timeout=40))
    part = text[text.index("Resource use") :]
    assert "*emu*: CPU 30 % of 18.0 cores, memory 29 % of 72.0 GiB in use (4 nodes); 1 above 85 %" in part
    assert "• `general-a` (general): CPU 93 %, memory 88 %" in part
    assert "general-b" not in part and "spot-1" not in part
    assert "*many*: no metrics API (metrics.k8s.io does not answer): use unknown" in part
    assert "*gone*: ⚠️ could not reach the Kubernetes API for nodes (MaxRetryError)" in part


def test_use_comes_from_prometheus_when_it_is_configured(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, clusters: Path
) -> None:
    def by_node(values: dict[str, float]) -> dict[str, Any]:
        return {"resultType": "vector",
                "result": [{"metric": {"node": n}, "value": [1.7e9, str(v)]} for n, v in values.items()]}  # fmt: skip

    prometheus = FakePrometheus({
        NODE_CPU: by_node({"general-a": 1.0, "general-b": 3.9, "spot-1": 1.0, "lone": 0.5}),
        NODE_MEMORY: by_node({"general-a": 4 * 1024**3, "general-b": 4 * 1024**3, "spot-1": 8 * 1024**3,
                              "lone": 1024**3}),
    })  # fmt: skip
    config = config_file(
        tmp_path, clusters="[{name: emu, context: emu}]", extra=f"prometheus: {{url: '{prometheus.url}'}}\n"
    )
    made = start(tmp_path, recorder, redis_server.url, clusters, "prometheus", config)
    slack = SignedSlack(made.base_url, recorder.response_url)
    try:
        since = len(recorder.of("response_url"))
        ack_text(slack.command("", command="/health", user="U0BOB"))
        part = reply_text(wait_reply(recorder, since, "Resource use", timeout=40))
        assert "• `general-b` (general): CPU 98 %" in part and "general-a" not in part  # not metrics.k8s.io's
        assert NODE_CPU in prometheus.queries and NODE_MEMORY in prometheus.queries
        (review,) = ask(slack, recorder, "")
        assert "*general* (2 nodes): CPU requested 4.0 of 8.0 cores (50 %), used 4.9 (61 %)" in reply_text(review)
    finally:
        slack.close()
        made.terminate()
        prometheus.stop()


# The monthly post -------------------------------------------------------------------------------------------------
def test_the_scheduled_review_is_posted_once_across_two_replicas(
    tmp_path: Path, recorder: SlackRecorder, clusters: Path
) -> None:
    server = RedisServer().start()
    config = config_file(tmp_path, cron="* * * * *", clusters="[{name: emu, context: emu}]")
    clock = MovableClock()
    a = start(tmp_path, recorder, server.url, clusters, "a", config, clock)
    b = start(tmp_path, recorder, server.url, clusters, "b", config, clock)
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:

        def posts() -> list[str]:
            return [text_of_blocks(c.params.get("blocks") or []) for c in recorder.of("chat.postMessage")
                    if c.params.get("channel") == "C0HEALTH" and "Capacity review" in str(c.params.get("text"))]  # fmt: skip

        def skipped() -> bool:
            lines = [line for p in (tmp_path / "a.log", tmp_path / "b.log") for line in p.read_text().splitlines()]
            return any("capacity-review for " in line and "claimed by another replica" in line for line in lines)

        before = len(posts())
        past_next_minute(clock, a, b)
        wait_for(lambda: len(posts()) > before, timeout=30, what="the scheduled capacity review")
        a.advance(timedelta(seconds=10))  # the replica that lost the claim looks again
        b.wake()
        wait_for(skipped, what="the other replica's turn")
        assert len(posts()) - before == 1
        assert "*general* (2 nodes)" in posts()[-1] and "*Pending pods*: 2" in posts()[-1]
        assert len(list(client.scan_iter("capacity:tick:*"))) == 1
        assert len(list(client.scan_iter("capacity:sampled:emu:*"))) == 1  # the review took the day's sample
    finally:
        client.close()
        a.terminate()
        b.terminate()
        server.cleanup()
