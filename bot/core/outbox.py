"""Writes that must not be lost after the fact they record already happened (a change made in the cluster,
then its audit entry and timeline note): tried at once, and while the state store is away, again and again
in the background until they land. At shutdown whatever is still waiting is logged in full, never dropped
silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.errors import DependencyError
from bot.core.tasks import BackgroundTasks

log = logging.getLogger(__name__)

RETRY_EVERY = 1.0
RETRY_FOR = 15 * 60.0


class Outbox:
    def __init__(self, tasks: BackgroundTasks, retry_every: float = RETRY_EVERY, retry_for: float = RETRY_FOR) -> None:
        self.tasks = tasks
        self.retry_every = retry_every
        self.retry_for = retry_for
        self.waiting = 0

    async def deliver(self, what: str, write: Callable[[], Awaitable[object]], *, lost: str | None = None) -> bool:
        """Write now; if a dependency fails, keep retrying in the background. True when written now. ``what`` names
        the record in the log; ``lost``, if given, is what the log says of it (in full) only when it is given up."""
        try:
            await write()
            return True
        except DependencyError as exc:
            log.warning("%s not written yet (%s); retrying every %.0f s", what, exc, self.retry_every)
        self.waiting += 1
        self.tasks.spawn(self._retry(what, write, lost or what), name=f"outbox: {what}")
        return False

    async def _retry(self, what: str, write: Callable[[], Awaitable[object]], lost: str) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.retry_for
        try:
            while True:
                await asyncio.sleep(self.retry_every)
                try:
                    await write()
                    log.info("%s written after a retry", what)
                    return
                except DependencyError as exc:
                    if loop.time() >= give_up:
                        log.error("LOST after %.0f s of retries: %s (%s)", self.retry_for, lost, exc)
                        return
        except asyncio.CancelledError:
            log.error("LOST at shutdown, never written: %s", lost)
            raise
        finally:
            self.waiting -= 1
