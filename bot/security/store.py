"""What the security audit and the weekly report keep in Redis: each cluster's last audit (for new and fixed),
Cost Explorer's answer of the day, and reads of the audit stream."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.core import keys
from bot.core.redis import RedisBacked
from bot.core.redis import as_text as _text

LAST_AUDIT_TTL = 400 * 86400  # a monthly audit compares with the one before, even after a skipped month
COST_TTL = 86400
STREAM_BATCH = 1000


class SecurityStore(RedisBacked):
    async def swap_last(
        self, cluster: str, at: datetime, finding_keys: Sequence[str]
    ) -> tuple[datetime, list[str]] | None:
        """Store this audit's findings and return the previous audit's (None: this is the first)."""
        value = json.dumps({"at": at.isoformat(), "keys": list(finding_keys)})
        async with self.io():
            before = await self.redis.set(keys.security_last(cluster), value, ex=LAST_AUDIT_TTL, get=True)
        if not isinstance(before, (str, bytes)) or not before:
            return None
        data = json.loads(before)
        return datetime.fromisoformat(data["at"]), [str(k) for k in data.get("keys") or []]

    async def cached_cost(self, day: str) -> dict[str, dict[str, float]] | None:
        async with self.io():
            raw = await self.redis.get(keys.report_cost(day))
        return json.loads(raw) if raw else None

    async def keep_cost(self, day: str, costs: dict[str, dict[str, float]]) -> None:
        async with self.io():
            await self.redis.set(keys.report_cost(day), json.dumps(costs), ex=COST_TTL)

    async def audit_entries(self, since: datetime, until: datetime) -> list[dict[str, str]]:
        """The ``audit`` stream's entries between two instants (stream ids are their times), oldest first."""
        start, end = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
        found: list[dict[str, str]] = []
        cursor = f"{start}-0"
        while True:
            async with self.io():
                batch = await self.redis.xrange(keys.AUDIT, min=cursor, max=f"{end}-18446744073709551615",
                                                count=STREAM_BATCH)  # fmt: skip
            batch = batch or []
            for entry_id, fields in batch:
                found.append({_text(k): _text(v) for k, v in (fields or {}).items()} | {"id": _text(entry_id)})
            if len(batch) < STREAM_BATCH:
                return found
            cursor = "(" + _text(batch[-1][0])
