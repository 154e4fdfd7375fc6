"""Requests as Slack sends them (the bodies of ``shared/slack-payloads``), signed with the app's signing secret:
slash commands, button clicks, form submissions and events. The shell sends them for what a person types; the tests
send them the same way.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


class Signer:
    """Slack's request signature (``v0=`` HMAC over the timestamp and body) and the headers that carry it."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)

    def headers(self, body: str, content_type: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": str(self.verifier.generate_signature(timestamp=ts, body=body)),
        }


def trigger_id(tag: str = "111") -> str:
    return f"{uuid.uuid4().int % 10**13}.{tag}.{uuid.uuid4().hex[:8]}"


def command(
    *,
    command: str,
    text: str,
    user: str,
    channel: str,
    response_url: str,
    team: str,
    user_name: str | None = None,
    channel_name: str = "",
    app: str = "A111",
    trigger: str | None = None,
) -> str:
    """A slash command's form body."""
    fields = {
        "token": "verification_token",
        "team_id": team,
        "team_domain": "workspace",
        "channel_id": channel,
        "channel_name": channel_name or channel,
        "user_id": user,
        "user_name": user_name or user.lower(),
        "command": command,
        "text": text,
        "api_app_id": app,
        "response_url": response_url,
        "trigger_id": trigger or trigger_id(),
    }
    return urlencode(fields)


def click(
    *,
    action: dict[str, Any],
    user: str,
    team: str,
    channel: str,
    message_ts: str,
    response_url: str | None,
    message: dict[str, Any] | None = None,
    ephemeral: bool = False,
    user_name: str | None = None,
    channel_name: str = "",
    app: str = "A111",
    thread_ts: str | None = None,
) -> str:
    """A ``block_actions`` payload of one clicked element (``action``: action_id, block_id, type, value, …), in a
    message (``thread_ts``: a reply in that thread); with ``response_url`` None, a click on the App Home (which has
    none)."""
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel,
        "is_ephemeral": ephemeral,
        **({"thread_ts": thread_ts} if thread_ts else {}),
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": user_name or user.lower(), "team_id": team},
        "api_app_id": app,
        "token": "verification_token",
        "container": container,
        "trigger_id": trigger_id(),
        "team": {"id": team, "domain": "workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": channel_name or channel},
        "message": message or {"type": "message", "ts": message_ts, "text": "", "blocks": []},
        "state": {"values": {}},
        "actions": [{"action_ts": f"{time.time():.6f}", **action}],
    }
    if response_url is None:
        payload["container"] = {"type": "view", "view_id": "V0HOME"}
        payload.pop("channel")
        payload.pop("message")
        payload["view"] = {"id": "V0HOME", "type": "home"}
    else:
        payload["response_url"] = response_url
    return "payload=" + quote(json.dumps(payload))


def submission(
    *, view: dict[str, Any], values: dict[str, Any], user: str, team: str, user_name: str | None = None,
    app: str = "A111",
) -> str:  # fmt: skip
    """A ``view_submission`` of the modal ``view`` with its input ``values`` (block → action → value)."""
    payload = {
        "type": "view_submission",
        "team": {"id": team, "domain": "workspace"},
        "user": {"id": user, "username": user_name or user.lower(), "name": user_name or user.lower(), "team_id": team},
        "api_app_id": app,
        "token": "verification_token",
        "trigger_id": trigger_id("modal"),
        "view": {
            "id": "V111",
            "team_id": team,
            "type": "modal",
            "blocks": [],
            "hash": "1596530361.3wRYuk3R",
            "app_id": app,
            "bot_id": "BBOT",
            **view,
            "state": {"values": values},
        },
        "response_urls": [],
    }
    return "payload=" + quote(json.dumps(payload))


def event(event: dict[str, Any], *, team: str, event_id: str | None = None, bot_user: str = "UBOT") -> str:
    """An Events API callback carrying ``event``."""
    return json.dumps(
        {
            "token": "verification_token",
            "team_id": team,
            "api_app_id": "A111",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": bot_user, "is_bot": True, "is_enterprise_install": False}],
        }
    )
