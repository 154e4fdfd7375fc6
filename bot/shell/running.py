"""The bot behind the shell, as far as the shell needs to know it: whether it is still at work after answering, its
poller (which ``wait`` wakes, and waits for), and the moments a ``wait`` has to stop at so that everything due in
the interval goes out as it would have: each scheduled post (the digest at 08:00, the hand-off, the weekly report)
and each deadline of the bot's due sets (an escalation's next page, a page's next try, a maintenance reminder),
including those that fall due because of what happened earlier in the same wait."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.clock import MovableClock
from bot.core.errors import DependencyError

if TYPE_CHECKING:
    from bot.core.dueset import DueSet
    from bot.runtime.services import Services

SETTLE_MAX = 6.0
LATE = timedelta(seconds=1)  # a stop just after the moment, so that the moment has come for whoever looks
STEP = timedelta(hours=1)  # between posts and deadlines the clock still moves an hour at a time (what each tick checks)
MAX_STOPS = 24 * 31 + 200
MAX_DEADLINE_STOPS = 500  # three days of an unacknowledged incident re-paged every 10 minutes; beyond, hourly stops


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
                moments.add(fire + LATE)
                fire = post.trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        step = start + STEP
        while step < end:
            moments.add(step)
            step += STEP
        return [*sorted(m for m in moments if start < m < end), end]

    def due_sets(self) -> list[DueSet]:
        """The deadlines a moving clock reaches: escalation, paging's tries, maintenance reminders."""
        services = self.services
        found = [services.oncall.deadlines, services.maintenance.store.reminders]
        return [*found, services.pager.due] if services.pager is not None else found

    async def next_due(self, now: datetime) -> datetime | None:
        """The soonest deadline after ``now`` in any due set (one due already is the poller's to take). None also
        when the state store does not answer: the hourly stops still come."""
        ahead = []
        for due_set in self.due_sets():
            try:
                found = await due_set.earliest(now)
            except DependencyError:
                return None
            if found is not None:
                ahead.append(found)
        return min(ahead) if ahead else None

    async def wait(self, clock: MovableClock, step: timedelta, settle: Callable[[], Awaitable[None]]) -> bool:
        """Move ``clock`` on by ``step``, stopping at each of :meth:`stops`, and at each deadline that comes before the
        next of them (asked again at every stop: what went out may have armed another), until what fell due is done.
        False when a deadline was passed over because ``MAX_DEADLINE_STOPS`` were followed already: it went out at
        the next hourly stop."""
        start = clock()
        planned = self.stops(start, start + step)
        followed = 0
        capped = False
        while planned:
            now = clock()
            moment = planned[0]
            due = await self.next_due(now)
            if due is not None and due + LATE < moment and followed >= MAX_DEADLINE_STOPS:
                capped, due = True, None
            if due is not None and due + LATE < moment:
                moment = due + LATE
                followed += 1
            else:
                planned.pop(0)
            if moment > now:
                clock.advance(moment - now)
            await self.ticked()
            await settle()
        return not capped
