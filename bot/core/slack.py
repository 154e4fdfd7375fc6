"""The Slack Web API client (``SLACK_API_URL`` as base URL, with rate-limit and connection retries), and
one way to say that a call failed."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import telemetry

log = logging.getLogger(__name__)

SLACK_ERRORS: tuple[type[Exception], ...] = (SlackApiError, ClientError, TimeoutError, OSError)


def build_client(token: str, base_url: str, timeout: int = 10) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def error_code(exc: BaseException) -> str:
    """Slack's error code (``channel_not_found``), or the exception's name for a transport failure."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or "error")
    return type(exc).__name__


TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def transient(exc: BaseException) -> bool:
    """Whether the same call may succeed later: no answer, or Slack's own trouble (``ratelimited``, a 5xx); not a
    refusal that stays one (``not_in_channel``, ``channel_not_found``, ``is_archived``, ``invalid_blocks``…)."""
    if not isinstance(exc, SlackApiError):
        return True
    return error_code(exc) in TRANSIENT_ERRORS or getattr(exc.response, "status_code", 200) >= 500


def failed(method: str, what: str, exc: BaseException, level: int = logging.ERROR) -> str:
    """Count and log a Web API call that failed after its retries; return Slack's error code."""
    code = error_code(exc)
    telemetry.SLACK_API_ERRORS.labels(method=method).inc()
    log.log(level, "Slack %s for %s failed: %s", method, what, code)
    return code


async def user_timezone(client: AsyncWebClient, user_id: str, fallback: ZoneInfo) -> ZoneInfo:
    """The person's own time zone (users.info), else ``fallback``."""
    try:
        resp = await client.users_info(user=user_id)
        return ZoneInfo(str(resp["user"]["tz"]))
    except SLACK_ERRORS:
        return fallback
    except (KeyError, TypeError, ZoneInfoNotFoundError, ValueError):
        return fallback
