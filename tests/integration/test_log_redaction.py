"""At DEBUG, in both log formats, no token, signing secret or response_url value reaches the log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.support.bot_process import BOT_TOKEN, BotProcess, SignedSlack, ack_text
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.secrets_scan import leaks
from tests.support.slack_recorder import SlackRecorder


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_debug_logs_carry_no_secrets(tmp_path: Path, recorder: SlackRecorder, log_format: str) -> None:
    redis = RedisServer().start()
    log = tmp_path / f"redaction-{log_format}.log"
    bot = BotProcess(
        redis_url=redis.url,
        slack_api_url=recorder.api_url,
        config_path=write_config(tmp_path / "c.yaml"),
        log_path=log,
        extra_env={"LOG_FORMAT": log_format},
    ).start()
    tokens_before = set(recorder.issued_tokens)
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        opened = ack_text(slack.command("open P1 Redaction check"))
        number = int(opened.split("*INC-")[1].split("*")[0])
        slack.click("incident_acknowledge", str(number), user="U0BOB")
        slack.click("incident_acknowledge", str(number), user="U0CAROL")  # loser → respond() via response_url
        wait_for(
            lambda: any(
                c.params.get("text", "").startswith(f"INC-{number} was already") for c in recorder.of("response_url")
            ),
            what="loser reply",
        )
        slack.submit_open_modal("Modal redaction", "P3")
        slack.command("open")
        slack.command("bogus " + BOT_TOKEN)  # a user pasting a token into chat
        slack.post(slack.command_body("list"), "application/x-www-form-urlencoded", signature="v0=" + "1" * 64)
        recorder.fail("chat.update", "channel_not_found")
        slack.command(f"mitigate INC-{number}")
        wait_for(
            lambda: "chat.update" in log.read_text() or "channel_not_found" in log.read_text(), what="failure logged"
        )
        redis.stop()
        slack.command("list")
        slack.click("incident_resolve", str(number))
        wait_for(lambda: "state store" in log.read_text(), what="outage logged")
    finally:
        recorder.failures.clear()
        slack.close()
        bot.terminate()
        redis.cleanup()
    text = log.read_text()
    assert "slack_bolt" in text and "debug" in text.lower(), "the bot did not log at DEBUG"
    if log_format == "json":
        assert all(json.loads(line) for line in text.splitlines() if line.strip())
    issued = recorder.issued_tokens - tokens_before
    assert len(issued) >= 4
    assert leaks([log], issued) == []
