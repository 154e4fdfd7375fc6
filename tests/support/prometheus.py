"""A stand-in for the Prometheus HTTP API: /api/v1/query answers from a table of canned values."""

from __future__ import annotations

from typing import Any

from tests.support.standin import Reply, Request, StandIn


class FakePrometheus(StandIn):
    def __init__(self, values: dict[str, float | str | dict[str, Any] | None]) -> None:
        """``values``: PromQL → number (a one-series vector), None (empty result), "error:<message>", or a dict: the
        answer's ``data`` as Prometheus gives it (``{"resultType": "scalar", "result": [<time>, "<value>"]}``, …)."""
        super().__init__()
        self.values = values
        self.start()

    @property
    def queries(self) -> list[str]:
        with self.lock:
            return [r.param("query") for r, _ in self.requests]

    @property
    def authorizations(self) -> list[str | None]:
        with self.lock:
            return [r.headers.get("Authorization") for r, _ in self.requests]

    def handle(self, request: Request) -> Reply:
        value = self.values.get(request.param("query"))
        if isinstance(value, str) and value.startswith("error:"):
            return Reply(400, {"status": "error", "errorType": "bad_data", "error": value[6:]})
        if isinstance(value, dict):
            return Reply(200, {"status": "success", "data": value})
        if value is None:
            return Reply(200, {"status": "success", "data": {"resultType": "vector", "result": []}})
        sample = {"metric": {}, "value": [1700000000.0, str(value)]}
        return Reply(200, {"status": "success", "data": {"resultType": "vector", "result": [sample]}})
