"""On-call state in Redis: durable escalation deadlines, overrides, the rotation anchor.

Keys (``bot.core.keys``): ``{esc}:due`` (incident → when its next page is due), ``{esc}:pending``
(incident → lease expiry while a replica pages it), ``inc:{42}:esc`` (``next_step``, ``sent:<step>``
markers and ``early:<step>``: page that step at once, the person before could not be reached; in the
incident's slot), ``oncall:anchor``, ``oncall:override``, ``oncall:timeline``.

A claim moves due numbers (and pending ones whose lease ran out: their replica died) into
``pending`` in one Lua script, so each due page is taken by exactly one replica, and a page
claimed by a process that crashed before sending is taken again once the lease expires.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from bot.core import keys
from bot.core.redis import Client, RedisBacked
from bot.incidents.model import Incident, TimelineEntry
from bot.incidents.store import TIMELINE_MAXLEN

_CLAIM = """
local out = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(expired) do
  redis.call('ZADD', KEYS[2], ARGV[2], m)
  table.insert(out, m)
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(due) do
  redis.call('ZREM', KEYS[1], m)
  redis.call('ZADD', KEYS[2], ARGV[2], m)
  table.insert(out, m)
end
return out
"""

_COMPLETE = """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1]) end
return 1
"""

_CANCEL = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""

_RECORD_PAGE = """
if redis.call('HSETNX', KEYS[1], 'sent:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'next_step', tonumber(ARGV[1]) + 1)
if ARGV[6] == '1' then redis.call('HSET', KEYS[1], 'early:' .. (tonumber(ARGV[1]) + 1), '1') end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'at', ARGV[2], 'actor', ARGV[3], 'kind', ARGV[4],
           'text', ARGV[5])
return 1
"""


class OnCallStore(RedisBacked):
    def __init__(self, redis: Client, description: str) -> None:
        super().__init__(redis, description)
        self._claim = redis.register_script(_CLAIM)
        self._complete = redis.register_script(_COMPLETE)
        self._cancel = redis.register_script(_CANCEL)
        self._record = redis.register_script(_RECORD_PAGE)

    async def arm(self, number: int, due: datetime) -> None:
        async with self.io():
            await self.redis.zadd(keys.DUE, {str(number): due.timestamp()})

    async def move(self, number: int, due: datetime) -> None:
        """Change the due time of a scheduled page (not of one being sent right now)."""
        async with self.io():
            await self.redis.zadd(keys.DUE, {str(number): due.timestamp()}, xx=True)

    async def cancel(self, number: int) -> None:
        async with self.io():
            await self._cancel(keys=[keys.DUE, keys.PENDING], args=[str(number)])

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 200) -> list[int]:
        async with self.io():
            members = await self._claim(
                keys=[keys.DUE, keys.PENDING], args=[now.timestamp(), lease_until.timestamp(), limit]
            )
        return [int(m) for m in members]

    async def renew(self, number: int, lease_until: datetime) -> None:
        """Extend the claim on ``number`` while it is being paged (only if it is still claimed)."""
        async with self.io():
            await self.redis.zadd(keys.PENDING, {str(number): lease_until.timestamp()}, xx=True)

    async def complete(self, number: int, next_due: datetime | None) -> None:
        """Release a claimed number, scheduling its next page if there is one."""
        async with self.io():
            await self._complete(
                keys=[keys.DUE, keys.PENDING], args=[str(number), "" if next_due is None else next_due.timestamp()]
            )

    async def is_scheduled(self, numbers: list[int]) -> set[int]:
        if not numbers:
            return set()
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            for number in numbers:
                pipe.zscore(keys.DUE, str(number))
                pipe.zscore(keys.PENDING, str(number))
            scores = await pipe.execute()
        return {n for i, n in enumerate(numbers) if scores[2 * i] is not None or scores[2 * i + 1] is not None}

    async def state(self, number: int) -> tuple[Incident | None, int, bool, bool]:
        """The incident, its next step (1 if never paged), whether that step was already sent, and
        whether it is due at once (the person before could not be reached)."""
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(keys.doc(number), "doc")
            pipe.hgetall(keys.escalation(number))
            raw, esc = await pipe.execute()
        incident = Incident.model_validate_json(raw) if raw else None
        step = int(esc.get("next_step", 1))
        return incident, step, f"sent:{step}" in esc, f"early:{step}" in esc

    async def record_page(self, number: int, step: int, entry: TimelineEntry, *, next_at_once: bool = False) -> bool:
        """Mark ``step`` done and add its timeline entry, once; False if it was already recorded.

        ``next_at_once`` makes the following step due immediately (this step's person was unreachable).
        """
        flag = "1" if next_at_once else ""
        async with self.io():
            done = await self._record(
                keys=[keys.escalation(number), keys.timeline(number)],
                args=[str(step), entry.at.isoformat(), entry.actor, entry.kind, entry.text, flag, TIMELINE_MAXLEN],
            )
        return bool(done)

    async def anchor(self, default: date) -> date:
        """The rotation's week-0 hand-off day: fixed in Redis on first use, shared by every replica."""
        async with self.io():
            await self.redis.set(keys.ONCALL_ANCHOR, default.isoformat(), nx=True)
            value = await self.redis.get(keys.ONCALL_ANCHOR)
        return date.fromisoformat(str(value)) if value else default

    async def override(self, now: datetime) -> dict[str, Any] | None:
        async with self.io():
            raw = await self.redis.get(keys.ONCALL_OVERRIDE)
        if not raw:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data if datetime.fromisoformat(data["until"]) > now else None

    async def set_override(self, user: str, until: datetime, by: str, now: datetime) -> None:
        payload = json.dumps({"user": user, "until": until.isoformat(), "by": by, "at": now.isoformat()})
        ttl = max(int((until - now).total_seconds()), 1)
        # Two keys in two Redis Cluster slots: one pipeline, not a transaction (the record follows the change).
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.ONCALL_OVERRIDE, payload, ex=ttl)
            pipe.xadd(keys.ONCALL_TIMELINE, {"at": now.isoformat(), "actor": by, "kind": "override", "text": payload})
            await pipe.execute()

    async def clear_override(self, by: str, now: datetime) -> None:
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(keys.ONCALL_OVERRIDE)
            pipe.xadd(
                keys.ONCALL_TIMELINE, {"at": now.isoformat(), "actor": by, "kind": "override cleared", "text": ""}
            )
            await pipe.execute()
