"""An in-process stand-in for Slack's Web API and response URLs (aiohttp on loopback), for ``chatops-bot shell``.

It answers what the bot calls the way Slack does (message timestamps, DM channels, created channels, uploads) and
keeps every message, so the shell can show each post, edit and reply as it happens. Nothing in the bot knows it is
not Slack: the bot is pointed at it by ``SLACK_API_URL`` like any Slack-compatible endpoint.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER = "U0CHATOPS"
TEAM = "T0SHELL"


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    user: str | None = None  # an ephemeral message's only reader
    kind: str = "message"  # message, ephemeral, reply (through a response_url), file


@dataclass
class Event:
    kind: str  # posted, updated, ephemeral, modal, published, file, channel
    message: Message | None = None
    view: dict[str, Any] | None = None
    detail: str = ""


class SlackStandIn:
    def __init__(self, listener: Callable[[Event], None]) -> None:
        self.listener = listener
        self.messages: dict[tuple[str, str], Message] = {}
        self.channel_names: dict[str, str] = {}
        self.response_targets: dict[str, tuple[str, str, str | None]] = {}  # token → (user, channel, message ts)
        self.calls = 0
        self._ts = itertools.count(1)
        self._channels = itertools.count(1)
        self.url = ""
        self._runner: web.AppRunner | None = None

    # Lifecycle --------------------------------------------------------------------------------------------------
    async def start(self) -> SlackStandIn:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{token}", self._response)
        app.router.add_post("/upload/{file}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def response_url(self, token: str, user: str, channel: str, message_ts: str | None = None) -> str:
        self.response_targets[token] = (user, channel, message_ts)
        return f"{self.url}/response/{token}"

    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    # The Web API ------------------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if request.content_type == "application/json":
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}
        params: dict[str, Any] = dict(parse_qsl(raw.decode()))
        params.update(request.query)
        for key in ("blocks", "view", "attachments", "files"):
            if isinstance(params.get(key), str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        self.calls += 1
        method = request.match_info["method"]
        params = await self._params(request)
        return web.json_response(self.answer(method, params))

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "team_id": TEAM, "bot_id": "B0CHATOPS", "user": "chatops"}
        if method == "chat.postMessage":
            if channel.startswith("U"):  # a DM by user id, as Slack allows
                channel = "D" + channel[1:]
            message = Message(channel, self.next_ts(), str(params.get("text") or ""), _blocks(params),
                              str(params["thread_ts"]) if params.get("thread_ts") else None)  # fmt: skip
            self.messages[channel, message.ts] = message
            self.listener(Event("posted", message))
            return {"ok": True, "channel": channel, "ts": message.ts, "message": {"ts": message.ts}}
        if method == "chat.update":
            ts = str(params.get("ts"))
            found = self.messages.get((channel, ts))
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            message = found
            message.text = str(params.get("text") or message.text)
            message.blocks = _blocks(params) or message.blocks
            self.listener(Event("updated", message))
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.postEphemeral":
            message = Message(channel, self.next_ts(), str(params.get("text") or ""), _blocks(params),
                              user=str(params.get("user")), kind="ephemeral")  # fmt: skip
            self.messages[channel, message.ts] = message
            self.listener(Event("ephemeral", message))
            return {"ok": True, "message_ts": message.ts}
        if method == "conversations.open":
            users = str(params.get("users") or "")
            return {"ok": True, "channel": {"id": "D" + users.split(",", maxsplit=1)[0][1:]}}
        if method == "conversations.create":
            name = str(params.get("name"))
            if name in self.channel_names.values():
                return {"ok": False, "error": "name_taken"}
            new = f"C0CH{next(self._channels):04d}"
            self.channel_names[new] = name
            self.listener(Event("channel", detail=f"#{name} created"))
            return {"ok": True, "channel": {"id": new, "name": name}}
        if method in ("views.open", "views.push", "views.update"):
            view = params.get("view") if isinstance(params.get("view"), dict) else {}
            self.listener(Event("modal", view=view))
            return {"ok": True, "view": {"id": "V0SHELL", **(view or {})}}
        if method == "views.publish":
            view = params.get("view") if isinstance(params.get("view"), dict) else {}
            self.listener(Event("published", view=view, detail=str(params.get("user_id"))))
            return {"ok": True, "view": {"id": "V0HOME"}}
        if method == "users.info":
            return {"ok": True, "user": {"id": params.get("user"), "tz": "UTC", "name": params.get("user")}}
        if method == "conversations.members":
            return {"ok": True, "members": [], "response_metadata": {"next_cursor": ""}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": []}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            title = files[0].get("title", "a file") if isinstance(files, list) and files else "a file"
            message = Message(channel, self.next_ts(), f"📎 {title}", thread_ts=params.get("thread_ts"), kind="file")
            self.listener(Event("file", message))
            return {"ok": True, "files": files if isinstance(files, list) else []}
        return {"ok": True}  # pins.add, conversations.invite, .archive, reactions: done

    async def _upload(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="OK")

    async def _response(self, request: web.Request) -> web.Response:
        """A response_url: replies to the person who typed or clicked, in place or as a new message."""
        token = request.match_info["token"]
        params = json.loads(await request.read() or b"{}")
        user, channel, message_ts = self.response_targets.get(token, ("?", "?", None))
        private = params.get("response_type", "ephemeral") != "in_channel"
        text, blocks = str(params.get("text") or ""), list(params.get("blocks") or [])
        if params.get("replace_original") and message_ts and (channel, message_ts) in self.messages:
            message = self.messages[channel, message_ts]
            message.text, message.blocks = text, blocks
            self.listener(Event("updated", message))
            return web.Response(text="ok")
        message = Message(channel, self.next_ts(), text, blocks, user=user if private else None,
                          kind="ephemeral" if private else "message")  # fmt: skip
        self.messages[channel, message.ts] = message
        self.response_targets[token] = (user, channel, message.ts)  # a later replace edits this one
        self.listener(Event("ephemeral" if private else "posted", message))
        return web.Response(text="ok")


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks")
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []
