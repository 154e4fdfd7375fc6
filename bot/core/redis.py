"""Connecting to Redis: ``REDIS_URL`` in production, an embedded server for trying it out (``bot.core.embedded_redis``).

``REDIS_URL`` schemes:

- ``redis://``, ``rediss://``, ``unix://``: one server (or a managed endpoint in front of one);
- ``redis+cluster://host:port[,host:port…]`` and ``rediss+cluster://``: Redis Cluster (ElastiCache cluster
  mode); the nodes named are where discovery starts;
- ``redis+sentinel://[:password@]host:26379[,host:26379…]/<master name>[/<db>]`` (``rediss+sentinel://`` for
  TLS to the data nodes): the master that Sentinel names, followed across failovers.

Every key one script or transaction touches shares a hash tag (``bot.core.keys``), so the same code runs on all
three.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from bot.core import keys
from bot.core.errors import DependencyError
from bot.core.private import private_dir, private_umask
from bot.core.redis_url import describe_url, parse_url

log = logging.getLogger(__name__)

_TIMEOUTS: dict[str, Any] = {
    "socket_connect_timeout": 1.0,
    "socket_timeout": 2.0,
    "health_check_interval": 15,
    "decode_responses": True,
}
# One server (and Sentinel's master): one quick retry; the cluster client has its own, which re-reads the
# slot map after a failover.
_SINGLE: dict[str, Any] = {**_TIMEOUTS, "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=1)}


# The client: one server, or a cluster. Both offer the same commands, pipelines and scripts the stores use.
Client = Redis | RedisCluster


class StoreUnavailable(DependencyError):
    """The state store (Redis) could not be reached or answered with an error."""


class RedisBacked:
    """Base for the stores: ``async with self.io():`` turns any Redis failure into StoreUnavailable."""

    def __init__(self, redis: Client, description: str) -> None:
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
        """A real write and read (``/readyz``): a server that answers PING but cannot serve keys is not ready."""
        token = secrets.token_hex(4)
        try:
            await self.redis.set(keys.READY_PROBE, token, ex=10)
            return bool(await self.redis.get(keys.READY_PROBE) is not None)
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
    client: Client
    description: str
    _embedded: Any = field(default=None, repr=False)

    async def close(self) -> None:
        await self.client.aclose()
        if self._embedded is not None:
            self._embedded.shutdown()


def open_client(url: str) -> Client:
    """The client for ``url`` (nothing is connected until the first command)."""
    target = parse_url(url)
    user, password = target.username, target.password
    if target.kind == "cluster":
        nodes = [ClusterNode(host, port) for host, port in target.hosts]
        return RedisCluster(startup_nodes=nodes, ssl=target.tls, username=user, password=password, **_TIMEOUTS)
    if target.kind == "sentinel":
        assert target.master is not None
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.hosts),
            sentinel_kwargs={
                "socket_connect_timeout": 1.0,
                "socket_timeout": 2.0,
                "username": user,
                "password": password,
            },
            **_SINGLE,
        )
        master: Redis = sentinel.master_for(
            target.master, db=target.db, ssl=target.tls, username=user, password=password
        )
        return master
    return Redis.from_url(url, **_SINGLE)


def connect(redis_url: str | None, data_dir: Path) -> RedisConnection:
    """Open a client for ``redis_url``; with none, start an embedded server persisted under ``data_dir``."""
    if redis_url:
        return RedisConnection(open_client(redis_url), describe_url(redis_url))
    from bot.core.embedded_redis import EmbeddedRedis  # noqa: PLC0415 - production never needs it

    private_dir(data_dir)  # incident state: the user's alone (0700, files 0600)
    embedded = EmbeddedRedis(data_dir / "redis.db")
    with private_umask():  # the server inherits it: its snapshots are written 0600 too
        socket_file = embedded.start()
    log.warning(
        "REDIS_URL is not set: using an embedded Redis persisted in %s. This is for trying chatops-bot out; "
        "production sets REDIS_URL to a Redis with AOF persistence.",
        data_dir,
    )
    client = Redis(unix_socket_path=socket_file, **_SINGLE)
    return RedisConnection(client, f"embedded Redis in {data_dir}", embedded)
