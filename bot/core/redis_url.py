"""``REDIS_URL`` taken apart (pure, no Redis client needed): checked by the settings, used by the connection."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

SCHEMES = ("redis", "rediss", "unix", "redis+cluster", "rediss+cluster", "redis+sentinel", "rediss+sentinel")


@dataclass(frozen=True)
class RedisTarget:
    """A ``REDIS_URL`` taken apart: the kind of deployment, its hosts, and the rest."""

    kind: str  # "single", "cluster" or "sentinel"
    tls: bool
    hosts: tuple[tuple[str, int], ...]
    username: str | None
    password: str | None
    master: str | None = None
    db: int = 0


def parse_url(url: str) -> RedisTarget:
    """Split a cluster or Sentinel URL (a single server's URL is left to redis-py); ValueError says what is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in SCHEMES:
        raise ValueError(f"must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    tls = scheme.startswith("rediss")
    if "+" not in scheme:
        return RedisTarget("single", tls, (), None, None)
    kind = scheme.split("+", 1)[1]
    userinfo, at, location = rest.rpartition("@")
    netloc, _, path = location.partition("/")
    username, _, password = userinfo.partition(":") if at else ("", "", "")
    hosts = []
    for item in filter(None, netloc.split(",")):
        host, colon, port = item.rpartition(":")
        if not colon or not port.isdigit():
            raise ValueError(f"{item!r} is not host:port")
        hosts.append((host.strip("[]"), int(port)))
    if not hosts:
        raise ValueError("name at least one host:port")
    parts = [p for p in path.split("/") if p]
    master, db = None, 0
    if kind == "sentinel":
        if not parts:
            raise ValueError("name the master after the hosts: redis+sentinel://h1:26379,h2:26379/mymaster/0")
        master = unquote(parts[0])
        if len(parts) > 1:
            if not parts[1].isdigit():
                raise ValueError(f"{parts[1]!r} is not a database number")
            db = int(parts[1])
    return RedisTarget(kind, tls, tuple(hosts), unquote(username) or None, unquote(password) or None, master, db)


def describe_url(url: str) -> str:
    """A loggable description of a Redis URL: kind, hosts and ports, never credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"Redis at {parts.path}"
    if "+" in parts.scheme:
        target = parse_url(url)
        hosts = ",".join(f"{h}:{p}" for h, p in target.hosts)
        if target.kind == "cluster":
            return f"Redis Cluster at {hosts}"
        return f"Redis master {target.master!r} via Sentinel at {hosts}"
    return f"Redis at {parts.hostname or 'localhost'}:{parts.port or 6379}"
