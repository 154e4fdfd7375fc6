"""The global ``audit`` stream: every runbook run and every mutating action, with actor and result.

Each entry with an actor is stamped ``operator: yes|no``: whether that person was in
``permissions.operators`` when they acted (the weekly access audit flags mutations by anyone who was not).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.core import keys
from bot.core.outbox import Outbox
from bot.core.redis import Client, RedisBacked
from bot.core.text import as_text

STREAM_BATCH = 1000

AUDIT_MAXLEN = 100_000
ONCE_KEPT = 86400  # a retried entry's mark: far longer than the outbox retries it

# XADD unless this entry's id was written already: a Redis that paused runs the buffered first try and the retry both.
# The mark is set after the XADD, so an XADD that fails leaves the entry to its retry.
_ONCE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return false end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return id
"""


class AuditLog(RedisBacked):
    def __init__(
        self, redis: Client, description: str, is_operator: Callable[[str], Awaitable[bool]] | None = None
    ) -> None:
        super().__init__(redis, description)
        self.is_operator = is_operator
        self._once = redis.register_script(_ONCE)

    async def _operator(self, actor: str) -> str:
        if self.is_operator is None:
            return "unknown"
        return "yes" if await self.is_operator(actor) else "no"

    async def record(self, entry: dict[str, Any], *, once: str | None = None) -> None:
        """Append ``entry``; with ``once`` (an id), only if no entry of that id was appended before."""
        if entry.get("actor") and "operator" not in entry:
            entry = {**entry, "operator": await self._operator(str(entry["actor"]))}
        fields: dict[Any, Any] = {k: v if isinstance(v, str) else json.dumps(v) for k, v in entry.items()}
        async with self.io():
            if once is None:
                await self.redis.xadd(keys.AUDIT, fields, maxlen=AUDIT_MAXLEN, approximate=True)
                return
            flat = [part for pair in fields.items() for part in pair]
            await self._once(keys=[keys.AUDIT, keys.audit_once(once)], args=[ONCE_KEPT, AUDIT_MAXLEN, *flat])

    async def keep(self, outbox: Outbox, entry: dict[str, Any]) -> bool:
        """The audit entry of something that already happened: through ``outbox`` (retried while the state store is
        away), written once however many of its tries reach Redis. True when written now."""
        entry_id = secrets.token_hex(8)
        named = " ".join(str(entry[k]) for k in ("kind", "runbook", "target") if entry.get(k))
        return await outbox.deliver(
            f"audit entry {entry_id} ({named})", lambda: self.record(entry, once=entry_id), lost=f"{entry}"
        )  # the entry in full only if it is lost

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
