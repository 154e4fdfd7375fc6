"""A local stand-in for the Slack Web API (``SLACK_API_URL``) that records every call.

``POST /api/<method>`` answers like Slack; ``POST /response/<id>`` records response_url posts.
Tests can make a method fail (``fail(method, error)``) or rate-limit (``rate_limit(method, n, retry_after)``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.support.net import serve_forever, wait_for


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    reply_ts: str = ""  # the ts this stand-in answered a chat.postMessage with
    limited: bool = False  # answered 429 (rate limited) rather than taken
    error: str = ""  # the error this stand-in answered with (ok: false), if it failed the call

    def params_blocks(self) -> list[dict[str, Any]]:
        return blocks_of(self)


class SlackRecorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        self.failures: dict[str, str] = {}
        self.rate_limits: dict[str, list[Any]] = {}
        self.holds: dict[str, tuple[str | None, threading.Event]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.issued_tokens: set[str] = set()
        self.socket_url = ""
        self.taken_names: set[str] = set()
        self.members: dict[str, set[str]] = {}  # channel → who was invited (conversations.members answers it)
        self.unknown_users: set[str] = set()  # conversations.open with one of these answers user_not_found
        self.user_tz = "Europe/Berlin"
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                self._reply(path, dict(parse_qsl(query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                path, _, query = self.path.partition("?")
                if path.startswith("/upload/"):
                    self._reply(path, {"content": raw})
                    return
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(raw or "{}")
                else:
                    params = dict(parse_qsl(raw))
                self._reply(path, {**dict(parse_qsl(query)), **params})

            def _reply(self, path: str, params: dict[str, Any]) -> None:
                status, body, extra = recorder.answer(path, params, dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str) -> str:
        """A response_url that leads here; its token is remembered so logs can be scanned for it."""
        self.issued_tokens.add(token)
        return f"http://127.0.0.1:{self.port}/response/{token}"

    def start(self) -> SlackRecorder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
        self.clear_faults()

    def clear_faults(self) -> None:
        """Answer every call normally again: no failures, rate limits, unknown users or held calls."""
        with self.lock:
            self.failures.clear()
            self.rate_limits.clear()
            self.unknown_users.clear()
            for _, gate in self.holds.values():
                gate.set()
            self.holds.clear()

    def fail(self, method: str, error: str = "internal_error") -> None:
        self.failures[method] = error

    def hold(self, method: str, channel: str | None = None) -> threading.Event:
        """Record the next call of ``method`` (to ``channel``, if given; not a thread reply) but keep
        its answer back until the returned event is set."""
        gate = threading.Event()
        self.holds[method] = (channel, gate)
        return gate

    def answer(
        self, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path.startswith("/response/"):
            with self.lock:
                self.calls.append(Call("response_url", params, headers))
            return 200, {"ok": True}, {}
        if path.startswith("/upload/"):
            with self.lock:
                self.calls.append(Call("upload", {**params, "file_id": path.rsplit("/", 1)[-1]}, headers))
            return 200, {"ok": True}, {}
        method = path.removeprefix("/api/")
        call = Call(method, params, headers)
        with self.lock:
            self.calls.append(call)
            held = self.holds.get(method)
            if held and held[0] in (None, params.get("channel")) and "thread_ts" not in params:
                del self.holds[method]
            else:
                held = None
        if held is not None:
            held[1].wait(timeout=30)
        with self.lock:
            limited = self.rate_limits.get(method)
            if limited and limited[0] > 0 and limited[2] in (None, params.get("channel")):
                limited[0] -= 1
                call.limited = True
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(limited[1])}
            if method in self.failures:
                call.error = self.failures[method]
                return 200, {"ok": False, "error": self.failures[method]}, {}
            ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            return 200, {"ok": True, "team": "Test", "team_id": "T111", "user_id": "UBOT", "bot_id": "BBOT"}, {}
        if method == "chat.postMessage":
            call.reply_ts = ts
            return 200, {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"ts": ts}}, {}
        if method == "chat.update":
            return 200, {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}, {}
        if method == "conversations.create":
            name = str(params.get("name"))
            with self.lock:
                if name in self.taken_names:
                    return 200, {"ok": False, "error": "name_taken"}, {}
                self.taken_names.add(name)
            return 200, {"ok": True, "channel": {"id": f"C0ROOM{ts[-6:]}", "name": name}}, {}
        if method == "conversations.invite":
            with self.lock:
                self.members.setdefault(str(params.get("channel")), set()).update(
                    str(params.get("users", "")).split(",")
                )
            return 200, {"ok": True}, {}
        if method == "conversations.members":
            with self.lock:
                members = sorted(self.members.get(str(params.get("channel")), set()))
            return 200, {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}, {}
        if method == "users.info":
            return 200, {"ok": True, "user": {"id": params.get("user"), "tz": self.user_tz}}, {}
        if method == "files.getUploadURLExternal":
            file_id = f"F{ts[-6:]}"
            return (
                200,
                {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id},
                {},
            )
        if method == "files.completeUploadExternal":
            files = params.get("files")
            return 200, {"ok": True, "files": json.loads(files) if isinstance(files, str) else files or []}, {}
        if method == "conversations.open":
            if str(params.get("users")) in self.unknown_users:
                return 200, {"ok": False, "error": "user_not_found"}, {}
            return 200, {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))[1:]}}, {}
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.socket_url}, {}
        if method == "usergroups.users.list":
            return 200, {"ok": True, "users": self.usergroups.get(str(params.get("usergroup")), [])}, {}
        return 200, {"ok": True}, {}

    def rate_limit(self, method: str, times: int, retry_after: int, channel: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``channel``, if given) with 429 and Retry-After."""
        self.rate_limits[method] = [times, retry_after, channel]

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for_calls(self, method: str, count: int, timeout: float = 10.0) -> list[Call]:
        wait_for(lambda: len(self.of(method)) >= count, timeout=timeout, what=f"{count} {method} call(s)")
        return self.of(method)


def blocks_of(call: Call) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks")
    if isinstance(blocks, str):
        return list(json.loads(blocks))
    return list(blocks or [])


def text_of_blocks(blocks: list[dict[str, Any]]) -> str:
    """All visible text of a message's blocks, for assertions."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
                out.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


class RecorderProcess:
    """The recorder in a process of its own, so a load generator's GIL is not shared with it (benchmarks)."""

    def __init__(self) -> None:
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self._port = self._ctx.Queue()
        self._proc = self._ctx.Process(target=_serve_recorder, args=(self._port,), daemon=True)
        self.port = 0

    def start(self) -> RecorderProcess:
        self._proc.start()
        self.port = int(self._port.get(timeout=20))
        return self

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{token}"

    def stop(self) -> None:
        self._proc.terminate()
        self._proc.join(timeout=10)


def _serve_recorder(port_queue: Any) -> None:
    """The same answers as SlackRecorder, served by aiohttp: a stand-in fast enough not to be the bottleneck."""
    from aiohttp import web

    recorder = SlackRecorder()
    recorder.calls = _Discard()
    recorder.server.server_close()

    async def handle(request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if "json" in request.content_type:
                params.update(await request.json())
            else:
                params.update(dict(await request.post()))
        status, body, extra = recorder.answer(request.path, params, dict(request.headers))
        return web.json_response(body, status=status, headers=extra)

    serve_forever(handle, port_queue)


class _Discard(list):  # type: ignore[type-arg]
    """A call log that keeps nothing: a long benchmark should not grow the stand-in's memory."""

    def append(self, item: Any) -> None:
        return None
