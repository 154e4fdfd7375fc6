"""Maintenance windows in Redis (keys in ``bot.core.keys``): each window a versioned document with its timeline
(one hash tag per window, so each script touches one Redis Cluster slot), the ``MW-n`` counter, the index of
windows not over, the reminders' due set (claimed by one replica at a time) and which reminders went out.

Every change is a compare-and-set on ``version`` together with its timeline entry (the incidents' scripts):
two operators pressing Start and Cancel at once serialise, and the loser re-reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.core import keys
from bot.core.dueset import DueSet
from bot.core.errors import DependencyError, UserError
from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text as _text
from bot.core.timeline import TimelineEntry, from_stream
from bot.core.versioned import CAS_SCRIPT, CREATE_SCRIPT, change_versioned
from bot.maintenance.model import OVER, Reminder, Window, format_ref, member

Mutation = Callable[[Window], tuple[Window, TimelineEntry]]


class WindowNotFound(UserError):
    def __init__(self, number: int) -> None:
        super().__init__(f"{format_ref(number)} does not exist. `/maintenance list` shows the windows.")


class MaintenanceStore(RedisBacked):
    def __init__(self, redis: Client, description: str) -> None:
        super().__init__(redis, description)
        self.reminders = DueSet(redis, description, keys.MW_DUE, keys.MW_PENDING)
        self._create = redis.register_script(CREATE_SCRIPT)
        self._cas = redis.register_script(CAS_SCRIPT)

    async def create(self, window: Window, actor: str) -> Window:
        """Allocate MW-n, store the window with its first timeline entry and arm its reminders."""
        async with self.io():
            number = int(await self.redis.incr(keys.MW_SEQ))
            stored = window.model_copy(update={"number": number})
            first = [window.created_at.isoformat(), actor, "scheduled", stored.headline]
            created = await self._create(
                keys=[keys.window(number), keys.window_timeline(number)], args=[stored.model_dump_json(), *first]
            )
            if not created:  # the counter fell behind (restored from an older copy): never overwrite a window
                raise DependencyError(f"{format_ref(number)} exists already: the {keys.MW_SEQ} counter is behind")
            await self.redis.zadd(keys.MW_INDEX, {str(number): stored.start.timestamp()})
        await self.reminders.arm({member(number, kind): due for kind, due in stored.reminders().items()})
        return stored

    async def get(self, number: int) -> Window:
        async with self.io():
            raw = await self.redis.hget(keys.window(number), "doc")
        if raw is None:
            raise WindowNotFound(number)
        return Window.model_validate_json(raw)

    async def change(self, number: int, mutation: Mutation) -> tuple[Window, TimelineEntry]:
        """Apply ``mutation`` atomically with its timeline entry; re-read and retry when another writer won.
        A window that is over leaves the index and its reminders are cancelled."""

        def versioned(current: Window) -> tuple[Window, TimelineEntry]:
            updated, entry = mutation(current)
            return updated.model_copy(update={"version": current.version + 1}), entry

        current, updated, entry = await change_versioned(
            self,
            self._cas,
            (keys.window(number), keys.window_timeline(number)),
            lambda: self.get(number),
            versioned,
            missing=lambda: WindowNotFound(number),
            contended=lambda: DependencyError(
                f"{format_ref(number)} kept changing while we tried to update it; please try again"
            ),
        )
        if updated.state in OVER and current.state not in OVER:
            await self.reminders.cancel(*(member(number, kind) for kind in Reminder))
            async with self.io():
                await self.redis.zrem(keys.MW_INDEX, str(number))
        return updated, entry

    async def upcoming(self) -> list[Window]:
        """Every window not over (scheduled or running), soonest first."""
        async with self.io():
            numbers = [int(_text(n)) for n in await self.redis.zrange(keys.MW_INDEX, 0, -1)]
            if not numbers:
                return []
            async with self.redis.pipeline(transaction=False) as pipe:
                for number in numbers:
                    pipe.hget(keys.window(number), "doc")
                docs = await pipe.execute()
        windows = [Window.model_validate_json(raw) for raw in docs if raw]
        return sorted((w for w in windows if w.state not in OVER), key=lambda w: (w.start, w.number))

    async def timeline(self, number: int) -> list[TimelineEntry]:
        async with self.io():
            rows: list[Any] = list(await self.redis.xrange(keys.window_timeline(number)) or [])
        return [from_stream(entry_id, fields) for entry_id, fields in rows]

    async def mark_sent(self, number: int, kind: Reminder, at: datetime) -> bool:
        """Record that a reminder went out; False when it had been recorded before."""
        async with self.io():
            return bool(await self.redis.hsetnx(keys.window_sent(number), kind.value, at.isoformat()))

    async def was_sent(self, number: int, kind: Reminder) -> bool:
        async with self.io():
            return bool(await self.redis.hexists(keys.window_sent(number), kind.value))

    async def delivered(self, number: int, kind: Reminder, destination: str) -> bool:
        """Whether a reminder was delivered to one of its destinations (or refused there for good)."""
        async with self.io():
            return bool(await self.redis.hexists(keys.window_sent(number), f"{kind.value}:{destination}"))

    async def mark_delivered(self, number: int, kind: Reminder, destination: str, outcome: str) -> bool:
        """Record a reminder's outcome at one destination (when it was posted, or ``refused: <error>``)."""
        async with self.io():
            return bool(await self.redis.hsetnx(keys.window_sent(number), f"{kind.value}:{destination}", outcome))
