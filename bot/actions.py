"""Mutating actions offered as buttons: stored server-side, executed at most once, audited.

A button's value is only the opaque id of a pending action kept in Redis with a TTL; what it does
(and where) is read back from Redis, never from the button. Execution is claimed with SET NX, so a
double click or a Slack retry acts once. Every outcome lands in the global ``audit`` stream.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from bot.redis_conn import RedisBacked

PENDING_TTL_SECONDS = 30 * 60
AUDIT_KEY = "audit"
AUDIT_MAXLEN = 100_000


def _key(action_id: str) -> str:
    return f"action:{{{action_id}}}"


class PendingActions(RedisBacked):
    async def offer(self, payload: dict[str, Any], ttl_seconds: int = PENDING_TTL_SECONDS) -> str:
        action_id = secrets.token_urlsafe(12)
        async with self.io():
            await self.redis.set(_key(action_id), json.dumps(payload), ex=ttl_seconds)
        return action_id

    async def get(self, action_id: str) -> dict[str, Any] | None:
        if not action_id or len(action_id) > 64:
            return None
        async with self.io():
            raw = await self.redis.get(_key(action_id))
        return json.loads(raw) if raw else None

    async def take(self, action_id: str, actor: str, now: datetime) -> str | None:
        """None for the one caller that may execute; otherwise who executed it and when."""
        done = f"{_key(action_id)}:done"
        async with self.io():
            if await self.redis.set(done, json.dumps({"by": actor, "at": now.isoformat()}), nx=True, ex=86400):
                return None
            raw = await self.redis.get(done)
        data = json.loads(raw) if raw else {}
        return f"<@{data.get('by', '?')}> at {data.get('at', '?')}"

    async def give_back(self, action_id: str) -> None:
        """Undo ``take`` after a change that was refused or failed cleanly: the offer may be tried again."""
        async with self.io():
            await self.redis.delete(f"{_key(action_id)}:done")

    async def audit(self, entry: dict[str, Any]) -> None:
        fields: dict[Any, Any] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in entry.items()}
        async with self.io():
            await self.redis.xadd(AUDIT_KEY, fields, maxlen=AUDIT_MAXLEN, approximate=True)
