"""With REDIS_URL unset the bot starts an embedded Redis under ./.chatops and says so once."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import write_config
from tests.support.bot_process import BotProcess, SignedSlack, ack_text
from tests.support.slack_recorder import SlackRecorder


def test_embedded_redis_persists_across_restarts(tmp_path: Path, recorder: SlackRecorder) -> None:
    config = write_config(tmp_path / "chatops.yaml")
    data_dir = tmp_path / "data"

    def start(log: str) -> BotProcess:
        bot = BotProcess(
            redis_url="",
            slack_api_url=recorder.api_url,
            config_path=config,
            log_path=tmp_path / log,
            extra_env={"CHATOPS_DATA_DIR": str(data_dir)},
        )
        return bot.start(timeout=40)

    bot = start("embedded-a.log")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        assert httpx.get(f"{bot.base_url}/readyz").status_code == 200
        number = int(ack_text(slack.command("open P2 Embedded store")).split("*INC-")[1].split("*")[0])
    finally:
        slack.close()
        assert bot.terminate() == 0
    log = (tmp_path / "embedded-a.log").read_text()
    assert log.count("REDIS_URL is not set") == 1
    assert (data_dir / "redis.db").exists() or any(data_dir.iterdir())

    bot = start("embedded-b.log")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        assert "Embedded store" in ack_text(slack.command(f"status INC-{number}"))
    finally:
        slack.close()
        bot.terminate()
