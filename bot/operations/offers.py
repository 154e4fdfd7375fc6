"""Offers of mutating actions: stored server-side, carried out at most once.

A button's value is only the opaque id of an offer kept in Redis with a TTL; what it does (and where)
is read back from Redis, never from the button. Carrying it out is claimed with SET NX, so a double
click or a Slack retry acts once. The claim says who holds it and how far they got: ``claimed`` (being
carried out now), ``done``, or ``unknown`` (the API did not answer). Each claim carries a token, so the one
who took it (and only they) can finish or give it back, even after a write whose answer was lost.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core import keys
from bot.core.redis import RedisBacked

PENDING_TTL_SECONDS = 30 * 60
DONE_TTL_SECONDS = 86400
MAX_ID_LENGTH = 64

# Change the claim's state (or delete it) only for the holder of its token; the TTL is kept.
_SETTLE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local claim = cjson.decode(raw)
if claim['token'] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) return 1 end
claim['state'] = ARGV[2]
redis.call('SET', KEYS[1], cjson.encode(claim), 'KEEPTTL')
return 1
"""


@dataclass(frozen=True)
class Claim:
    """Who holds an offer, since when, and how far they got."""

    by: str
    at: str
    state: str  # "claimed", "done" or "unknown"

    def __str__(self) -> str:
        return f"<@{self.by}> at {self.at}"


class Offers(RedisBacked):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settle = self.redis.register_script(_SETTLE)

    async def offer(self, payload: dict[str, Any], ttl_seconds: int = PENDING_TTL_SECONDS) -> str:
        offer_id = secrets.token_urlsafe(12)
        async with self.io():
            await self.redis.set(keys.offer(offer_id), json.dumps(payload), ex=ttl_seconds)
        return offer_id

    async def get(self, offer_id: str) -> dict[str, Any] | None:
        if not offer_id or len(offer_id) > MAX_ID_LENGTH:
            return None
        async with self.io():
            raw = await self.redis.get(keys.offer(offer_id)) or await self.redis.get(keys.legacy_offer(offer_id))
        return json.loads(raw) if raw else None

    async def _done_key(self, offer_id: str) -> str:
        """Where the claim of an offer lives: beside the offer (one made before the rename keeps its old key)."""
        async with self.io():
            legacy = not await self.redis.exists(keys.offer(offer_id)) and await self.redis.exists(
                keys.legacy_offer(offer_id)
            )
        return keys.legacy_offer_done(offer_id) if legacy else keys.offer_done(offer_id)

    async def take(self, offer_id: str, actor: str, now: datetime, token: str) -> Claim | None:
        """None for the one caller that may carry it out (also when this token took it before and the answer
        was lost); otherwise the claim that stands."""
        done = await self._done_key(offer_id)
        claim = {"by": actor, "at": now.isoformat(), "token": token, "state": "claimed"}
        async with self.io():
            if await self.redis.set(done, json.dumps(claim), nx=True, ex=DONE_TTL_SECONDS):
                return None
            raw = await self.redis.get(done)
        data = json.loads(raw) if raw else {}
        if data.get("token") == token:
            return None
        return Claim(str(data.get("by", "?")), str(data.get("at", "?")), str(data.get("state", "done")))

    async def settle(self, offer_id: str, token: str, state: str) -> None:
        """Record how the claim ended (``done`` or ``unknown``)."""
        done = await self._done_key(offer_id)
        async with self.io():
            await self._settle(keys=[done], args=[token, state])

    async def give_back(self, offer_id: str, token: str) -> None:
        """Undo ``take`` after a change that was refused or failed cleanly: the offer may be tried again."""
        done = await self._done_key(offer_id)
        async with self.io():
            await self._settle(keys=[done], args=[token, ""])
