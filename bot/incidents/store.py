"""Incidents in Redis (keys in ``bot.core.keys``; one hash tag per incident, so every script touches a
single Redis Cluster slot): the incident document, its timeline stream, the announcement's place, the
``INC-n`` counter, the index of incidents not closed, and which channel belongs to which incident.

Every change is a compare-and-set on ``version`` in one Lua script that also appends
the timeline entry, so a change and its record are atomic and concurrent clicks
serialise: the loser re-reads and is refused by the state machine.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from redis import exceptions as redis_errors

from bot.core import keys
from bot.core.errors import DependencyError, UserError
from bot.core.redis import Client, RedisBacked
from bot.core.severity import Severity
from bot.core.text import as_text as _text
from bot.core.timeline import TimelineEntry, from_stream
from bot.core.versioned import CAS_SCRIPT, CREATE_SCRIPT, MAX_CAS_ATTEMPTS, change_versioned
from bot.incidents.model import AlertOrigin, During, Hold, Incident, State, format_ref

log = logging.getLogger(__name__)

# Raise the INC-n counter to at least ARGV[1] (never lower it).
_RAISE_SEQ = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end
return current
"""

MAX_OPEN_ATTEMPTS = 5
ANNOUNCING_TTL = 30
SCAN_BATCH = 100
CHANGES_KEPT = 90 * 86400  # an incident's changes, for a post-mortem written weeks later


class IncidentNotFound(UserError):
    def __init__(self, number: int) -> None:
        self.number = number
        super().__init__(f"{format_ref(number)} does not exist. `/incident list` shows the incidents not closed.")


class ConcurrentChange(DependencyError):
    """A compare-and-set kept losing; should not happen outside pathological contention."""


Mutation = Callable[[Incident], tuple[Incident, TimelineEntry]]


class IncidentStore(RedisBacked):
    """Async access to incidents; every Redis failure surfaces as StoreUnavailable."""

    def __init__(self, redis: Client, description: str) -> None:
        super().__init__(redis, description)
        self._create = redis.register_script(CREATE_SCRIPT)
        self._cas = redis.register_script(CAS_SCRIPT)
        self._raise_seq = redis.register_script(_RAISE_SEQ)

    async def open(
        self,
        *,
        title: str,
        description: str,
        severity: Severity,
        opened_by: str,
        now: datetime,
        respond_by: datetime,
        during: list[During] | None = None,
        alert: AlertOrigin | None = None,
        held: Hold | None = None,
        service: str | None = None,
        team: str | None = None,
    ) -> Incident:
        """Allocate INC-n and store the new incident with its first timeline entry.

        The id comes from ``inc:seq``; if that counter fell behind (evicted, or restored from an older copy
        than the incidents), the id is taken already: the counter is moved past the highest incident and
        the next id is tried, so an existing incident is never overwritten and a new one never lost.
        """
        for _ in range(MAX_OPEN_ATTEMPTS):
            async with self.io():
                number = int(await self.redis.incr(keys.SEQ))
                incident = Incident(
                    number=number,
                    title=title,
                    description=description,
                    severity=severity,
                    opened_by=opened_by,
                    opened_at=now,
                    respond_by=respond_by,
                    during=during or [],
                    alert=alert,
                    held=held,
                    service=service,
                    team=team,
                )
                first = [now.isoformat(), opened_by, "opened", f"{severity.value}: {title}"]
                created = await self._create(
                    keys=[keys.doc(number), keys.timeline(number)], args=[incident.model_dump_json(), *first]
                )
                if created:
                    await self.redis.zadd(keys.ACTIVE, {str(number): number})
                    return incident
                highest = await self._highest_from(number)
                await self._raise_seq(keys=[keys.SEQ], args=[highest])
            log.error(
                "%s already exists: the id counter %s was behind (evicted or restored from an older copy); "
                "moved it to %s",
                format_ref(number),
                keys.SEQ,
                highest,
            )
        raise ConcurrentChange(f"no free incident id after {MAX_OPEN_ATTEMPTS} attempts; please try again")

    async def _highest_from(self, number: int) -> int:
        """The highest incident number in use, searching up from ``number`` (which is taken)."""

        async def taken(n: int) -> bool:
            return bool(await self.redis.exists(keys.doc(n)))

        low, step = number, 1
        while await taken(low + step):
            low, step = low + step, step * 2
        high = low + step  # free; everything up to low is taken
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if await taken(middle) else (low, middle)
        return low

    async def get(self, number: int) -> Incident:
        async with self.io():
            raw = await self.redis.hget(keys.doc(number), "doc")
        if raw is None:
            raise IncidentNotFound(number)
        return Incident.model_validate_json(raw)

    async def change(self, number: int, mutation: Mutation) -> tuple[Incident, TimelineEntry]:
        """Apply ``mutation`` atomically; re-read and retry when another writer got there first.

        ``mutation`` is pure and may raise (e.g. TransitionRefused), which propagates unchanged.
        """
        _, updated, entry = await change_versioned(
            self,
            self._cas,
            (keys.doc(number), keys.timeline(number)),
            lambda: self.get(number),
            mutation,
            missing=lambda: IncidentNotFound(number),
            contended=lambda: ConcurrentChange(
                f"INC-{number} changed {MAX_CAS_ATTEMPTS} times while we tried to update it; please try again"
            ),
        )
        if updated.state is State.CLOSED:
            await self._forget_active(number)
        return updated, entry

    async def recent(self, since: datetime, limit: int = 500) -> list[Incident]:
        """Incidents opened since ``since``, newest first, read back from the id counter."""
        async with self.io():
            top = int(await self.redis.get(keys.SEQ) or 0)
        found: list[Incident] = []
        number = top
        while number > 0 and len(found) < limit:
            batch = list(range(number, max(number - 100, 0), -1))
            async with self.io(), self.redis.pipeline(transaction=False) as pipe:
                for n in batch:
                    pipe.hget(keys.doc(n), "doc")
                docs = await pipe.execute()
            for raw in docs:
                if not raw:
                    continue
                incident = Incident.model_validate_json(raw)
                if incident.opened_at < since:
                    return found
                found.append(incident)
            number = batch[-1] - 1
        return found

    async def _forget_active(self, number: int) -> None:
        try:
            await self.redis.zrem(keys.ACTIVE, str(number))
        except (redis_errors.RedisError, OSError) as exc:
            log.warning("could not drop INC-%s from the active index (healed on next list): %s", number, exc)

    async def active(self) -> list[Incident]:
        """Incidents not closed, newest first.

        Read and parsed in batches, yielding to the event loop between them, so a scan of thousands
        of open incidents (reminders, reconciliation) never stalls the acknowledgement of requests.
        """
        async with self.io():
            members: list[Any] = list(await self.redis.zrevrange(keys.ACTIVE, 0, -1))
        numbers = [int(n) for n in members]
        out = []
        for start in range(0, len(numbers), SCAN_BATCH):
            batch = numbers[start : start + SCAN_BATCH]
            async with self.io(), self.redis.pipeline(transaction=False) as pipe:
                for number in batch:
                    pipe.hget(keys.doc(number), "doc")
                docs = await pipe.execute()
            for number, raw in zip(batch, docs, strict=True):
                if raw is None:  # a half-opened incident (or one lost with its doc): nothing to list
                    await self._forget_active(number)
                    continue
                incident = Incident.model_validate_json(raw)
                if incident.active:
                    out.append(incident)
                else:
                    await self._forget_active(number)
            await asyncio.sleep(0)
        return out

    async def timeline(self, number: int, limit: int | None = None) -> tuple[list[TimelineEntry], int]:
        """The first ``limit`` timeline entries (all when None) and the total count."""
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.xrange(keys.timeline(number), count=limit)
            pipe.xlen(keys.timeline(number))
            rows, total = await pipe.execute()
        entries = [from_stream(entry_id, fields) for entry_id, fields in rows]
        return entries, int(cast(int, total))

    async def last_timeline(self, number: int, count: int) -> list[TimelineEntry]:
        """The newest ``count`` entries, oldest first."""
        async with self.io():
            rows: list[Any] = list(await self.redis.xrevrange(keys.timeline(number), count=count) or [])
        return [from_stream(entry_id, fields) for entry_id, fields in reversed(rows)]

    async def keep_changes(self, number: int, entries: list[TimelineEntry]) -> None:
        """What changed in the clusters before the incident (the change feed's most suspicious), for its
        post-mortem's timeline; replaces what was kept."""
        data = json.dumps([e.model_dump(mode="json", exclude={"entry_id"}) for e in entries])
        async with self.io():
            await self.redis.set(keys.incident_changes(number), data, ex=CHANGES_KEPT)

    async def changes_before(self, number: int) -> list[TimelineEntry]:
        async with self.io():
            raw = await self.redis.get(keys.incident_changes(number))
        return [TimelineEntry.model_validate(e) for e in json.loads(raw)] if raw else []

    async def snapshot(self, number: int) -> tuple[Incident, tuple[str, str] | None]:
        """The incident and where its announcement is (channel, ts), in one round trip."""
        async with self.io():
            raw, channel, ts = await self.redis.hmget(keys.doc(number), ["doc", "ann_channel", "ann_ts"])
        if raw is None:
            raise IncidentNotFound(number)
        return Incident.model_validate_json(raw), (_text(channel), _text(ts)) if channel and ts else None

    async def where_to_reply(self, incident: Incident, wait: float = 0.0) -> tuple[str, str | None] | None:
        """Where to reply about the incident: in its room (its own channel), else in its announcement's thread (None:
        neither exists yet). With ``wait``, an announcement being posted right now is waited for that long."""
        if incident.room:
            return incident.room, None
        if wait > 0:
            return await self.posted_announcement(incident.number, wait, while_claimed=True)
        _, where = await self.snapshot(incident.number)
        return (where[0], where[1]) if where else None

    async def renew_announcement(self, number: int, ttl_seconds: int = ANNOUNCING_TTL) -> None:
        """Keep the posting lock while a slow post (rate-limit waits) is still in flight."""
        async with self.io():
            await self.redis.expire(keys.announcing(number), ttl_seconds)

    async def claim_announcement(self, number: int, ttl_seconds: int = ANNOUNCING_TTL) -> bool:
        """True for the one caller that should post the announcement (none is posted yet, lock taken)."""
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hexists(keys.doc(number), "ann_ts")
            pipe.set(keys.announcing(number), "1", nx=True, ex=ttl_seconds)
            posted, claimed = await pipe.execute()
        return bool(claimed) and not posted

    async def posted_announcement(
        self, number: int, timeout: float, *, while_claimed: bool = False, interval: float = 0.05
    ) -> tuple[str, str] | None:
        """Where the announcement is, waiting up to ``timeout`` seconds for it to be posted.

        With ``while_claimed`` the wait also ends as soon as nobody holds the posting lock
        (the post failed and was released), rather than running out the timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self.io(), self.redis.pipeline(transaction=False) as pipe:
                pipe.hmget(keys.doc(number), ["ann_channel", "ann_ts"])
                pipe.exists(keys.announcing(number))
                (channel, ts), claimed = await pipe.execute()
            if channel and ts:
                return _text(channel), _text(ts)
            if (while_claimed and not claimed) or loop.time() >= deadline:
                return None
            await asyncio.sleep(interval)

    async def release_announcement(self, number: int) -> None:
        """Give up the posting lock after a failed post, so the next change may post it."""
        await self.release(keys.announcing(number))

    async def set_announcement(self, number: int, channel: str, ts: str) -> int:
        """Remember where the announcement is; return the incident's current version."""
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.doc(number), mapping={"ann_channel": channel, "ann_ts": ts})
            pipe.hget(keys.doc(number), "version")
            _, version = await pipe.execute()
        return int(version or 0)

    async def room_of(self, channel: str) -> int | None:
        """The incident whose own channel this is, if any."""
        async with self.io():
            raw = await self.redis.get(keys.room(channel))
        return int(raw) if raw else None

    async def set_room(self, channel: str, number: int) -> None:
        async with self.io():
            await self.redis.set(keys.room(channel), str(number))

    async def version(self, number: int) -> int:
        async with self.io():
            raw = await self.redis.hget(keys.doc(number), "version")
        return int(raw or 0)
