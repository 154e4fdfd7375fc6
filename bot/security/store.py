"""What the security audit keeps in Redis: each cluster's last audit (for new and fixed)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.core import keys
from bot.core.redis import RedisBacked

LAST_AUDIT_TTL = 400 * 86400  # a monthly audit compares with the one before, even after a skipped month


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
