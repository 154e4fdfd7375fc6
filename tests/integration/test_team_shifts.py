"""Covers and swaps follow their shift (over the real wire, a real Redis, the Slack stand-in, the movable clock): a
cover and a swap are made, the bot is started again on the same Redis with a config whose hand-off moved, and
`/oncall` and the escalator's pages show them on the moved shifts."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import MovableClock
from tests.integration.test_teams import (
    CONFIG,
    TOKEN,
    _request,
    _request_id,
    _responses,
    fire,
    move_to,
    oncall,
    wednesday_3am,
)
from tests.support.bot_process import SignedSlack
from tests.support.escalation import dms
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder

MOVED = CONFIG.replace('handoff: "mon 09:00"', 'handoff: "tue 10:00"')


class Replicas:
    """One bot at a time on one Redis: started again with another config, at the same instant."""

    def __init__(self, tmp_path: Path, recorder: SlackRecorder, target: datetime) -> None:
        self.server = RedisServer().start()
        self.tmp_path, self.recorder, self.target = tmp_path, recorder, target
        self.bot: Bot | None = None
        self.slack: SignedSlack | None = None
        self.runs = 0

    def start(self, config: str, at: datetime) -> tuple[Bot, SignedSlack]:
        self.stop()
        self.runs += 1
        path = self.tmp_path / f"chatops-{self.runs}.yaml"
        monday, tuesday = (self.target - timedelta(days=2)).date(), (self.target - timedelta(days=1)).date()
        path.write_text(textwrap.dedent(config % {"mon": monday.isoformat(), "tue": tuesday.isoformat()}))
        clock = MovableClock()
        clock.advance(at - clock())
        self.bot = Bot(redis_url=self.server.url, slack_api_url=self.recorder.api_url, config_path=path, clock=clock,
                       log_path=self.tmp_path / f"bot-{self.runs}.log", extra_env={"ALERTS_TOKEN": TOKEN}).start()  # fmt: skip
        self.slack = SignedSlack(self.bot.base_url, self.recorder.response_url)
        return self.bot, self.slack

    def stop(self) -> None:
        if self.slack is not None:
            self.slack.close()
        if self.bot is not None:
            self.bot.terminate()
        self.bot = self.slack = None


@pytest.fixture
def target() -> datetime:
    return wednesday_3am()


@pytest.fixture
def replicas(tmp_path: Path, recorder: SlackRecorder, target: datetime) -> Iterator[Replicas]:
    recorder.reset()
    made = Replicas(tmp_path, recorder, target)
    yield made
    made.stop()
    recorder.reset()
    made.server.cleanup()


def _cover_and_swap(bot: Bot, slack: SignedSlack, recorder: SlackRecorder, target: datetime) -> None:
    """Alice (primary of week 0) has Wednesday 17:00-21:00 covered by Carol; Bob swaps his week 1 for Carol's week 2."""
    assert "Asked team platform" in oncall(slack, "cover 4h", user="U0ALICE")
    request = _request_id(wait_for(lambda: _request(recorder, "C0PLATFORM"), what="the cover request"))  # type: ignore[arg-type]
    since = len(recorder.of("response_url"))
    slack.click("oncall_cover_take", request, user="U0CAROL")
    wait_for(lambda: any(t.startswith("You cover <@U0ALICE>") for t in _responses(recorder, since)), what="taken")
    week1 = (target + timedelta(days=7)).date().isoformat()
    assert "Asked <@U0CAROL> to swap" in oncall(slack, f"swap <@U0CAROL> {week1}", user="U0BOB")
    proposal = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0CAROL"
                                 and "oncall_request_accept" in json.dumps(c.params.get("blocks"))], what="asked")  # fmt: skip
    slack.click("oncall_request_accept", _request_id(proposal[0]), user="U0CAROL")  # type: ignore[index]
    wait_for(lambda: "Accepted." in _responses(recorder, since), what="accepted")
    assert "primary <@U0CAROL> (cover)" in oncall(slack, "platform")
    move_to(bot, target + timedelta(days=7, hours=14))  # week 1's Wednesday 17:00: Carol instead of Bob
    assert "primary <@U0CAROL> (cover)" in oncall(slack, "platform")


def test_a_cover_and_a_swap_follow_their_shift_when_the_handoff_moves(
    replicas: Replicas, recorder: SlackRecorder, target: datetime
) -> None:
    bot, slack = replicas.start(CONFIG, target + timedelta(hours=14))  # Wednesday 17:00: Alice primary
    _cover_and_swap(bot, slack, recorder, target)
    # The hand-off moves from Monday 09:00 to Tuesday 10:00: week n starts a day and an hour later.
    bot, slack = replicas.start(MOVED, target + timedelta(hours=16))
    assert "primary <@U0ALICE>, secondary <@U0BOB>" in oncall(slack, "platform")  # the cover moved off Wednesday
    move_to(bot, target + timedelta(days=1, hours=16))  # Thursday 19:00: the cover's moved span
    assert "primary <@U0CAROL> (cover), secondary <@U0BOB>" in oncall(slack, "platform")
    covered = fire(bot, "IngressDown", namespace="ingress")
    wait_for(lambda: dms(recorder, covered, "U0CAROL", [bot]), what="the escalator pages the covering Carol")
    move_to(bot, target + timedelta(days=1, hours=19, minutes=1))  # Thursday 22:01: the moved cover is over
    assert "primary <@U0ALICE>, secondary <@U0BOB>" in oncall(slack, "platform")
    move_to(bot, target + timedelta(days=6, hours=6, minutes=30))  # Tuesday 09:30: still week 0 (hand-off at 10:00)
    assert "primary <@U0ALICE>, secondary <@U0BOB>" in oncall(slack, "platform")
    move_to(bot, target + timedelta(days=12, hours=9))  # Monday 12:00 of week 1 as it is now: swapped to Carol
    assert "primary <@U0CAROL> (cover)" in oncall(slack, "platform")
    swapped = fire(bot, "IngressSlow", namespace="ingress")
    wait_for(lambda: dms(recorder, swapped, "U0CAROL", [bot]), what="the escalator pages Carol in Bob's moved week")
    move_to(bot, target + timedelta(days=13, hours=9))  # Tuesday 12:00 of week 2: Carol's week, swapped to Bob
    assert "primary <@U0BOB> (cover)" in oncall(slack, "platform")
