"""The global ``audit`` stream: every runbook run and every mutating action, with actor and result.

Each entry with an actor is stamped ``operator: yes|no``: whether that person was in
``permissions.operators`` when they acted (the weekly access audit flags mutations by anyone who was not).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core import keys
from bot.core.redis import Client, RedisBacked

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
