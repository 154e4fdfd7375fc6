"""What the drills add to the shared surfaces: the scheduled drill (posted to ``channels.digest``), the sweep of
scratch copies a crashed drill left (every 5 minutes, and at start-up), and the weekly report's section."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.board import Board, Periodic, WeeklySection
from bot.core.tasks import BackgroundTasks
from bot.dr.service import DrService

SWEEP_EVERY = timedelta(minutes=5)
WEEKLY_ORDER = 10


def declare(board: Board, service: DrService, tasks: BackgroundTasks) -> None:
    if not service.settings.enabled:
        return
    sweeping: set[object] = set()

    async def sweep(now: datetime) -> None:
        """In the background (the poller's tick never waits on a cluster or AWS), never two at once; a failure is
        logged by the tasks and the next sweep tries again."""
        if sweeping:
            return
        task = tasks.spawn(service.sweep(now), name="dr-sweep")
        sweeping.add(task)
        task.add_done_callback(sweeping.discard)

    board.declare(Periodic("dr-sweep", SWEEP_EVERY, sweep))
    board.declare(WeeklySection("dr-drill", WEEKLY_ORDER, "Disaster-recovery drill", service.weekly))
    post = service.scheduled_post()
    if post is not None:
        board.declare(post)
