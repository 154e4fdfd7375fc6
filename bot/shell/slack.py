"""A stand-in for Slack's Web API and response URLs (aiohttp on loopback), for ``chatops-bot shell`` and the tests.

It answers what the bot calls the way Slack does (message timestamps, DM channels, created channels and their
members, uploads, user groups), records every call, and keeps every message, so the shell can show each post, edit
and reply as it happens. Faults can be asked for: an error for a method, 429 with Retry-After a number of times, an
answer held back, people Slack does not know. Nothing in the bot knows it is not Slack: the bot is pointed at it by
``SLACK_API_URL`` like any Slack-compatible endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.shell import blockkit

BOT_USER = "U0CHATOPS"
TEAM = "T0SHELL"
HOLD_AT_MOST = 30.0


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


@dataclass
class Call:
    """One call as it arrived (``params`` as sent: form fields stay strings) and how it was answered."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    reply_ts: str = ""  # the ts a chat.postMessage was answered with
    limited: bool = False  # answered 429 (rate limited) rather than taken
    error: str = ""  # the error it was answered with (ok: false), if any
    bot: str = ""  # which bot called, when each is given an API URL of its own (``api_url_for``)
    refused: list[str] = field(default_factory=list)  # why Slack would refuse its blocks or view, if it would

    def params_blocks(self) -> list[dict[str, Any]]:
        return _blocks(self.params)


@dataclass
class Identity:
    """Who the stand-in says the bot is, and how its message timestamps look."""

    team: str = TEAM
    team_name: str = "shell"
    bot_user: str = BOT_USER
    bot_id: str = "B0CHATOPS"
    ts_base: int | None = None  # the seconds part of every ts (None: the current time)


class SlackStandIn:
    def __init__(
        self, listener: Callable[[Event], None] = lambda _: None, identity: Identity | None = None, *,
        strict: bool = True,
    ) -> None:  # fmt: skip
        """``strict``: ``chat.update`` of a message never posted here answers ``message_not_found``, as Slack does."""
        self.listener = listener
        self.identity = identity or Identity()
        self.strict = strict
        self.lock = threading.Lock()  # the tests read what was recorded from another thread
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.channel_names: dict[str, str] = {}
        self.taken_names: set[str] = set()  # channel names someone else has already
        self.members: dict[str, set[str]] = {}  # channel → who was invited
        self.usergroups: dict[str, list[str]] = {}
        self.unknown_users: set[str] = set()  # conversations.open answers user_not_found for these
        self.user_tz = "UTC"
        self.socket_url = ""  # apps.connections.open (Socket Mode)
        self.response_targets: dict[str, tuple[str, str, str | None]] = {}  # token → (user, channel, message ts)
        self.failures: dict[str, tuple[str, str | None]] = {}  # method → (error, only this channel)
        self.rate_limits: dict[str, list[Any]] = {}
        self.holds: dict[str, tuple[str | None, threading.Event]] = {}
        self.refusals: list[Call] = []  # calls answered with a Block Kit refusal (invalid_blocks and the like)
        self._ts = itertools.count(1)
        self._channels = itertools.count(1)
        self.url = ""
        self._runner: web.AppRunner | None = None

    # Lifecycle --------------------------------------------------------------------------------------------------
    async def start(self, port: int = 0) -> SlackStandIn:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/b/{bot}/api/{method}", self._api)
        app.router.add_get("/b/{bot}/api/{method}", self._api)
        app.router.add_post("/response/{token}", self._response)
        app.router.add_post("/upload/{file}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def api_url_for(self, bot: str) -> str:
        """The Web API for one bot of several: its calls are recorded with its name."""
        return f"{self.url}/b/{bot}/api/"

    def response_url(self, token: str, user: str = "?", channel: str = "?", message_ts: str | None = None) -> str:
        self.response_targets[token] = (user, channel, message_ts)
        return f"{self.url}/response/{token}"

    def next_ts(self) -> str:
        seconds = self.identity.ts_base if self.identity.ts_base is not None else int(time.time())
        return f"{seconds}.{next(self._ts):06d}"

    # What the tests read and ask for ----------------------------------------------------------------------------
    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def fail(self, method: str, error: str = "internal_error", channel: str | None = None) -> None:
        """Answer every call of ``method`` (to ``channel``, if given) with ``ok: false`` and ``error`` (until
        cleared)."""
        self.failures[method] = (error, channel)

    def rate_limit(self, method: str, times: int, retry_after: int, channel: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``channel``, if given) with 429 and Retry-After."""
        self.rate_limits[method] = [times, retry_after, channel]

    def hold(self, method: str, channel: str | None = None) -> threading.Event:
        """Record the next call of ``method`` (to ``channel``, if given; not a thread reply) but keep its answer back
        until the returned event is set."""
        gate = threading.Event()
        self.holds[method] = (channel, gate)
        return gate

    def clear_faults(self) -> None:
        """Answer every call normally again: no failures, rate limits, unknown users or held calls."""
        with self.lock:
            self.failures.clear()
            self.rate_limits.clear()
            self.unknown_users.clear()
            for _, gate in self.holds.values():
                gate.set()
            self.holds.clear()

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
        self.clear_faults()

    # The Web API ------------------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            data = json.loads(raw or b"{}")
            params.update(data if isinstance(data, dict) else {})
        else:
            params.update(dict(parse_qsl(raw.decode())))
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, await self._params(request), dict(request.headers), bot=request.match_info.get("bot", ""))
        with self.lock:
            held = self.holds.get(method)
            if held and held[0] in (None, call.params.get("channel")) and "thread_ts" not in call.params:
                del self.holds[method]
                self.calls.append(call)  # seen while its answer is held back
            else:
                held = None
        if held is not None:
            await asyncio.get_running_loop().run_in_executor(None, held[1].wait, HOLD_AT_MOST)
        status, body, headers = self._fault(call) or (200, self.answer(call), {})
        if held is None:
            with self.lock:  # recorded once answered: what a test sees has taken effect here
                self.calls.append(call)
        return web.json_response(body, status=status, headers=headers)

    def _fault(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        with self.lock:
            limited = self.rate_limits.get(call.method)
            if limited and limited[0] > 0 and limited[2] in (None, call.params.get("channel")):
                limited[0] -= 1
                call.limited = True
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(limited[1])}
            failing = self.failures.get(call.method)
            if failing is not None and failing[1] in (None, call.params.get("channel")):
                call.error = failing[0]
                return 200, {"ok": False, "error": call.error}, {}
        return None

    def answer(self, call: Call) -> dict[str, Any]:
        """What Slack answers ``call`` with (the stand-in's state changes as Slack's would)."""
        refused = self._refused(call)
        if refused is not None:
            return refused
        method, params = call.method, call.params
        channel = str(params.get("channel") or "")
        me = self.identity
        if method == "auth.test":
            return {"ok": True, "user_id": me.bot_user, "team_id": me.team, "bot_id": me.bot_id, "team": me.team_name}
        if method == "chat.postMessage":
            if channel.startswith("U"):  # a DM by user id, as Slack allows
                channel = "D" + channel[1:]
            thread = str(params["thread_ts"]) if params.get("thread_ts") else None
            message = Message(channel, self.next_ts(), str(params.get("text") or ""), _blocks(params), thread)
            call.reply_ts = message.ts
            with self.lock:
                self.messages[channel, message.ts] = message
            self.listener(Event("posted", message))
            return {"ok": True, "channel": channel, "ts": message.ts, "message": {"ts": message.ts}}
        if method == "chat.update":
            ts = str(params.get("ts"))
            with self.lock:
                found = self.messages.get((channel, ts))
            if found is None:
                if self.strict:
                    call.error = "message_not_found"
                    return {"ok": False, "error": "message_not_found"}
                found = self.messages[channel, ts] = Message(channel, ts, "")
            found.text = str(params.get("text") or found.text)
            found.blocks = _blocks(params) or found.blocks
            self.listener(Event("updated", found))
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "chat.postEphemeral":
            message = Message(channel, self.next_ts(), str(params.get("text") or ""), _blocks(params),
                              user=str(params.get("user")), kind="ephemeral")  # fmt: skip
            with self.lock:
                self.messages[channel, message.ts] = message
            self.listener(Event("ephemeral", message))
            return {"ok": True, "message_ts": message.ts}
        if method == "conversations.open":
            users = str(params.get("users") or "")
            if users in self.unknown_users:
                call.error = "user_not_found"
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": "D" + users.split(",", maxsplit=1)[0][1:]}}
        if method == "conversations.create":
            name = str(params.get("name"))
            with self.lock:
                if name in self.taken_names or name in self.channel_names.values():
                    call.error = "name_taken"
                    return {"ok": False, "error": "name_taken"}
                new = f"C0ROOM{next(self._channels):04d}"
                self.channel_names[new] = name
            self.listener(Event("channel", detail=f"#{name} created"))
            return {"ok": True, "channel": {"id": new, "name": name}}
        if method == "conversations.invite":
            with self.lock:
                self.members.setdefault(channel, set()).update(str(params.get("users", "")).split(","))
            return {"ok": True}
        if method == "conversations.members":
            with self.lock:
                members = sorted(self.members.get(channel, set()))
            return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}
        if method in ("views.open", "views.push", "views.update"):
            view = _json(params.get("view"))
            self.listener(Event("modal", view=view))
            return {"ok": True, "view": {"id": "V0SHELL", **view}}
        if method == "views.publish":
            self.listener(Event("published", view=_json(params.get("view")), detail=str(params.get("user_id"))))
            return {"ok": True, "view": {"id": "V0HOME"}}
        if method == "users.info":
            who = params.get("user")
            return {"ok": True, "user": {"id": who, "tz": self.user_tz, "name": who}}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(str(params.get("usergroup")), [])}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts):08d}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = _json(params.get("files"), [])
            title = files[0].get("title", "a file") if isinstance(files, list) and files else "a file"
            message = Message(channel, self.next_ts(), f"📎 {title}", thread_ts=params.get("thread_ts"), kind="file")
            self.listener(Event("file", message))
            return {"ok": True, "files": files if isinstance(files, list) else []}
        return {"ok": True}  # pins.add, conversations.archive, reactions: done

    def _refused(self, call: Call) -> dict[str, Any] | None:
        """Slack's answer to blocks or a view it refuses (``blockkit``), else None."""
        try:
            if call.method in MESSAGE_METHODS:
                blockkit.check_message(str(call.params.get("text") or ""), _blocks(call.params))
            elif call.method in VIEW_METHODS:
                blockkit.check_view(_json(call.params.get("view")))
        except blockkit.Refused as exc:
            call.error, call.refused = exc.error, exc.reasons
            with self.lock:
                self.refusals.append(call)
            messages = [f"[ERROR] {reason}" for reason in exc.reasons]
            return {"ok": False, "error": exc.error, "response_metadata": {"messages": messages}}
        return None

    async def _upload(self, request: web.Request) -> web.Response:
        content = (await request.read()).decode(errors="replace")
        with self.lock:
            self.calls.append(Call("upload", {"content": content, "file_id": request.match_info["file"]}))
        return web.Response(text="OK")

    async def _response(self, request: web.Request) -> web.Response:
        """A response_url: replies to the person who typed or clicked, in place or as a new message."""
        token = request.match_info["token"]
        params = _json((await request.read()).decode() or "{}")
        call = Call("response_url", params, dict(request.headers))
        refused = self._refused(call)
        with self.lock:
            self.calls.append(call)
        if refused is not None:  # a response_url answers 400 with the error as its body
            return web.Response(status=400, text=str(refused["error"]))
        user, channel, message_ts = self.response_targets.get(token, ("?", "?", None))
        private = params.get("response_type", "ephemeral") != "in_channel"
        text, blocks = str(params.get("text") or ""), list(params.get("blocks") or [])
        if params.get("replace_original") and message_ts and (channel, message_ts) in self.messages:
            message = self.messages[channel, message_ts]
            message.text, message.blocks = text, blocks
            self.listener(Event("updated", message))
            return web.json_response({"ok": True})
        message = Message(channel, self.next_ts(), text, blocks, user=user if private else None,
                          kind="ephemeral" if private else "message")  # fmt: skip
        with self.lock:
            self.messages[channel, message.ts] = message
        self.response_targets[token] = (user, channel, message.ts)  # a later replace edits this one
        self.listener(Event("ephemeral" if private else "posted", message))
        return web.json_response({"ok": True})


MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage", "response_url")
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")


def _json(value: Any, default: Any = None) -> Any:
    """A field Slack's clients send as JSON text in a form, or as JSON itself."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return json.loads(value)
        return {} if default is None else default
    if value is None:
        return {} if default is None else default
    return value


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = _json(params.get("blocks"), [])
    return [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []
