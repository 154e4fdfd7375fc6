"""``POST /alerts/alertmanager``: Alertmanager's (and Grafana's) webhook, and ``POST /heartbeat/<name>`` (a job's
check-in), served only when ALERTS_TOKEN is set.

``Authorization: Bearer <ALERTS_TOKEN>`` compared in constant time (401 otherwise, logged once per address per
minute); a body over 1 MiB is refused with 413 before it is read (bot.runtime.limits); malformed JSON or a payload
without ``alerts`` gets 400 with a one-line reason. None of these touch Redis. A state store that is down answers
503, so Alertmanager sends the group again.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from bot.alerts.heartbeat import Heartbeats
from bot.alerts.payload import BadPayload, parse
from bot.alerts.service import AlertService
from bot.core import telemetry
from bot.core.errors import DependencyError

log = logging.getLogger(__name__)

QUIET_FOR = 60.0  # a refused address is logged once a minute


class RefusalLog:
    """Logs a refused source address at most once per minute (a scanner must not flood the log)."""

    def __init__(self, quiet_for: float = QUIET_FOR) -> None:
        self.quiet_for = quiet_for
        self._last: dict[str, float] = {}

    def refused(self, address: str, why: str) -> None:
        now = time.monotonic()
        if now - self._last.get(address, -self.quiet_for) < self.quiet_for:
            return
        if len(self._last) > 10_000:  # forget the oldest addresses rather than grow without bound
            self._last = {a: t for a, t in self._last.items() if now - t < self.quiet_for}
        self._last[address] = now
        log.warning("alert webhook refused from %s: %s", address, why)


def _authorized(request: Request, expected: bytes, refusals: RefusalLog) -> Response | None:
    """None when the request carries ``Authorization: Bearer <ALERTS_TOKEN>``, else the 401 to answer."""
    address = request.client.host if request.client else "?"
    given = request.headers.get("authorization", "").encode()
    if hmac.compare_digest(given, expected):
        return None
    refusals.refused(address, "missing authorization" if not given else "wrong token")
    telemetry.ALERT_WEBHOOKS.labels(outcome="unauthorized").inc()
    return PlainTextResponse("unauthorized: send Authorization: Bearer <ALERTS_TOKEN>\n", status_code=401)


def endpoint(token: str, alerts: AlertService) -> Callable[[Request], Awaitable[Response]]:
    expected = f"Bearer {token}".encode()
    refusals = RefusalLog()

    async def receive(request: Request) -> Response:
        refused = _authorized(request, expected, refusals)
        if refused is not None:
            return refused
        try:
            payload = parse(await request.body())
        except BadPayload as exc:
            telemetry.ALERT_WEBHOOKS.labels(outcome="bad_payload").inc()
            return PlainTextResponse(f"bad payload: {exc}\n", status_code=400)
        try:
            outcome = await alerts.receive(payload)
        except DependencyError as exc:  # the state store is down (or another request is stuck opening the group)
            telemetry.ALERT_WEBHOOKS.labels(outcome="unavailable").inc()
            return PlainTextResponse(f"not stored, send it again: {exc}\n", status_code=503)
        telemetry.ALERT_WEBHOOKS.labels(outcome=outcome.action).inc()
        return JSONResponse(outcome.as_json())

    return receive


def heartbeat_endpoint(token: str, heartbeats: Heartbeats) -> Callable[[Request], Awaitable[Response]]:
    """``POST /heartbeat/<name>``: a job of ``heartbeats`` checks in (Bearer ALERTS_TOKEN)."""
    expected = f"Bearer {token}".encode()
    refusals = RefusalLog()

    async def check_in(request: Request) -> Response:
        refused = _authorized(request, expected, refusals)
        if refused is not None:
            return refused
        name = str(request.path_params.get("name", ""))
        switch = heartbeats.job(name)
        if switch is None:
            telemetry.ALERT_WEBHOOKS.labels(outcome="unknown_heartbeat").inc()
            shown = name[:64] if name.isascii() and name.replace("-", "").isalnum() else "that name"
            return PlainTextResponse(f"no heartbeat named {shown} in `heartbeats` of the config\n", status_code=404)
        try:
            await heartbeats.beat(switch, "POST /heartbeat")
        except DependencyError as exc:
            telemetry.ALERT_WEBHOOKS.labels(outcome="unavailable").inc()
            return PlainTextResponse(f"not stored, send it again: {exc}\n", status_code=503)
        telemetry.ALERT_WEBHOOKS.labels(outcome="heartbeat").inc()
        return JSONResponse({"status": "ok", "heartbeat": name, "missing_after_seconds": int(
            switch.missing_after.total_seconds())})  # fmt: skip

    return check_in
