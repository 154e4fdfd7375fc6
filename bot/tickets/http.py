"""One HTTP call to a tracker (aiohttp, as the status page): answered, or ``TrackerDown`` (no answer in time, 429,
5xx; with the Retry-After it asked for) or ``TrackerRefused`` (another 4xx, with what to fix). Tokens go only in
the ``Authorization`` header and are never part of a message or a log line."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from bot.core import telemetry
from bot.tickets.model import TRACKER_NAMES, TrackerDown, TrackerRefused

log = logging.getLogger(__name__)

HINTS = {
    401: "check {token}",
    403: "{token} may not do this",
    404: "check the config's {what}",
    400: "check the config's {what}",
    422: "check the config's {what}",
}
SAID_MAX = 160


class Down(TrackerDown):
    def __init__(self, message: str, retry_after: float | None = None, unsure: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.unsure = unsure  # it may have been carried out (no answer, 5xx): look before doing it again


def _said(text: str) -> str:
    """What the tracker said, short and on one line (never our own request)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:SAID_MAX].replace("\n", " ")
    if isinstance(data, dict):
        parts = [*map(str, data.get("errorMessages") or [])]
        errors = data.get("errors")
        if isinstance(errors, dict):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        elif isinstance(errors, list):
            parts += [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors]
        if data.get("message"):
            parts.append(str(data["message"]))
        if parts:
            return "; ".join(parts)[:SAID_MAX].replace("\n", " ")
    return text[:SAID_MAX].replace("\n", " ")


def _limited(status: int, text: str, exhausted: bool, retry_after: bool) -> bool:
    """A rate limit, though not a 429: GitHub's primary (403, ``X-RateLimit-Remaining: 0``) and secondary one (403
    with a Retry-After, or its message "secondary rate limit", the remaining count not spent), Linear's
    ``RATELIMITED`` (400)."""
    if status == 403:
        return exhausted or retry_after or "SECONDARY RATE LIMIT" in text.upper()
    return status == 400 and "RATELIMITED" in text.upper()


async def call(
    tracker: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    timeout: float,
    token: str,
    what: str,
    body: Any = None,
    params: dict[str, str] | None = None,
) -> Any:
    """The decoded answer (None for an empty one). ``token``: the variable that holds the credentials (named in a
    refusal), ``what``: the config's setting a 404 points at."""
    name = TRACKER_NAMES[tracker]
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.request(method, url, json=body, params=params, headers=headers) as resp,
        ):
            text = await resp.text()
            status = resp.status
            retry_after = resp.headers.get("Retry-After", "")
            exhausted = resp.headers.get("X-RateLimit-Remaining") == "0"
    except aiohttp.ClientConnectorError as exc:  # never reached it: nothing was done
        telemetry.TICKET_CALLS.labels(tracker=tracker, outcome="down").inc()
        raise Down(f"{name} is not reachable ({type(exc).__name__})") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        telemetry.TICKET_CALLS.labels(tracker=tracker, outcome="down").inc()
        why = f"no answer within {timeout:.0f} s" if isinstance(exc, TimeoutError) else type(exc).__name__
        raise Down(f"{name} did not answer ({why})", unsure=True) from None
    if 200 <= status < 300:
        telemetry.TICKET_CALLS.labels(tracker=tracker, outcome="ok").inc()
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            raise Down(f"{name} answered {status} with something that is not JSON", unsure=True) from None
    limited = _limited(status, text, exhausted, bool(retry_after))
    if status == 429 or status >= 500 or limited:
        telemetry.TICKET_CALLS.labels(tracker=tracker, outcome="down").inc()
        after = float(retry_after) if retry_after.isdigit() else None
        label = "429 Too Many Requests" if status == 429 else f"{status} (rate limited)" if limited else f"{status}"
        raise Down(f"{name} answered {label}", retry_after=after, unsure=status >= 500)
    telemetry.TICKET_CALLS.labels(tracker=tracker, outcome="refused").inc()
    hint = HINTS.get(401 if "AUTHENTICATION" in text.upper() else status, "").format(token=token, what=what)
    said = _said(text)
    log.warning("%s refused %s %s: %s %s", name, method, url.split("?", 1)[0], status, said)
    raise TrackerRefused(f"{name} refused it: {status} {said}" + (f" ({hint})" if hint else ""), status)
