"""Two bots on a real Redis Cluster (3 masters, 3 replicas) and on Sentinel (master, replica, 3 Sentinels):
the master holding an incident is killed mid-escalation; the replica takes over and the bots keep serving,
with no incident or page lost or doubled. And /readyz does a real write and read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core import keys
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.escalation import P1_WINDOW, Rig, dms, escalation_config
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_topologies import LocalCluster, LocalSentinel
from tests.support.slack_recorder import SlackRecorder


@pytest.fixture(params=["cluster", "sentinel"])
def deployment(request: pytest.FixtureRequest) -> Iterator[Any]:
    topology: Any = LocalCluster() if request.param == "cluster" else LocalSentinel()
    topology.start()
    yield topology
    topology.cleanup()


def opened(slack: SignedSlack, title: str) -> int:
    """Open a P1, retrying while the state store is failing over (the reply then says nothing was changed)."""

    def attempt() -> int | None:
        text = ack_text(slack.command(f"open P1 {title}", user="U0REPORTER"))
        if "Nothing was changed" in text:
            return None
        return int(text.split("*INC-")[1].split("*")[0])

    number = wait_for(attempt, timeout=30, interval=0.5, what=f"{title!r} opened")
    assert isinstance(number, int)
    return number


def acknowledged(slack: SignedSlack, number: int) -> None:
    def attempt() -> bool:
        text = ack_text(slack.command(f"ack INC-{number}", user="U0ALICE"))
        return "is now *acknowledged*" in text or "already acknowledged" in text

    wait_for(attempt, timeout=30, interval=0.5, what=f"INC-{number} acknowledged")


def test_failover_loses_and_doubles_nothing(tmp_path: Path, recorder: SlackRecorder, deployment: Any) -> None:
    config = escalation_config(tmp_path / "c.yaml", repeat_every="1h", claim_lease="30s")
    rig = Rig(tmp_path, recorder, deployment.url, config)
    a, b = rig.start("a"), rig.start("b")
    one, two = SignedSlack(a.base_url, recorder.response_url), SignedSlack(b.base_url, recorder.response_url)
    try:
        assert httpx.get(f"{a.base_url}/readyz").status_code == 200
        before = [opened(one, f"before failover {i}") for i in range(4)]
        for number in before:
            wait_for(lambda n=number: dms(recorder, n, "U0ALICE", rig.bots), what=f"INC-{number} paged")
        acknowledged(two, before[0])

        if isinstance(deployment, LocalCluster):
            deployment.fail_over(keys.doc(before[1]))
        else:
            deployment.fail_over()

        after = [opened(two, "after failover 1"), opened(one, "after failover 2")]
        acknowledged(one, before[2])
        numbers = [*before, *after]
        assert sorted(numbers) == list(range(min(numbers), min(numbers) + len(numbers))), numbers

        unacked = [n for n in numbers if n not in (before[0], before[2])]
        rig.advance(P1_WINDOW)  # P1 within 15 m: the secondary at the deadline, the lead one window later
        rig.advance(P1_WINDOW)  # (repeats only after 1 h)
        for number in unacked:
            wait_for(lambda n=number: dms(recorder, n, "U0LEAD", rig.bots), what=f"INC-{number} escalated to the lead")
        for number in numbers:
            status = ack_text(one.command(f"status INC-{number}"))
            assert f"INC-{number}" in status, status
            for user in ("U0ALICE", "U0BOB", "U0LEAD"):
                assert len(dms(recorder, number, user, rig.bots)) <= 1, (number, user)
            timeline = ack_text(one.command(f"timeline INC-{number}"))
            assert timeline.count("*was paged*") == len(dms(recorder, number, bots=rig.bots)), (number, timeline)
        for number in unacked:
            assert [len(dms(recorder, number, u, rig.bots)) for u in ("U0ALICE", "U0BOB", "U0LEAD")] == [1, 1, 1], (
                number
            )
        assert httpx.get(f"{b.base_url}/readyz").status_code == 200
    finally:
        one.close()
        two.close()
        rig.stop()


def test_readyz_writes_and_reads(tmp_path: Path, recorder: SlackRecorder) -> None:
    """A plain redis:// URL pointed at one node of a cluster answers PING but cannot serve every key: not ready."""
    cluster = LocalCluster().start()
    try:
        owner = cluster.master_of(keys.READY_PROBE)
        other = next(n for n in cluster.nodes[: cluster.masters] if n.port != owner.port)
        config = escalation_config(tmp_path / "c.yaml")
        wrong = Bot(
            redis_url=f"redis://127.0.0.1:{other.port}/0",
            slack_api_url=recorder.api_url,
            config_path=config,
            log_path=tmp_path / "wrong.log",
        )
        with wrong:
            reply = httpx.get(f"{wrong.base_url}/readyz")
            assert reply.status_code == 503 and "unreachable" in reply.text
        right = Bot(
            redis_url=cluster.url, slack_api_url=recorder.api_url, config_path=config, log_path=tmp_path / "right.log"
        )
        with right:
            assert httpx.get(f"{right.base_url}/readyz").status_code == 200
    finally:
        cluster.cleanup()
