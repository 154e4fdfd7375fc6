"""The bot behind the shell, as far as the shell needs to know it: whether it is still at work after answering, its
poller (which ``wait`` wakes, and waits for), and the moments a ``wait`` has to stop at so that every scheduled post
due in the interval goes out as it would have (the digest at 08:00, the hand-off, the weekly report)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.clock import MovableClock

if TYPE_CHECKING:
    from bot.runtime.services import Services

SETTLE_MAX = 6.0
STEP = timedelta(hours=1)  # between scheduled posts, the clock still moves an hour at a time (reminders, escalation)
MAX_STOPS = 24 * 31 + 200


class Running:
    def __init__(self, services: Services) -> None:
        self.services = services

    def busy(self) -> bool:
        return self.services.tasks.pending > 0 or self.services.escalator.busy or self.services.poller.busy

    async def ticked(self, ticks: int = 2, timeout: float = SETTLE_MAX) -> None:
        """Until the poller has completed ``ticks`` more ticks (one whole tick looked at the clock as it is now) and
        no scheduled post it started is still being made."""
        poller = self.services.poller
        target = poller.ticks + ticks
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (poller.ticks < target or poller.busy) and loop.time() < deadline:
            poller.wake()
            await asyncio.sleep(0.01)

    def stops(self, start: datetime, end: datetime) -> list[datetime]:
        """Every moment in (start, end] a scheduled post falls due, and a moment at least every hour; ``end`` last."""
        moments: set[datetime] = set()
        for post in self.services.poller.posts:
            fire = post.trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
            for _ in range(MAX_STOPS):  # each post's own: a frequent one does not crowd out the daily digest
                if fire is None or fire > end:
                    break
                moments.add(fire + timedelta(seconds=1))
                fire = post.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        step = start + STEP
        while step < end:
            moments.add(step)
            step += STEP
        return [*sorted(m for m in moments if start < m < end), end]

    async def wait(self, clock: MovableClock, step: timedelta, settle: Callable[[], Awaitable[None]]) -> None:
        """Move ``clock`` on by ``step``, stopping at each of :meth:`stops` until what fell due there is done."""
        start = clock()
        for moment in self.stops(start, start + step):
            now = clock()
            if moment > now:
                clock.advance(moment - now)
            await self.ticked()
            await settle()
