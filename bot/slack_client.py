"""The Slack Web API client: ``SLACK_API_URL`` as base URL, with rate-limit and connection retries."""

from __future__ import annotations

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

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
