"""Scheduled posts (the digest, the hand-off checklist, the monthly audit, the weekly report): a trigger and a
per-tick claim in Redis, so however many replicas run, each tick is posted once.

A domain declares its post as a :class:`ScheduledPost` on the board; the one poller (``bot.runtime.poller``) looks
at every trigger on each of its ticks, with the bot's clock, so a clock moved on (the shell's ``wait``, the tests)
fires what falls due. A tick's claim is a small state machine in one Lua script: taken (with a lease, renewed while
the post is being made), done, or to be retried after a while by any replica; a replica that dies while posting
leaves a lease that runs out, and another takes the tick over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text

MISFIRE_GRACE = timedelta(hours=1)
TICK_CLAIM_TTL = timedelta(days=2)
RETRY_WAITS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5))
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class ScheduledPost:
    """A post on a schedule. ``trigger`` is an APScheduler trigger (``runbooks.cron.trigger`` for crontab text);
    ``claim_key(tick)`` the Redis key of one tick; ``run(tick)`` makes the post and raises when it did not go out.

    ``grace``: how late a tick may still be posted. ``catch_up``: a tick that passed before this process started
    (within the grace) is posted too, when no replica has. ``retry_waits``: how long after a failed attempt the tick
    is tried again (by any replica), one wait per retry."""

    key: str
    trigger: Any
    claim_key: Callable[[datetime], str]
    run: Callable[[datetime], Awaitable[None]]
    grace: timedelta = MISFIRE_GRACE
    catch_up: bool = False
    retry_waits: tuple[timedelta, ...] = RETRY_WAITS
    claim_ttl: timedelta = TICK_CLAIM_TTL

    def tick_of(self, now: datetime) -> datetime | None:
        """The fire time a run at ``now`` belongs to: the latest one at or before ``now`` (within the grace)."""
        fire = self.trigger.get_next_fire_time(None, now - self.grace)
        latest = None
        while fire is not None and fire <= now:
            latest = fire
            fire = self.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return latest


# A tick's claim: absent, "run|<owner>|<attempt>|<lease ms>", "retry|<attempt>|<not before ms>", "done" or
# "failed". A claim an earlier version wrote counts as it meant: "retry" (with a short TTL) is claimable once it
# expires; anything else ("1") is taken while it lasts.
_CLAIM = """
local now = tonumber(ARGV[1])
local raw = redis.call('GET', KEYS[1])
local attempt = 1
if raw then
  local parts = {}
  for part in string.gmatch(raw, '[^|]+') do table.insert(parts, part) end
  local retry = parts[1] == 'retry' and #parts == 3
  local running = parts[1] == 'run' and #parts == 4
  if retry and tonumber(parts[3]) <= now then
    attempt = tonumber(parts[2]) + 1
  elseif running and tonumber(parts[4]) <= now then
    attempt = tonumber(parts[3]) + 1
  elseif retry then
    return {'wait', parts[3]}
  elseif running then
    return {'running', parts[4]}
  elseif raw == 'retry' then  -- an earlier version's "try again after a while": claimable once it expires
    return {'wait', tostring(now + math.max(redis.call('PTTL', KEYS[1]), 0))}
  else
    return {'taken', raw}
  end
end
redis.call('SET', KEYS[1], 'run|' .. ARGV[2] .. '|' .. attempt .. '|' .. (now + tonumber(ARGV[3])), 'EX', ARGV[4])
return {'claimed', tostring(attempt)}
"""

# Only the owner of a running claim renews it or ends it.
_FINISH = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local parts = {}
for part in string.gmatch(raw, '[^|]+') do table.insert(parts, part) end
if parts[1] ~= 'run' or parts[2] ~= ARGV[1] then return 0 end
if ARGV[2] == 'renew' then
  redis.call('SET', KEYS[1], 'run|' .. parts[2] .. '|' .. parts[3] .. '|' .. ARGV[3], 'KEEPTTL')
elseif ARGV[2] == 'retry' then
  redis.call('SET', KEYS[1], 'retry|' .. parts[3] .. '|' .. ARGV[3], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return 1
"""


@dataclass(frozen=True)
class TickClaim:
    """What a claim attempt found: ``claimed`` (this replica posts; ``attempt`` counts from 1), ``wait`` (a retry is
    due at ``until``), ``running`` (another replica posts, its lease ends at ``until``) or ``taken`` (done, or failed
    for good)."""

    state: str
    attempt: int = 0
    until: datetime | None = None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class TickClaims(RedisBacked):
    """The per-tick claims of the scheduled posts."""

    def __init__(self, redis: Client, description: str) -> None:
        super().__init__(redis, description)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    async def take(self, key: str, owner: str, now: datetime, lease: timedelta, ttl: timedelta) -> TickClaim:
        lease_ms = int(lease.total_seconds() * 1000)
        async with self.io():
            state, detail = await self._claim(keys=[key], args=[_ms(now), owner, lease_ms, int(ttl.total_seconds())])
        state, detail = as_text(state), as_text(detail)
        if state == "claimed":
            return TickClaim(state, attempt=int(detail))
        if state in ("wait", "running"):
            return TickClaim(state, until=datetime.fromtimestamp(int(detail) / 1000, tz=now.tzinfo))
        return TickClaim("taken")

    async def _settle(self, key: str, owner: str, state: str, at: str = "") -> bool:
        """True when ``owner`` still held the claim (False: its lease lapsed and another replica took the tick)."""
        async with self.io():
            return bool(await self._finish(keys=[key], args=[owner, state, at]))

    async def renew(self, key: str, owner: str, until: datetime) -> bool:
        return await self._settle(key, owner, "renew", str(_ms(until)))

    async def done(self, key: str, owner: str) -> bool:
        return await self._settle(key, owner, "done")

    async def retry(self, key: str, owner: str, not_before: datetime | None) -> bool:
        """Give the tick back to be tried again from ``not_before`` (None: no more tries, it failed)."""
        if not_before is None:
            return await self._settle(key, owner, "failed")
        return await self._settle(key, owner, "retry", str(_ms(not_before)))
