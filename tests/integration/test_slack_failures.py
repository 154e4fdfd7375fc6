"""Slack Web API trouble: rate limits are waited out, failures are logged and healed, never lost."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import write_config
from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder, blocks_of, text_of_blocks


def announcements(recorder: SlackRecorder, title: str) -> list[float]:
    return [
        i
        for i, c in enumerate(recorder.of("chat.postMessage"))
        if c.params.get("channel") == "C0INCIDENTS"
        and "thread_ts" not in c.params
        and title in text_of_blocks(blocks_of(c))
    ]


def test_rate_limited_announcement_arrives_after_retry_after(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    recorder.rate_limit("chat.postMessage", times=1, retry_after=1, channel="C0INCIDENTS")
    started = time.monotonic()
    open_incident("P2", "Rate limited announcement")
    # The recorder logs both attempts: the one answered 429, and the retry after Retry-After.
    wait_for(lambda: len(announcements(recorder, "Rate limited announcement")) >= 2, what="retry after 429")
    assert time.monotonic() - started >= 1.0
    assert len(announcements(recorder, "Rate limited announcement")) == 2


def test_failed_announcement_is_posted_by_the_next_change(
    slack: SignedSlack, recorder: SlackRecorder, bot: Bot, open_incident: Callable[..., int]
) -> None:
    def errors() -> float:
        for line in httpx.get(f"{bot.base_url}/metrics").text.splitlines():
            if line.startswith('chatops_slack_api_errors_total{method="chat.postMessage"}'):
                return float(line.split()[-1])
        return 0.0

    before = errors()
    recorder.fail("chat.postMessage", "channel_not_found")
    try:
        number = open_incident("P1", "Announcement that failed")
        wait_for(lambda: errors() > before, what="failure counted")
    finally:
        recorder.failures.clear()
    assert announcements(recorder, "Announcement that failed")  # the failed attempt was recorded
    first_attempts = len(announcements(recorder, "Announcement that failed"))

    assert "now *acknowledged*" in ack_text(slack.command(f"ack INC-{number}", user="U0BOB"))

    def reposted() -> bool:
        return len(announcements(recorder, "Announcement that failed")) > first_attempts

    wait_for(reposted, what="announcement posted by the next change")
    last = [
        c
        for c in recorder.of("chat.postMessage")
        if c.params.get("channel") == "C0INCIDENTS" and "Announcement that failed" in text_of_blocks(blocks_of(c))
    ][-1]
    assert "Acknowledged" in text_of_blocks(blocks_of(last))
    wait_for(
        lambda: any(
            c.params.get("thread_ts") and f"INC-{number}" in c.params.get("text", "")
            for c in recorder.of("chat.postMessage")
        ),
        what="thread line under the new announcement",
    )


def test_bot_identity_is_retried_until_slack_answers_and_a_refused_token_is_said(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    own = SlackRecorder().start()
    config = write_config(tmp_path / "c.yaml")

    def bot_on_own_slack(name: str) -> Bot:
        return Bot(
            redis_url=redis_server.url, slack_api_url=own.api_url, config_path=config, log_path=tmp_path / f"{name}.log"
        )

    try:
        own.fail("auth.test", "internal_error")
        with bot_on_own_slack("identity") as bot:
            own.wait_for_calls("auth.test", 2)  # retried with backoff, not given up
            assert httpx.get(f"{bot.base_url}/healthz").status_code == 200  # serving meanwhile
            own.failures.clear()
            wait_for(
                lambda: "connected to Slack team Test as bot user UBOT" in bot.log_path.read_text(),
                what="identity learned after Slack recovered",
            )

        own.fail("auth.test", "invalid_auth")
        with bot_on_own_slack("refused") as refused:
            wait_for(
                lambda: (
                    "Slack refused the bot token (invalid_auth): check SLACK_BOT_TOKEN" in refused.log_path.read_text()
                ),
                what="refused token said",
            )
    finally:
        own.stop()
