"""With REDIS_URL unset the bot starts an embedded Redis under ./.chatops and says so once."""

from __future__ import annotations

import os
import stat
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
    assert (data_dir / "redis.db").exists()
    assert private(data_dir)  # incident state is the user's alone

    os.chmod(data_dir, 0o755)  # as an older version left it: tightened at the next start
    for path in data_dir.iterdir():
        os.chmod(path, 0o644)
    bot = start("embedded-b.log")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    try:
        assert "Embedded store" in ack_text(slack.command(f"status INC-{number}"))
    finally:
        slack.close()
        bot.terminate()
    assert private(data_dir)


def private(directory: Path) -> bool:
    """The directory 0700 and every file in it 0600, read with os.stat."""
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in directory.iterdir()}
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert modes == dict.fromkeys(modes, 0o600), modes
    return True
