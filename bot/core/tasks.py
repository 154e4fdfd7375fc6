"""Work that runs after Slack has been acknowledged, tracked so shutdown can wait for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float) -> None:
        """Wait for running tasks to finish (graceful shutdown); cancel what is left after ``timeout``."""
        if not self._tasks:
            return
        log.info("waiting up to %.0fs for %d background task(s)", timeout, len(self._tasks))
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()


@asynccontextmanager
async def renewing(renew: Callable[[], Awaitable[object]], every: float, what: str) -> AsyncIterator[None]:
    """Call ``renew()`` every ``every`` seconds while the block runs: a lease or lock held for longer than
    its TTL (a Slack call waiting out rate limits) is not taken over by another replica meanwhile."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await renew()
            except Exception as exc:  # noqa: BLE001 - the holder keeps working; the lease may lapse
                log.warning("could not renew %s: %s", what, exc)

    task = asyncio.create_task(loop(), name=f"renew {what}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
