"""Socket Mode: with SLACK_APP_TOKEN set the same app takes commands over a WebSocket, no signing secret needed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import write_config
from tests.support.bot_process import APP_TOKEN, BotProcess
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder
from tests.support.socket_server import SocketModeServer


@pytest.fixture
def socket_server(recorder: SlackRecorder) -> Iterator[SocketModeServer]:
    server = SocketModeServer().start()
    recorder.socket_url = server.url
    yield server
    server.stop()


def envelope(text: str) -> dict[str, object]:
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "token": "verification_token",
            "team_id": "T111",
            "team_domain": "test-domain",
            "channel_id": "C0WARROOM",
            "channel_name": "war-room",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "command": "/incident",
            "text": text,
            "api_app_id": "A111",
            "response_url": f"http://127.0.0.1:9/response/{uuid.uuid4().hex}",
            "trigger_id": f"{uuid.uuid4().int % 10**13}.111.socket",
        },
    }


def test_socket_mode_takes_commands(
    tmp_path: Path, recorder: SlackRecorder, redis_server: RedisServer, socket_server: SocketModeServer
) -> None:
    bot = BotProcess(
        redis_url=redis_server.url,
        slack_api_url=recorder.api_url,
        config_path=write_config(tmp_path / "c.yaml"),
        log_path=tmp_path / "socket.log",
        extra_env={"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": ""},
    ).start()
    try:
        socket_server.wait_connected()
        opened = envelope("open P2 Opened over Socket Mode")
        socket_server.send(opened)
        reply = socket_server.ack_for(str(opened["envelope_id"]))
        assert "Opened *INC-" in str(reply["payload"])
        listed = envelope("list")
        socket_server.send(listed)
        assert "Opened over Socket Mode" in str(socket_server.ack_for(str(listed["envelope_id"]))["payload"])
        # The probes and metrics stay on HTTP; /slack/events is not needed in this mode.
        assert httpx.get(f"{bot.base_url}/readyz").status_code == 200
        unsigned = httpx.post(f"{bot.base_url}/slack/events", data={"command": "/incident", "text": "open P1 x"})
        assert unsigned.status_code in (404, 405)
        assert recorder.of("apps.connections.open")
    finally:
        assert bot.terminate() == 0
