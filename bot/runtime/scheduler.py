"""The process's one APScheduler: every scheduled post registered with its per-tick Redis claim."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.redis import RedisBacked, StoreUnavailable
from bot.core.schedule import MISFIRE_GRACE, TICK_CLAIM_TTL, ScheduledPost

log = logging.getLogger(__name__)

RETRY_WAITS = (30.0, 120.0, 300.0)


def claimed_once(post: ScheduledPost, store: RedisBacked, clock: Callable[[], datetime]) -> Callable[[], object]:
    """The job APScheduler runs: find the tick this run belongs to, claim it (SET NX), then post."""

    async def fire() -> None:
        tick = post.tick_of(clock())
        if tick is None:
            return
        try:
            if not await store.claim(post.claim_key(tick.isoformat()), TICK_CLAIM_TTL):
                log.debug("%s for %s: claimed by another replica", post.job_id, tick)
                return
        except StoreUnavailable as exc:
            log.error("%s for %s skipped: %s", post.job_id, tick, exc)
            return
        for attempt, wait in enumerate((0.0, *RETRY_WAITS), start=1):  # the tick is ours: keep trying a while
            await asyncio.sleep(wait)
            try:
                await post.run(tick)
                return
            except Exception:
                log.exception("%s for %s failed (attempt %d)", post.job_id, tick, attempt)
        log.error("%s for %s not posted after %d attempts", post.job_id, tick, len(RETRY_WAITS) + 1)

    return fire


def build_scheduler(
    posts: Iterable[ScheduledPost | None], store: RedisBacked, clock: Callable[[], datetime], timezone: str
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=ZoneInfo(timezone))
    for post in posts:
        if post is None:
            continue
        scheduler.add_job(
            claimed_once(post, store, clock),
            post.trigger,
            id=post.job_id,
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
            coalesce=True,
            max_instances=1,
        )
    return scheduler
