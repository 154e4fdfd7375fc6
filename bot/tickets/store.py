"""What the tickets domain keeps in Redis beside the incident (whose doc holds the ticket's key and page): the
tracker's id of the ticket, the claim of the one replica writing it (creating or moving it), whether a create was
sent (so the next attempt looks it up first), the stage and severity last sent to it (``synced``, ``synced-severity``:
what the poller compares with the incident) and what was said in the thread (once each)."""

from __future__ import annotations

import secrets

from bot.core import keys
from bot.core.redis import RedisBacked
from bot.core.text import as_text
from bot.tickets.model import Ticket

KEEP = 90 * 24 * 3600
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class TicketStore(RedisBacked):
    async def claim_create(self, number: int, ttl: int) -> str | None:
        """The token of the one caller that may create (or move) INC-n's ticket now, or None (another is at it)."""
        token = secrets.token_hex(8)
        async with self.io():
            taken = await self.redis.set(keys.ticket_claim(number), token, nx=True, ex=ttl)
        return token if taken else None

    async def release_create(self, number: int, token: str) -> None:
        """Give the claim back, only if it is still this caller's (a lapsed lease taken by another stays theirs)."""
        async with self.io():
            await self.redis.eval(RELEASE, 1, keys.ticket_claim(number), token)

    async def tried(self, number: int) -> bool:
        async with self.io():
            return bool(await self.redis.hexists(keys.ticket(number), "tried"))

    async def trying(self, number: int) -> None:
        """A create is about to be sent: from now on it may exist without our knowing."""
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.ticket(number), "tried", "1")
            pipe.expire(keys.ticket(number), KEEP)
            await pipe.execute()

    async def keep(self, number: int, ticket: Ticket) -> None:
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(
                keys.ticket(number),
                mapping={"tracker": ticket.tracker, "key": ticket.key, "id": ticket.id, "url": ticket.url},
            )
            pipe.expire(keys.ticket(number), KEEP)
            await pipe.execute()

    async def synced(self, number: int) -> tuple[str | None, str | None]:
        """The stage (``open`` for a ticket as made) and the severity last sent to INC-n's ticket; None: not known
        (a ticket kept before they were recorded)."""
        async with self.io():
            stage, severity = await self.redis.hmget(keys.ticket(number), ["synced", "synced-severity"])
        return (as_text(stage) if stage else None), (as_text(severity) if severity else None)

    async def mark_synced(self, number: int, *, stage: str | None = None, severity: str | None = None) -> None:
        fields = {k: v for k, v in (("synced", stage), ("synced-severity", severity)) if v is not None}
        if not fields:
            return
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            for name, value in fields.items():
                pipe.hset(keys.ticket(number), name, value)
            pipe.expire(keys.ticket(number), KEEP)
            await pipe.execute()

    async def ticket_id(self, number: int) -> str:
        async with self.io():
            return as_text(await self.redis.hget(keys.ticket(number), "id") or "")

    async def say_once(self, number: int, what: str) -> bool:
        """True the first time ``what`` is to be said about INC-n's ticket (HSETNX)."""
        async with self.io(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hsetnx(keys.ticket(number), f"said:{what}", "1")
            pipe.expire(keys.ticket(number), KEEP)
            first, _ = await pipe.execute()
        return bool(first)

    async def was_said(self, number: int, what: str) -> bool:
        async with self.io():
            return bool(await self.redis.hexists(keys.ticket(number), f"said:{what}"))

    async def forget_said(self, number: int, *what: str) -> None:
        async with self.io():
            await self.redis.hdel(keys.ticket(number), *[f"said:{w}" for w in what])
