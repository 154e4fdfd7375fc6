"""What the drills keep in Redis: the one drill running (a lock naming who started it and when, with a short TTL
its holder renews while the drill runs: a drill whose process died frees it within ``LOCK_TTL``), and the last 12
reports for the trend."""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from bot.core import keys
from bot.core.redis import RedisBacked
from bot.dr.model import Drill

KEPT = 12
REPORTS_TTL = 400 * 86400
LOCK_TTL = 120  # seconds; renewed every LOCK_TTL / 4 while the drill runs

# Released only by its holder (a drill that outlived its TTL never frees a newer drill's lock).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Renewed by its holder; taken again when it lapsed (Redis away longer than the TTL) and no other drill took it.
_RENEW = """
local now = redis.call('GET', KEYS[1])
if now == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1 end
if not now then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 2 end
return 0
"""


class Running:
    """The drill holding the lock: who started it, when, and its id."""

    def __init__(self, drill: str, by: str, started: datetime, token: str = "") -> None:
        self.drill, self.by, self.started, self.token = drill, by, started, token
        self.lost: Running | None = None  # the drill that took the lock while this one ran: stop its steps

    @property
    def attempt(self) -> str:
        """This attempt of the drill (a retried scheduled drill keeps its tick's id): on its scratch copies and in
        its Restores' names, so that the sweep and Velero tell two attempts apart."""
        return self.token[:8]

    @property
    def owner(self) -> tuple[str, str]:
        return self.drill, self.attempt

    def dump(self) -> str:
        return json.dumps({"drill": self.drill, "by": self.by, "started": self.started.isoformat(), "t": self.token})

    @classmethod
    def load(cls, raw: str | bytes) -> Running:
        data = json.loads(raw)
        return cls(str(data["drill"]), str(data["by"]), datetime.fromisoformat(data["started"]), str(data["t"]))


class DrStore(RedisBacked):
    async def lock(self, drill: str, by: str, started: datetime) -> tuple[Running, bool]:
        """Take the one-drill lock; (the holder, True) when taken here, else (the running drill, False)."""
        mine = Running(drill, by, started, secrets.token_hex(8))
        for _ in range(3):
            async with self.io():
                if await self.redis.set(keys.DR_LOCK, mine.dump(), nx=True, ex=LOCK_TTL):
                    return mine, True
                raw = await self.redis.get(keys.DR_LOCK)
            if raw is not None:
                return Running.load(raw), False
        raise RuntimeError("the DR drill lock came and went three times in a row")  # pragma: no cover - a race

    async def renew(self, held: Running) -> tuple[bool, Running | None]:
        """Keep the lock while the drill runs, taking it again if it lapsed and nobody took it: (still this
        drill's, the drill holding it instead)."""
        async with self.io():
            kept = await self.redis.eval(_RENEW, 1, keys.DR_LOCK, held.dump(), LOCK_TTL)
            if kept:
                return True, None
            raw = await self.redis.get(keys.DR_LOCK)
        return False, Running.load(raw) if raw is not None else None

    async def unlock(self, held: Running) -> None:
        async with self.io():
            await self.redis.eval(_RELEASE, 1, keys.DR_LOCK, held.dump())

    async def running(self) -> Running | None:
        """The drill holding the lock now, if any."""
        async with self.io():
            raw = await self.redis.get(keys.DR_LOCK)
        return Running.load(raw) if raw is not None else None

    async def keep(self, drill: Drill) -> None:
        """Newest first; kept once however often it is tried (the outbox's retries after a Redis that paused)."""
        report = drill.model_dump_json()
        async with self.io():
            pipe = self.redis.pipeline(transaction=False)
            pipe.lrem(keys.DR_REPORTS, 0, report)
            pipe.lpush(keys.DR_REPORTS, report)
            pipe.ltrim(keys.DR_REPORTS, 0, KEPT - 1)
            pipe.expire(keys.DR_REPORTS, REPORTS_TTL)
            await pipe.execute()

    async def recent(self, count: int = KEPT) -> list[Drill]:
        """The last drills, newest first."""
        async with self.io():
            raw = await self.redis.lrange(keys.DR_REPORTS, 0, count - 1)
        return [Drill.model_validate_json(r) for r in raw]
