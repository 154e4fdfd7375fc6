"""Which incident each alert group has, in Redis, so retries and replicas never open two: the group's key moves
from nothing (or a resolved incident) to ``opening:<token>`` by compare-and-set, and from that token to the new
incident's number; a request that finds another's token waits for the number."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import keys
from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text

GROUP_TTL = 30 * 86400
NOTICE_TTL = 4 * 3600
STORM_TTL = 600
OPENING = "opening:"
OPENING_TTL = 60  # a token left by a request that died while opening expires

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

    async def new_fingerprints(self, group: str, number: int, fingerprints: Sequence[str]) -> list[str]:
        """Record the alerts on INC-n; the ones not recorded before (in the order given)."""
        if not fingerprints:
            return []
        key = keys.alert_fingerprints(group, number)
        async with self.io(), self.redis.pipeline(transaction=True) as pipe:
            for fp in fingerprints:
                pipe.sadd(key, fp)
            pipe.expire(key, GROUP_TTL)
            added = await pipe.execute()
        return [fp for fp, new in zip(fingerprints, added[:-1], strict=True) if new]

    async def all_resolved(self, group: str, number: int) -> bool:
        """Forget INC-n's firing alerts; True for the one request that found some (it says "resolved")."""
        async with self.io():
            return bool(await self.redis.delete(keys.alert_fingerprints(group, number)))

    async def first_notice(self, group: str) -> bool:
        return await self.claim(keys.alert_notice(group), NOTICE_TTL)

    async def extend(self, key: str, ttl: int) -> None:
        async with self.io():
            await self.redis.expire(key, ttl)
