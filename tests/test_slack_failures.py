"""Slack Web API trouble: rate limits are waited out, failures are logged and healed, never lost."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.support.bot_process import BotProcess, SignedSlack, ack_text
from tests.support.net import wait_for
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
    slack: SignedSlack, recorder: SlackRecorder, bot: BotProcess, open_incident: Callable[..., int]
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
