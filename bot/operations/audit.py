"""The global ``audit`` stream: every runbook run and every mutating action, with actor and result.

Each entry with an actor is stamped ``operator: yes|no``: whether that person was in
``permissions.operators`` when they acted (the weekly access audit flags mutations by anyone who was not).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.core import keys
from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text

STREAM_BATCH = 1000

AUDIT_MAXLEN = 100_000


class AuditLog(RedisBacked):
    def __init__(
        self, redis: Client, description: str, is_operator: Callable[[str], Awaitable[bool]] | None = None
    ) -> None:
        super().__init__(redis, description)
        self.is_operator = is_operator

    async def _operator(self, actor: str) -> str:
        if self.is_operator is None:
            return "unknown"
        return "yes" if await self.is_operator(actor) else "no"

    async def record(self, entry: dict[str, Any]) -> None:
        if entry.get("actor") and "operator" not in entry:
            entry = {**entry, "operator": await self._operator(str(entry["actor"]))}
        fields: dict[Any, Any] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in entry.items()}
        async with self.io():
            await self.redis.xadd(keys.AUDIT, fields, maxlen=AUDIT_MAXLEN, approximate=True)

    async def entries(self, since: datetime, until: datetime) -> list[dict[str, str]]:
        """The stream's entries between two instants (stream ids are their times), oldest first, read in batches."""
        start, end = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
        found: list[dict[str, str]] = []
        cursor = f"{start}-0"
        while True:
            async with self.io():
                batch = await self.redis.xrange(keys.AUDIT, min=cursor, max=f"{end}-18446744073709551615",
                                                count=STREAM_BATCH)  # fmt: skip
            batch = batch or []
            for entry_id, fields in batch:
                found.append({as_text(k): as_text(v) for k, v in (fields or {}).items()} | {"id": as_text(entry_id)})
            if len(batch) < STREAM_BATCH:
                return found
            cursor = "(" + as_text(batch[-1][0])
