"""The bot as users run it: ``python -m bot serve`` in a subprocess, driven by signed HTTP requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from bot.shell import wire
from tests.support.net import free_port, wait_for

SIGNING_SECRET = "test-signing-secret-5f0c2a9e7b1d"
BOT_TOKEN = "xoxb-111-222-testbottokenvalue"
APP_TOKEN = "xapp-1-A111-222-socketmodetestapptoken"
REPO = Path(__file__).resolve().parents[2]


class BotProcess:
    def __init__(
        self,
        *,
        redis_url: str,
        slack_api_url: str,
        config_path: Path,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_"))},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api_url,
            "REDIS_URL": redis_url,
            "CHATOPS_CONFIG": str(config_path),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": "json",
            **(extra_env or {}),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> BotProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=REPO, env=self.env, stdout=log, stderr=log
        )
        log.close()
        wait_for(self._healthy, timeout=timeout, what=f"bot /healthz on {self.port}")
        return self

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.terminate()

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"bot exited with {self.proc.returncode}; log: {self.log_path.read_text()[-2000:]}")
        return httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self, timeout: float = 20.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode or 0)


class SignedSlack:
    """Builds requests the way Slack sends them (``bot.shell.wire``, the shell's own) and signs them."""

    def __init__(self, base_url: str, response_url: Any, secret: str = SIGNING_SECRET) -> None:
        self.url = f"{base_url}/slack/events"
        self.signer = wire.Signer(secret)
        self.response_url = response_url
        self.http = httpx.Client(timeout=10)

    def close(self) -> None:
        self.http.close()

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = self.signer.headers(body, content_type, timestamp=timestamp)
        if signature is not None:
            all_headers["X-Slack-Signature"] = signature
        return self.http.post(self.url, content=body.encode(), headers={**all_headers, **(headers or {})})

    def command_body(
        self,
        text: str,
        *,
        user: str = "U0ALICE",
        command: str = "/incident",
        channel: str = "C0WARROOM",
        trigger: str | None = None,
        team: str = "T111",
    ) -> str:
        return wire.command(
            command=command,
            text=text,
            user=user,
            channel=channel,
            channel_name="war-room",
            response_url=self.response_url(uuid.uuid4().hex),
            team=team,
            trigger=trigger,
        )

    def command(self, text: str, **kwargs: Any) -> httpx.Response:
        return self.post(self.command_body(text, **kwargs), wire.FORM)

    def click_body(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U0ALICE",
        message_ts: str = "1700000000.000001",
        home: bool = False,
        thread_ts: str | None = None,
    ) -> str:
        """A click on a button of a message in #incidents, or (``home``) of the App Home, which has no response URL."""
        action = {
            "action_id": action_id,
            "block_id": "incident_actions",
            "text": {"type": "plain_text", "text": action_id},
            "value": value,
            "type": "button",
        }
        return wire.click(
            action=action,
            user=user,
            team="T111",
            channel="C0INCIDENTS",
            channel_name="incidents",
            message_ts=message_ts,
            message={"type": "message", "ts": message_ts, "text": "incident", "blocks": []}
            | ({"thread_ts": thread_ts} if thread_ts else {}),
            response_url=None if home else self.response_url(uuid.uuid4().hex),
            thread_ts=thread_ts,
        )

    def click(self, action_id: str, value: str, **kwargs: Any) -> httpx.Response:
        return self.post(self.click_body(action_id, value, **kwargs), wire.FORM)

    def submit_open_modal(
        self, title: str, severity: str | None, description: str = "", *, user: str = "U0ALICE"
    ) -> httpx.Response:
        values: dict[str, Any] = {
            "title": {"value": {"type": "plain_text_input", "value": title}},
            "severity": {
                "value": {
                    "type": "static_select",
                    "selected_option": {"value": severity, "text": {"type": "plain_text", "text": severity}}
                    if severity
                    else None,
                }
            },
            "description": {"value": {"type": "plain_text_input", "value": description}},
        }
        return self.submit_view("incident_open_modal", "C0WARROOM", values, user=user)

    def submit_view(
        self, callback_id: str, private_metadata: str, values: dict[str, Any], *, user: str = "U0ALICE"
    ) -> httpx.Response:
        """A view_submission of the modal ``callback_id`` with its input ``values`` (block → action → value)."""
        view = {"callback_id": callback_id, "private_metadata": private_metadata}
        return self.post(wire.submission(view=view, values=values, user=user, team="T111"), wire.FORM)

    def event(self, event: dict[str, Any], event_id: str, retry_num: int | None = None) -> httpx.Response:
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.post(wire.event(event, team="T111", event_id=event_id), wire.JSON, headers=headers)


def ack_text(response: httpx.Response) -> str:
    """The ephemeral text a command's acknowledgement carries (text plus any block text)."""
    assert response.status_code == 200, (response.status_code, response.text)
    if not response.content:
        return ""
    if "json" not in response.headers.get("content-type", ""):
        return response.text
    data = response.json()
    from tests.support.slack_recorder import text_of_blocks

    return "\n".join(filter(None, [str(data.get("text") or ""), text_of_blocks(data.get("blocks") or [])]))


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m bot …`` as a user runs it, with none of this machine's SLACK_/REDIS_/CHATOPS_/KUBECONFIG settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "REDIS_", "CHATOPS_", "KUBECONFIG"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
