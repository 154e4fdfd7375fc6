"""Stand-ins for what the alerts feature talks to besides Slack: Atlassian Statuspage's REST API (records every
call, can answer 429 with Retry-After, 5xx or 401 a number of times first) and Alertmanager's ``/api/v2/alerts``."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str
    answered: int


@dataclass
class Faults:
    queue: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (status, headers), answered first


class _Server:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw) if raw else {}
                status, answer, headers = owner.handle(method, self.path, body, self.headers.get("Authorization", ""))
                self._answer(status, answer, headers)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, method: str, path: str, body: dict[str, Any], auth: str) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StatuspageStandIn(_Server):
    KEY = "sp-test-key-0123456789"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults = Faults()
        self.incidents: dict[str, dict[str, Any]] = {}
        super().__init__()

    def fail_next(self, status: int, times: int = 1, **headers: str) -> None:
        with self.lock:
            self.faults.queue += [(status, dict(headers))] * times

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.answered < 300]

    def handle(self, method: str, path: str, body: dict[str, Any], auth: str) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            if auth != f"OAuth {self.KEY}":
                self.calls.append(Call(method, path, body, auth, 401))
                return 401, {"error": "Could not authenticate"}, {}
            if self.faults.queue:
                status, headers = self.faults.queue.pop(0)
                self.calls.append(Call(method, path, body, auth, status))
                return status, {"error": "stand-in fault"}, headers
            incident = body.get("incident") or {}
            if method == "POST" and path.endswith("/incidents"):
                page_id = uuid.uuid4().hex[:12]
                self.incidents[page_id] = {"id": page_id, **incident}
                self.calls.append(Call(method, path, body, auth, 201))
                return 201, self.incidents[page_id], {}
            if method == "PATCH" and "/incidents/" in path:
                page_id = path.rsplit("/", 1)[1]
                if page_id not in self.incidents:
                    self.calls.append(Call(method, path, body, auth, 404))
                    return 404, {"error": "not found"}, {}
                self.incidents[page_id].update(incident)
                self.calls.append(Call(method, path, body, auth, 200))
                return 200, self.incidents[page_id], {}
            self.calls.append(Call(method, path, body, auth, 404))
            return 404, {"error": "not found"}, {}


class AlertmanagerStandIn(_Server):
    """``GET /api/v2/alerts``: the alerts set by the test (or 503 when ``down``)."""

    def __init__(self) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.down = False
        self.queries: list[str] = []
        super().__init__()

    def handle(self, method: str, path: str, body: dict[str, Any], auth: str) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.queries.append(path)
            if self.down:
                return 503, {"error": "down"}, {}
            if method == "GET" and path.startswith("/api/v2/alerts"):
                return 200, self.alerts, {}
            return 404, {"error": "not found"}, {}
