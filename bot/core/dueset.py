"""Durable deadlines in Redis, taken by exactly one replica: a sorted set of what is due when, and one of what is
being handled (each with a lease), moved between them by Lua scripts.

A claim moves due members (and pending ones whose lease ran out: their replica died) into ``pending`` in one
script, so each is taken by exactly one replica; one armed again while it is handled stays due until it is
released. The holder renews its lease while it works and completes the member (with its next due time, or none).
Nothing lives in process memory: a restart loses no deadline. The two keys share a hash tag (``{esc}:due``,
``{esc}:pending``) so the scripts run on Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text

# A member due again while a replica handles it (armed meanwhile: an escalation asked for, a hand-over) stays due
# until that replica completes it: one replica at a time handles a member.
_CLAIM = """
local out = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(expired) do
  redis.call('ZADD', KEYS[2], ARGV[2], m)
  table.insert(out, m)
end
local taken = {}
for _, m in ipairs(out) do taken[m] = true end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, m in ipairs(due) do
  if taken[m] then
    redis.call('ZREM', KEYS[1], m)
  elseif not redis.call('ZSCORE', KEYS[2], m) then
    redis.call('ZREM', KEYS[1], m)
    redis.call('ZADD', KEYS[2], ARGV[2], m)
    table.insert(out, m)
  end
end
return out
"""

# ARGV[3] '1': a due time set while the member was handled (armed again meanwhile) stands when it is earlier.
_COMPLETE = """
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then
  local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if ARGV[3] == '1' and held and tonumber(held) <= tonumber(ARGV[2]) then return 1 end
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
return 1
"""

_CANCEL = """
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return 1
"""


class DueSet(RedisBacked):
    def __init__(self, redis: Client, description: str, due: str, pending: str) -> None:
        super().__init__(redis, description)
        self.due_key = due
        self.pending_key = pending
        self._claim = redis.register_script(_CLAIM)
        self._complete = redis.register_script(_COMPLETE)
        self._cancel = redis.register_script(_CANCEL)

    async def arm(self, due: dict[str, datetime]) -> None:
        """Schedule each member at its time (replacing a time scheduled before)."""
        if due:
            async with self.io():
                await self.redis.zadd(self.due_key, {m: t.timestamp() for m, t in due.items()})

    async def move(self, member: str, due: datetime) -> None:
        """Change the due time of a scheduled member (not of one being handled right now)."""
        async with self.io():
            await self.redis.zadd(self.due_key, {member: due.timestamp()}, xx=True)

    async def cancel(self, *members: str) -> None:
        if members:
            async with self.io():
                await self._cancel(keys=[self.due_key, self.pending_key], args=list(members))

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int = 200) -> list[str]:
        async with self.io():
            members = await self._claim(
                keys=[self.due_key, self.pending_key], args=[now.timestamp(), lease_until.timestamp(), limit]
            )
        return [as_text(m) for m in members]

    async def renew(self, member: str, lease_until: datetime) -> None:
        """Extend the claim on ``member`` while it is being handled (only if it is still claimed)."""
        async with self.io():
            await self.redis.zadd(self.pending_key, {member: lease_until.timestamp()}, xx=True)

    async def complete(self, member: str, next_due: datetime | None, *, keep_earlier: bool = False) -> None:
        """Release a claimed member, scheduling it again at ``next_due`` if given. ``keep_earlier``: when it was armed
        again while being handled (due at once: someone asked to escalate, a hand-over) and that is sooner, that
        stands."""
        due = "" if next_due is None else next_due.timestamp()
        async with self.io():
            await self._complete(keys=[self.due_key, self.pending_key], args=[member, due, "1" if keep_earlier else ""])

    async def earliest(self, after: datetime) -> datetime | None:
        """The soonest moment after ``after`` that something here falls due: a member's due time, or the end of a
        lease (a member being handled whose replica died, or a try that waits out its lease, is taken again then).
        None: nothing is ahead."""
        bound = f"({after.timestamp()}"
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(self.due_key, bound, "+inf", start=0, num=1, withscores=True)
            pipe.zrangebyscore(self.pending_key, bound, "+inf", start=0, num=1, withscores=True)
            heads = await pipe.execute()
        ahead = [float(found[0][1]) for found in heads if found]
        return datetime.fromtimestamp(min(ahead), UTC) if ahead else None

    async def scheduled(self, members: Sequence[str]) -> set[str]:
        """Which of ``members`` are due or being handled."""
        if not members:
            return set()
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            for member in members:
                pipe.zscore(self.due_key, member)
                pipe.zscore(self.pending_key, member)
            scores = await pipe.execute()
        return {m for i, m in enumerate(members) if scores[2 * i] is not None or scores[2 * i + 1] is not None}
