"""Concurrency, Slack retries and restarts: nothing lost, nothing done twice."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_config
from tests.support.bot_process import BotProcess, SignedSlack, ack_text
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder


def test_twenty_concurrent_acknowledgements_yield_one(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    number = open_incident("P1", "Twenty clickers")
    users = [f"U0CLICK{i:02d}" for i in range(20)]
    bodies = [slack.click_body("incident_acknowledge", str(number), user=u) for u in users]
    before = len(recorder.of("response_url"))
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda b: slack.post(b, "application/x-www-form-urlencoded").status_code, bodies))
    assert statuses == [200] * 20

    # Nineteen losers are told, ephemerally, who won.
    wait_for(lambda: len(recorder.of("response_url")) - before >= 19, what="19 ephemeral replies")
    replies = [c.params for c in recorder.of("response_url")[before:]]
    assert len(replies) == 19
    assert all(r["response_type"] == "ephemeral" and r["replace_original"] is False for r in replies)
    winners = {r["text"].split("acknowledged by <@")[1].split(">")[0] for r in replies}
    assert len(winners) == 1 and winners <= set(users)

    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert timeline.count("*acknowledged*") == 1
    status = ack_text(slack.command(f"status INC-{number}"))
    assert f"<@{winners.pop()}>" in status


def test_slack_event_retry_is_not_repeated(slack: SignedSlack, recorder: SlackRecorder) -> None:
    event = {
        "type": "app_mention",
        "user": "U0ALICE",
        "text": "<@UBOT> help",
        "ts": "1700000099.000100",
        "channel": "C0WARROOM",
        "event_ts": "1700000099.000100",
    }
    first = slack.event(event, "Ev0RETRYTEST1")
    assert first.status_code == 200
    wait_for(
        lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == "1700000099.000100"],
        what="mention reply",
    )
    for retry in (1, 2):
        assert slack.event(event, "Ev0RETRYTEST1", retry_num=retry).status_code == 200
    # A fresh, different event still goes through: its reply proves the retries were processed before it.
    other = dict(event, ts="1700000099.000200", event_ts="1700000099.000200")
    assert slack.event(other, "Ev0RETRYTEST2").status_code == 200
    wait_for(
        lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == "1700000099.000200"],
        what="second reply",
    )
    replies = [c for c in recorder.of("chat.postMessage") if c.params.get("thread_ts") == "1700000099.000100"]
    assert len(replies) == 1


def test_replayed_open_command_opens_once(slack: SignedSlack, recorder: SlackRecorder) -> None:
    body = slack.command_body("open P2 Replayed command", trigger="4916855695380.replay.once")
    first = slack.post(body, "application/x-www-form-urlencoded")
    assert "Opened" in ack_text(first)
    again = slack.post(body, "application/x-www-form-urlencoded", headers={"X-Slack-Retry-Num": "1"})
    assert again.status_code == 200 and "Opened" not in again.text
    assert ack_text(slack.command("list")).count("Replayed command") == 1


def test_url_verification(slack: SignedSlack) -> None:
    body = '{"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}'
    resp = slack.post(body, "application/json")
    assert resp.status_code == 200 and resp.json()["challenge"].startswith("3eZbrw1a")


def test_state_survives_sigkill_and_restart(tmp_path: Path, recorder: SlackRecorder) -> None:
    redis = RedisServer().start()
    try:
        config = write_config(tmp_path / "chatops.yaml")
        first = BotProcess(
            redis_url=redis.url, slack_api_url=recorder.api_url, config_path=config, log_path=tmp_path / "a.log"
        ).start()
        slack = SignedSlack(first.base_url, recorder.response_url)
        opened = ack_text(slack.command("open P1 Survives a crash"))
        number = int(opened.split("*INC-")[1].split("*")[0])
        ack_text(slack.command(f"ack INC-{number}", user="U0BOB"))
        first.kill()
        slack.close()

        second = BotProcess(
            redis_url=redis.url, slack_api_url=recorder.api_url, config_path=config, log_path=tmp_path / "b.log"
        ).start()
        slack = SignedSlack(second.base_url, recorder.response_url)
        status = ack_text(slack.command(f"status INC-{number}"))
        assert "Survives a crash" in status and "Acknowledged" in status and "<@U0BOB>" in status
        nxt = ack_text(slack.command("open P3 After the restart"))
        assert f"*INC-{number + 1}*" in nxt
        assert "already acknowledged by <@U0BOB>" in ack_text(slack.command(f"ack INC-{number}"))
        assert second.terminate() == 0
        slack.close()
    finally:
        redis.cleanup()


def test_redis_outage_gives_clear_reply_then_recovers(tmp_path: Path, recorder: SlackRecorder) -> None:
    redis = RedisServer().start()
    bot = BotProcess(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=write_config(tmp_path / "c.yaml"),
        log_path=tmp_path / "bot.log",
    ).start()
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        opened = ack_text(slack.command("open P2 Before the outage"))
        number = int(opened.split("*INC-")[1].split("*")[0])
        assert httpx.get(f"{bot.base_url}/readyz").status_code == 200

        redis.stop()
        for text in ("open P1 During the outage", f"ack INC-{number}", "list", f"status INC-{number}"):
            resp = slack.command(text)
            assert resp.status_code == 200
            reply = ack_text(resp)
            assert "state store" in reply and "Redis at 127.0.0.1" in reply and "Nothing was changed" in reply, reply
        before = len(recorder.of("response_url"))
        assert slack.click("incident_resolve", str(number)).status_code == 200
        wait_for(lambda: len(recorder.of("response_url")) > before, what="ephemeral outage reply to a click")
        assert "state store" in recorder.of("response_url")[-1].params["text"]
        ready = httpx.get(f"{bot.base_url}/readyz")
        assert ready.status_code == 503 and "Redis" in ready.text
        assert httpx.get(f"{bot.base_url}/healthz").status_code == 200

        redis.start()
        wait_for(lambda: httpx.get(f"{bot.base_url}/readyz").status_code == 200, what="ready again")
        assert "now *acknowledged*" in ack_text(slack.command(f"ack INC-{number}"))
        listing = ack_text(slack.command("list"))
        assert "Before the outage" in listing and "During the outage" not in listing
        metrics = httpx.get(f"{bot.base_url}/metrics").text
        assert "chatops_store_errors_total 5.0" in metrics
    finally:
        slack.close()
        bot.terminate()
        redis.cleanup()


@pytest.mark.parametrize("responders", ["[U0BOB, U0ALICE, U0LEAD]", "[S0ONCALL]"])
def test_responders_are_honoured(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, responders: str
) -> None:
    recorder.usergroups["S0ONCALL"] = ["U0BOB"]
    bot = BotProcess(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=write_config(tmp_path / "r.yaml", responders),
        log_path=tmp_path / "bot.log",
    ).start()
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        opened = ack_text(slack.command("open P3 Anyone may declare", user="U0MALLORY"))
        number = int(opened.split("*INC-")[1].split("*")[0])
        refused = ack_text(slack.command(f"ack INC-{number}", user="U0MALLORY"))
        assert "Only incident responders" in refused
        before = len(recorder.of("response_url"))
        slack.click("incident_resolve", str(number), user="U0MALLORY")
        wait_for(lambda: len(recorder.of("response_url")) > before, what="refusal")
        assert "Only incident responders" in recorder.of("response_url")[-1].params["text"]
        assert "*open*" in ack_text(slack.command(f"status INC-{number}")).lower() or "Open" in ack_text(
            slack.command(f"status INC-{number}")
        )
        assert "now *acknowledged*" in ack_text(slack.command(f"ack INC-{number}", user="U0BOB"))
    finally:
        slack.close()
        bot.terminate()
