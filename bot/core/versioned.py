"""Versioned documents with a timeline in Redis (an incident, a maintenance window): the document and its ``version``
in one hash, its timeline in a stream, changed together by compare-and-set in one Lua script, so a change and its
record are atomic and concurrent writers serialise (the loser re-reads; its mutation decides again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from bot.core.redis import RedisBacked
from bot.core.text import as_text as _text
from bot.core.timeline import TimelineEntry

# Each timeline (an incident's, a window's) keeps its newest ~10,000 entries (anyone may post updates; a stream must
# not grow without bound). Far more than any real incident or window records.
TIMELINE_MAXLEN = 10_000

CREATE_SCRIPT = f"""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[1], 'version', '1')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', {TIMELINE_MAXLEN}, '*', 'at', ARGV[2], 'actor', ARGV[3], 'kind', ARGV[4],
           'text', ARGV[5])
return 1
"""

CAS_SCRIPT = """
local current = redis.call('HGET', KEYS[1], 'version')
if not current then return {'missing'} end
if current ~= ARGV[1] then return {'conflict', current} end
redis.call('HSET', KEYS[1], 'doc', ARGV[2], 'version', ARGV[3])
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[8], '*', 'at', ARGV[4], 'actor', ARGV[5], 'kind', ARGV[6],
                      'text', ARGV[7])
return {'ok', id}
"""

MAX_CAS_ATTEMPTS = 50


class Versioned(Protocol):
    @property
    def version(self) -> int: ...

    def model_dump_json(self) -> str: ...


V = TypeVar("V", bound=Versioned)


async def change_versioned(
    store: RedisBacked,
    cas: Callable[..., Awaitable[Any]],
    keys_: tuple[str, str],
    read: Callable[[], Awaitable[V]],
    mutation: Callable[[V], tuple[V, TimelineEntry]],
    *,
    missing: Callable[[], Exception],
    contended: Callable[[], Exception],
) -> tuple[V, V, TimelineEntry]:
    """The compare-and-set loop of a versioned document and its timeline (``keys_``: incidents, maintenance
    windows): read, mutate, write both in ``CAS_SCRIPT`` if the version is still the one read; on a conflict, read
    again. (current, updated, the entry with its stream id); ``missing()`` is raised when the document is gone,
    ``contended()`` when every one of MAX_CAS_ATTEMPTS lost. ``updated.version`` is the version written (the
    mutation sets it)."""
    for _ in range(MAX_CAS_ATTEMPTS):
        current = await read()
        updated, entry = mutation(current)
        async with store.io():
            result = await cas(
                keys=list(keys_),
                args=[
                    str(current.version),
                    updated.model_dump_json(),
                    str(updated.version),
                    entry.at.isoformat(),
                    entry.actor,
                    entry.kind,
                    entry.text,
                    TIMELINE_MAXLEN,
                ],
            )
        status = _text(result[0])
        if status == "ok":
            return current, updated, entry.model_copy(update={"entry_id": _text(result[1])})
        if status == "missing":
            raise missing()
    raise contended()
