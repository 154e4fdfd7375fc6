"""Scheduled posts (the digest, later the weekly report and the monthly audit): a cron trigger and a
per-tick claim, so however many replicas run, each tick is posted once.

A domain describes its post as a :class:`ScheduledPost`; ``bot.runtime.scheduler`` registers every
one with the process's single APScheduler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

MISFIRE_GRACE = timedelta(hours=1)
TICK_CLAIM_TTL = 2 * 86400


@dataclass(frozen=True)
class ScheduledPost:
    job_id: str
    trigger: CronTrigger
    claim_key: Callable[[str], str]  # the Redis key claimed for a tick (its fire time, ISO 8601)
    run: Callable[[datetime], Awaitable[None]]  # post for the tick

    def tick_of(self, now: datetime) -> datetime | None:
        """The fire time a run at ``now`` belongs to: the latest one at or before ``now`` (within the grace)."""
        fire = self.trigger.get_next_fire_time(None, now - MISFIRE_GRACE)
        latest = None
        while fire is not None and fire <= now:
            latest = fire
            fire = self.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        return latest
