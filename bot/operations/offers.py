"""Offers of mutating actions: stored server-side, carried out at most once.

A button's value is only the opaque id of an offer kept in Redis with a TTL; what it does (and where)
is read back from Redis, never from the button. Carrying it out is claimed with SET NX, so a double
click or a Slack retry acts once.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from bot.core import keys
from bot.core.redis import RedisBacked

PENDING_TTL_SECONDS = 30 * 60
DONE_TTL_SECONDS = 86400
MAX_ID_LENGTH = 64


class Offers(RedisBacked):
    async def offer(self, payload: dict[str, Any], ttl_seconds: int = PENDING_TTL_SECONDS) -> str:
        offer_id = secrets.token_urlsafe(12)
        async with self.io():
            await self.redis.set(keys.offer(offer_id), json.dumps(payload), ex=ttl_seconds)
        return offer_id

    async def get(self, offer_id: str) -> dict[str, Any] | None:
        if not offer_id or len(offer_id) > MAX_ID_LENGTH:
            return None
        async with self.io():
            raw = await self.redis.get(keys.offer(offer_id))
        return json.loads(raw) if raw else None

    async def take(self, offer_id: str, actor: str, now: datetime) -> str | None:
        """None for the one caller that may carry it out; otherwise who did and when."""
        done = keys.offer_done(offer_id)
        async with self.io():
            if await self.redis.set(
                done, json.dumps({"by": actor, "at": now.isoformat()}), nx=True, ex=DONE_TTL_SECONDS
            ):
                return None
            raw = await self.redis.get(done)
        data = json.loads(raw) if raw else {}
        return f"<@{data.get('by', '?')}> at {data.get('at', '?')}"

    async def give_back(self, offer_id: str) -> None:
        """Undo ``take`` after a change that was refused or failed cleanly: the offer may be tried again."""
        async with self.io():
            await self.redis.delete(keys.offer_done(offer_id))
