"""Stand-ins for what the alerts feature talks to besides Slack: Atlassian Statuspage's REST API (records every
call, can answer 429 with Retry-After, 5xx or 401 a number of times first) and Alertmanager's ``/api/v2/alerts``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.standin import Fault, Reply, Request, StandIn


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

    def _answer(self, request: Request) -> Reply:
        if request.headers.get("Authorization") != f"OAuth {self.KEY}":  # refused before any fault or state
            with self.lock:
                self.requests.append((request, 401))
            return Reply(401, {"error": "Could not authenticate"})
        return super()._answer(request)

    def handle(self, request: Request) -> Reply:
        incident = request.json().get("incident") or {}
        with self.lock:
            if request.method == "POST" and request.path.endswith("/incidents"):
                page_id = uuid.uuid4().hex[:12]
                self.incidents[page_id] = {"id": page_id, **incident}
                return Reply(201, self.incidents[page_id])
            if request.method == "PATCH" and "/incidents/" in request.path:
                page_id = request.path.rsplit("/", 1)[1]
                if page_id not in self.incidents:
                    return Reply(404, {"error": "not found"})
                self.incidents[page_id].update(incident)
                return Reply(200, self.incidents[page_id])
        return Reply(404, {"error": "not found"})


class AlertmanagerStandIn(StandIn):
    """``GET /api/v2/alerts``: the alerts set by the test (or 503 when ``down``)."""

    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[dict[str, Any]] = []
        self.down = False
        self.start()

    @property
    def queries(self) -> list[str]:
        with self.lock:
            return [r.target for r, _ in self.requests]

    def handle(self, request: Request) -> Reply:
        if self.down:
            return Reply(503, {"error": "down"})
        if request.method == "GET" and request.path == "/api/v2/alerts":
            return Reply(200, self.alerts)
        return Reply(404, {"error": "not found"})
