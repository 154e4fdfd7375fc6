"""The capacity samples in Redis: one hash per cluster and node group (day number → compact sample), 90 days kept,
one sample a day per cluster (the day claimed with SET NX, so replicas and repeated reviews write it once)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.capacity.trend import KEEP_DAYS, Sample, decode
from bot.core import keys
from bot.core.redis import RedisBacked

DAY_CLAIM_TTL = 2 * 86_400
KEEP_SECONDS = (KEEP_DAYS + 1) * 86_400


class CapacityStore(RedisBacked):
    async def sampled(self, cluster: str, day: int) -> bool:
        async with self.io():
            return bool(await self.redis.exists(keys.capacity_sampled(cluster, str(day))))

    async def record(self, cluster: str, day: int, samples: dict[str, Sample]) -> bool:
        """The day's samples of every group, once per cluster and day (False: already taken today)."""
        if not samples or not await self.claim(keys.capacity_sampled(cluster, str(day)), DAY_CLAIM_TTL):
            return False
        oldest = day - KEEP_DAYS
        async with self.io():
            pipe = self.redis.pipeline(transaction=False)
            for group, sample in samples.items():
                key = keys.capacity_samples(cluster, group)
                pipe.hset(key, str(day), sample.encode())
                pipe.expire(key, KEEP_SECONDS)
                pipe.hkeys(key)
            answers = await pipe.execute()
            stale = []
            for group, fields in zip(samples, answers[2::3], strict=True):
                old = [f for f in fields if int(f) <= oldest] if fields else []
                if old:
                    stale.append((keys.capacity_samples(cluster, group), old))
            for key, old in stale:
                await self.redis.hdel(key, *old)
        return True

    async def history(self, cluster: str, groups: Sequence[str]) -> dict[str, list[Sample]]:
        async with self.io():
            pipe = self.redis.pipeline(transaction=False)
            for group in groups:
                pipe.hgetall(keys.capacity_samples(cluster, group))
            answers = await pipe.execute()
        return {g: decode({_s(k): _s(v) for k, v in (a or {}).items()}) for g, a in zip(groups, answers, strict=True)}


def _s(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
