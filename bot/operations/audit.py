"""The global ``audit`` stream: every runbook run and every mutating action, with actor and result."""

from __future__ import annotations

import json
from typing import Any

from bot.core import keys
from bot.core.redis import RedisBacked

AUDIT_MAXLEN = 100_000


class AuditLog(RedisBacked):
    async def record(self, entry: dict[str, Any]) -> None:
        fields: dict[Any, Any] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in entry.items()}
        async with self.io():
            await self.redis.xadd(keys.AUDIT, fields, maxlen=AUDIT_MAXLEN, approximate=True)
