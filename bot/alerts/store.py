"""Which incident each alert group has, in Redis, so retries and replicas never open two: the group's key moves
from nothing (or a resolved incident) to ``opening:<token>`` by compare-and-set, and from that token to the new
incident's number; a request that finds another's token waits for the number. While a group is being opened a
marker says so: a replica that died after opening the incident but before settling the key leaves it, and the
next delivery finds the incident by its group instead of opening a second.

Per group, every firing seen (fingerprint and start) is kept, so a re-send of alerts already handled, or a stale
firing after the group's end, opens nothing; per incident, which groups fire on it, so a storm's incident is
mitigated only when its last group resolves."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from bot.core import keys
from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text

GROUP_TTL = 30 * 86400
NOTICE_TTL = 4 * 3600
STORM_TTL = 600
OPENING = "opening:"
OPENING_TTL = 60  # a token left by a request that died while opening expires
OPENING_MARK_TTL = 86400
SEEN_KEPT = 5000
ENRICHED_TTL = 30 * 86400  # an enrichment's claim: once per incident, however long the group keeps firing
LOGS_TTL = 7 * 86400  # what a "Show logs" button reads

# KEYS[1] the group's key; ARGV: the value expected ('' = none), the new value, the TTL. 1 when set, else 0.
CLAIM = """
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""
# KEYS[1] the sliding window; ARGV: now (ms), window (ms), the most admitted in it, a unique member. 1 = admitted.
ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]), ARGV[4])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


class AlertStore(RedisBacked):
    def __init__(self, redis: Client, description: str) -> None:
        super().__init__(redis, description)
        self._claim = redis.register_script(CLAIM)
        self._admit = redis.register_script(ADMIT)

    async def holder(self, key: str) -> int | str | None:
        """The incident number a group (or the storm) has, ``opening:…`` while it is being opened, or None."""
        async with self.io():
            raw = await self.redis.get(key)
        if raw is None:
            return None
        value = as_text(raw)
        return int(value) if value.isdigit() else value

    async def swap(self, key: str, expected: str, value: str, ttl: int = GROUP_TTL) -> bool:
        """Compare-and-set: ``key`` becomes ``value`` only if it holds ``expected`` ('' = nothing)."""
        async with self.io():
            return bool(await self._claim(keys=[key], args=[expected, value, ttl]))

    async def admit(self, now_ms: int, limit: int, member: str, window_ms: int = 60_000) -> bool:
        """Storm control: True while fewer than ``limit`` incidents were opened from alerts in the last minute."""
        async with self.io():
            return bool(await self._admit(keys=[keys.ALERTS_OPENED], args=[now_ms, window_ms, limit, member]))

    async def new_fingerprints(
        self, group: str, number: int, fingerprints: Sequence[str], instances: Sequence[str] = (), now_ms: int = 0
    ) -> list[str]:
        """Record the alerts firing on INC-n (and each firing as seen); the ones not firing on it before (in the
        order given)."""
        if not fingerprints:
            return []
        key, seen = keys.alert_fingerprints(group, number), keys.alert_seen(group)
        async with self.io():
            async with self.redis.pipeline(transaction=True) as pipe:  # one slot: the group's
                for fp in fingerprints:
                    pipe.sadd(key, fp)
                pipe.expire(key, GROUP_TTL)
                if instances:
                    pipe.zadd(seen, dict.fromkeys(instances, now_ms), nx=True)
                    pipe.zremrangebyrank(seen, 0, -SEEN_KEPT - 1)
                    pipe.expire(seen, GROUP_TTL)
                added = await pipe.execute()
            async with self.redis.pipeline(transaction=False) as pipe:  # the incident's slot
                pipe.sadd(keys.alert_groups(number), group)
                pipe.expire(keys.alert_groups(number), GROUP_TTL)
                await pipe.execute()
        return [fp for fp, new in zip(fingerprints, added[: len(fingerprints)], strict=True) if new]

    async def seen(self, group: str, instances: Sequence[str]) -> set[str]:
        """Which of these firings (``fingerprint@startsAt``) the group had before."""
        if not instances:
            return set()
        async with self.io():
            scores = await self.redis.zmscore(keys.alert_seen(group), list(instances))
        return {i for i, score in zip(instances, scores, strict=True) if score is not None}

    async def ended(self, group: str, number: int, fingerprints: Sequence[str]) -> list[str]:
        """Some alerts of the group resolved while others fire: the ones that were firing on INC-n."""
        if not fingerprints:
            return []
        key = keys.alert_fingerprints(group, number)
        async with self.io(), self.redis.pipeline(transaction=True) as pipe:
            for fp in fingerprints:
                pipe.srem(key, fp)
            removed = await pipe.execute()
        return [fp for fp, gone in zip(fingerprints, removed, strict=True) if gone]

    async def firing_count(self, group: str, number: int) -> int:
        async with self.io():
            return int(await self.redis.scard(keys.alert_fingerprints(group, number)))

    async def all_resolved(self, group: str, number: int) -> tuple[bool, int]:
        """Forget the group's firing alerts on INC-n: True for the one request that found some (it says
        "resolved"), and how many other groups still fire on INC-n (a storm's)."""
        async with self.io():
            found = bool(await self.redis.delete(keys.alert_fingerprints(group, number)))
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.srem(keys.alert_groups(number), group)
                pipe.scard(keys.alert_groups(number))
                _, left = await pipe.execute()
        return found, int(left)

    async def mark_ended(self, group: str, instances: Sequence[str], now_ms: int) -> None:
        """These firings of the group's alerts resolved now."""
        if not instances:
            return
        key = keys.alert_ended(group)
        async with self.io(), self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, dict.fromkeys(instances, now_ms))
            pipe.zremrangebyrank(key, 0, -SEEN_KEPT - 1)
            pipe.expire(key, GROUP_TTL)
            await pipe.execute()

    async def ended_at(self, group: str, instances: Sequence[str]) -> dict[str, int]:
        """When these firings resolved (those that did)."""
        if not instances:
            return {}
        async with self.io():
            scores = await self.redis.zmscore(keys.alert_ended(group), list(instances))
        return {i: int(score) for i, score in zip(instances, scores, strict=True) if score is not None}

    async def mark_opening(self, group: str) -> None:
        async with self.io():
            await self.redis.set(keys.alert_opening(group), "1", ex=OPENING_MARK_TTL)

    async def settled(self, group: str) -> None:
        async with self.io():
            await self.redis.delete(keys.alert_opening(group))

    async def was_opening(self, group: str) -> bool:
        """A request began opening the group's incident and never settled the group (its replica died)."""
        async with self.io():
            return bool(await self.redis.exists(keys.alert_opening(group)))

    async def first_notice(self, group: str) -> bool:
        return await self.claim(keys.alert_notice(group), NOTICE_TTL)

    async def extend(self, key: str, ttl: int) -> None:
        async with self.io():
            await self.redis.expire(key, ttl)

    async def keep_logs(self, what: dict[str, Any]) -> str:
        """Keep what a "Show logs" button reads; its opaque id (the button's value)."""
        logs_id = secrets.token_urlsafe(12)
        async with self.io():
            await self.redis.set(keys.enrich_logs(logs_id), json.dumps(what), ex=LOGS_TTL)
        return logs_id

    async def kept_logs(self, logs_id: str) -> dict[str, Any] | None:
        if not logs_id or len(logs_id) > 64:
            return None
        async with self.io():
            raw = await self.redis.get(keys.enrich_logs(logs_id))
        return dict(json.loads(raw)) if raw else None
