"""Stand-ins for what the alerts feature talks to besides Slack: Atlassian Statuspage's REST API (records every
call, can answer 429 with Retry-After, 5xx or 401 a number of times first, or take a create and answer it only after
the client gave up; lists the unresolved incidents) and Alertmanager's ``/api/v2/alerts``."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from demo.standin import Fault, Reply, Request, StandIn


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any]
    authorization: str
    answered: int


class StatuspageStandIn(StandIn):
    KEY = "sp-test-key-0123456789"

    def __init__(self) -> None:
        super().__init__()
        self.incidents: dict[str, dict[str, Any]] = {}
        self.slow: list[float] = []  # the next creates: done at once, answered only after these many seconds
        self.start()

    @property
    def calls(self) -> list[Call]:
        with self.lock:
            return [
                Call(r.method, r.path, r.json(), r.headers.get("Authorization", ""), status)
                for r, status in self.requests
            ]

    def fail_next(self, status: int, times: int = 1, **headers: str) -> None:
        self.fail(*[Fault(status, dict(headers), body={"error": "stand-in fault"})] * times)

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.answered < 300]

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """The next ``times`` creates are made at once but answered only after ``seconds`` (past the client's
        timeout: it cannot tell whether they were made)."""
        with self.lock:
            self.slow.extend([seconds] * times)

    def _answer(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != f"OAuth {self.KEY}":  # refused before any fault or state
            with self.lock:
                self.requests.append((request, 401))
            return Reply(401, {"error": "Could not authenticate"})
        creating = request.method == "POST" and request.path.endswith("/incidents")
        with self.lock:
            delay = self.slow.pop(0) if creating and self.slow else None
        if delay is None:
            return super()._answer(request)
        reply = self.handle(request)  # made now; the answer arrives after the client stopped waiting
        time.sleep(delay)
        with self.lock:
            self.requests.append((request, reply.status))
        return reply

    def handle(self, request: Request) -> Reply:
        incident = request.json().get("incident") or {}
        with self.lock:
            if request.method == "POST" and request.path.endswith("/incidents"):
                page_id = uuid.uuid4().hex[:12]
                self.incidents[page_id] = {"id": page_id, **incident}
                return Reply(201, self.incidents[page_id])
            if request.method == "GET" and request.path.endswith("/incidents/unresolved"):
                open_ = [i for i in self.incidents.values() if i.get("status") not in ("resolved", "postmortem")]
                return Reply(200, list(reversed(open_)))  # newest first, as Statuspage lists them
            if request.method == "PATCH" and "/incidents/" in request.path:
                page_id = request.path.rsplit("/", 1)[1]
                if page_id not in self.incidents:
                    return Reply(404, {"error": "not found"})
                self.incidents[page_id].update(incident)
                return Reply(200, self.incidents[page_id])
        return Reply(404, {"error": "not found"})


# ALERTMANAGER_AUTH as the tests set it (Basic and Bearer); the session's logs are scanned for them.
ALERTMANAGER_USER = "am-reader"
ALERTMANAGER_PASSWORD = "am-pass-3f9c0e71b25d"
ALERTMANAGER_TOKEN = "am-token-8d41a6c09e7f2b35"


class AlertmanagerStandIn(StandIn):
    """``GET /api/v2/alerts``: the alerts set by the test (or 503 when ``down``; 401 without the ``Authorization``
    header ``authorization`` when that is set, as Alertmanager behind a proxy with basic auth or a bearer token)."""

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[dict[str, Any]] = []
        self.down = False
        self.authorization: str | None = None
        self.start()

    @property
    def authorizations(self) -> list[str | None]:
        with self.lock:
            return [r.headers.get("Authorization") for r, _ in self.requests]

    @property
    def queries(self) -> list[str]:
        with self.lock:
            return [r.target for r, _ in self.requests]

    def handle(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, {"error": "down"})
        if self.authorization is not None and request.headers.get("Authorization") != self.authorization:
            return Reply(401, {"error": "Unauthorized"})
        if request.method == "GET" and request.path == "/api/v2/alerts":
            return Reply(200, self.alerts)
        return Reply(404, {"error": "not found"})
