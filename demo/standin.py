"""The one way the tests stand in for a third-party HTTP API (Statuspage, Alertmanager, Prometheus, the EKS calls
moto lacks, AWS answering AccessDenied): a threaded HTTP server on a free loopback port that records every request
and answers through ``handle``; faults queued first (a status with headers, such as 429 with Retry-After, or a
delay), and requests forwarded to another server (moto) where the stand-in only adds to it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "server", "date"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    target: str  # the raw path and query

    def json(self) -> Any:
        return json.loads(self.body) if self.body else {}

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)  # bytes as they are; anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow API); with status 0 the real answer follows the delay
    body: Any = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    """As a real API takes them: hundreds of connections at once (socketserver's default backlog is 5, and a burst
    past it waits out TCP's retransmits)."""

    request_queue_size = 1024


class StandIn:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[Request, int]] = []  # each request and the status it was answered with
        self.faults: list[Fault] = []
        self.arrived: Callable[[Request], None] = lambda _: None  # run as each request arrives, before its answer
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body, self.path)
                reply = owner._answer(request)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for key, value in headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *_: None  # type: ignore[method-assign]  # a client that hung up: fine
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, *faults: Fault) -> None:
        """Answer the next requests with these faults, one each, before answering normally again."""
        with self.lock:
            self.faults.extend(faults)

    def _answer(self, request: Request) -> Reply:
        self.arrived(request)
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        reply = Reply(fault.status, fault.body, fault.headers) if fault is not None and fault.status else None
        if reply is None:
            reply = self.handle(request)
        with self.lock:
            self.requests.append((request, reply.status))
        return reply

    def handle(self, request: Request) -> Reply:
        return Reply(404, {"message": f"no {request.method} {request.path} here"})


def forward(request: Request, base_url: str) -> Reply:
    """The same request sent on to ``base_url`` (moto), and its answer."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    outgoing = urllib.request.Request(
        base_url.rstrip("/") + request.target, data=request.body or None, headers=headers, method=request.method
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=30) as resp:
            return Reply(resp.status, resp.read(), dict(resp.headers))
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), dict(exc.headers))
