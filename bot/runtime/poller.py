"""The one poller: every periodic job of every domain (escalation, maintenance reminders, update reminders, …) and
every scheduled post, driven by the bot's one clock.

Each tick (``escalation.poll_interval``, sooner when woken) runs the board's ``Periodic`` jobs that are due by the
clock, then looks at every ``ScheduledPost``'s trigger: a tick that fell due is claimed in Redis (once across
replicas) and posted in the background, retried later (by any replica) when it fails. Moving the clock on (the
shell's ``wait``, a test) therefore fires whatever falls due in between, cron posts included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core.board import Board, Periodic
from bot.core.redis import StoreUnavailable
from bot.core.schedule import LEASE, ScheduledPost, TickClaims
from bot.core.tasks import BackgroundTasks, renewing

log = logging.getLogger(__name__)

RECHECK_RUNNING = timedelta(seconds=5)
DONE_RETRY = 1.0


class Poller:
    def __init__(
        self,
        *,
        board: Board,
        claims: TickClaims,
        clock: Callable[[], datetime],
        interval: timedelta,
        tasks: BackgroundTasks,
        wake: asyncio.Event,
    ) -> None:
        self.jobs = board.of(Periodic)
        self.posts = board.of(ScheduledPost)
        self.claims = claims
        self.clock = clock
        self.interval = interval.total_seconds()
        self.tasks = tasks
        self._wake = wake
        self._stopping = asyncio.Event()
        self._owner = secrets.token_hex(6)
        self._last_run: dict[str, datetime] = {}
        self._failing: set[str] = set()
        now = clock()
        self._started = now
        # A tick before start is not posted (unless the post catches up): it belonged to the replica then running.
        self._handled: dict[str, datetime | None] = {p.key: None if p.catch_up else p.tick_of(now) for p in self.posts}
        self._not_before: dict[str, tuple[datetime, datetime]] = {}  # post → (tick, when to ask again)
        self._posting: dict[str, asyncio.Task[None]] = {}
        self.ticks = 0  # completed ticks (the tests wait for one to pass)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    @property
    def busy(self) -> bool:
        """A scheduled post is being made right now."""
        return bool(self._posting)

    async def run(self) -> None:
        """Tick until ``stop()``; nothing that goes wrong in one tick stops the next."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self.tick()
            except Exception:
                log.exception("poller tick failed; it ticks again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)

    async def tick(self) -> None:
        now = self.clock()
        for job in self.jobs:
            last = self._last_run.get(job.key)
            if last is None and now - self._started < job.first_after:
                continue
            if last is None or now - last >= job.every or now < last:
                self._last_run[job.key] = now
                await self._run(job, now)
        for post in self.posts:
            self._consider(post, now)
        self.ticks += 1

    async def _run(self, job: Periodic, now: datetime) -> None:
        try:
            await job.run(now)
        except StoreUnavailable as exc:
            if job.key not in self._failing:  # once per outage, not once a second
                log.error("%s paused until the state store answers: %s", job.key, exc)
                self._failing.add(job.key)
            return
        except Exception:
            log.exception("%s failed; it runs again on the next tick", job.key)
            return
        if job.key in self._failing:
            self._failing.discard(job.key)
            log.warning("%s recovered: the state store answers again", job.key)

    # Scheduled posts ------------------------------------------------------------------------------------------
    def _consider(self, post: ScheduledPost, now: datetime) -> None:
        if post.key in self._posting:
            return
        tick = post.tick_of(now)
        handled = self._handled.get(post.key)
        if tick is None or (handled is not None and tick <= handled):
            return
        waiting = self._not_before.get(post.key)
        if waiting is not None and waiting[0] == tick and now < waiting[1]:
            return
        task = self.tasks.spawn(self._post(post, tick), name=f"{post.key} for {tick.isoformat()}")
        self._posting[post.key] = task
        task.add_done_callback(lambda _: self._posting.pop(post.key, None))

    async def _post(self, post: ScheduledPost, tick: datetime) -> None:
        key = post.claim_key(tick)
        try:
            claim = await self.claims.take(key, self._owner, self.clock(), LEASE, post.claim_ttl)
        except StoreUnavailable as exc:
            log.error("%s for %s waits for the state store: %s", post.key, tick, exc)
            self._not_before[post.key] = (tick, self.clock() + timedelta(seconds=30))
            return
        if claim.state == "taken":
            log.debug("%s for %s: claimed by another replica", post.key, tick)
            self._handled[post.key] = tick
            return
        if claim.state in ("wait", "running"):
            assert claim.until is not None
            # A retry is due at ``until``; a post in the making may be done well before its lease ends: look again.
            until = claim.until if claim.state == "wait" else min(claim.until, self.clock() + RECHECK_RUNNING)
            self._not_before[post.key] = (tick, until)
            return
        posted = False
        async with renewing(
            lambda: self._renew(post, key, tick), LEASE.total_seconds() / 3, f"the claim of {post.key} for {tick}"
        ):
            try:
                await post.run(tick)
                posted = True
            except Exception:
                log.exception("%s for %s failed (attempt %d)", post.key, tick, claim.attempt)
            if posted:
                # Posted: this replica never posts the tick again, and marks it done while its lease is still
                # renewed, so that no other replica takes it over meanwhile.
                self._handled[post.key] = tick
                await self._mark_done(post, key, tick)
                return
        try:
            await self._give_back(post, key, tick, claim.attempt)
        except StoreUnavailable as exc:  # the lease runs out and a replica takes the tick again
            log.error("%s for %s: its claim was not given back for a retry: %s", post.key, tick, exc)

    async def _renew(self, post: ScheduledPost, key: str, tick: datetime) -> None:
        if not await self.claims.renew(key, self._owner, self.clock() + LEASE) and self._handled.get(post.key) != tick:
            log.error("%s for %s: the claim was lost (its lease lapsed); another replica may post it", post.key, tick)

    async def _mark_done(self, post: ScheduledPost, key: str, tick: datetime) -> None:
        """``done`` on the claim, retried while the state store is away (as long as the lease lasts)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + LEASE.total_seconds()
        while True:
            try:
                if not await self.claims.done(key, self._owner):
                    log.error("%s for %s was posted, but its claim had lapsed meanwhile", post.key, tick)
                return
            except StoreUnavailable as exc:
                if loop.time() >= give_up:
                    log.error("%s for %s was posted but not marked done: %s; it may be posted again", post.key,
                              tick, exc)  # fmt: skip
                    return
                await asyncio.sleep(DONE_RETRY)

    async def _give_back(self, post: ScheduledPost, key: str, tick: datetime, attempt: int) -> None:
        waits = post.retry_waits
        if attempt > len(waits):
            await self.claims.retry(key, self._owner, None)
            log.error("%s for %s not posted after %d attempts", post.key, tick, attempt)
            self._handled[post.key] = tick
            return
        not_before = self.clock() + waits[attempt - 1]
        await self.claims.retry(key, self._owner, not_before)
        self._not_before[post.key] = (tick, not_before)
