"""What the weekly report keeps in and reads from Redis: Cost Explorer's answer of the day (and the claim of the one
request asking it), and the ``audit`` stream by time."""

from __future__ import annotations

import json
from datetime import datetime

from bot.core import keys
from bot.core.redis import RedisBacked
from bot.core.text import as_text as _text
from bot.operations.audit import AuditLog

COST_TTL = 86400
COST_CLAIM_TTL = 120  # longer than Cost Explorer takes to answer (boto3's timeouts and retries included)
COST_FAILED_TTL = 30  # a refusal is told to everyone asking meanwhile, then asked again


class ReportStore(RedisBacked):
    async def cached_cost(self, day: str) -> dict[str, dict[str, float]] | None:
        async with self.io():
            raw = await self.redis.get(keys.report_cost(day))
        return json.loads(raw) if raw else None

    async def keep_cost(self, day: str, costs: dict[str, dict[str, float]]) -> None:
        async with self.io():
            await self.redis.set(keys.report_cost(day), json.dumps(costs), ex=COST_TTL)

    async def claim_cost(self, day: str, token: str) -> bool:
        """True for the one request, of any replica, that asks Cost Explorer for ``day`` (until it lets go or the
        claim lapses)."""
        return await self.claim(keys.report_cost_claim(day), COST_CLAIM_TTL, f"run:{token}")

    async def cost_claim(self, day: str) -> str | None:
        """The claim on ``day``'s question: ``run:<token>`` while it is asked, ``failed:<why>`` for a while after
        Cost Explorer refused it, or None."""
        async with self.io():
            found = await self.redis.get(keys.report_cost_claim(day))
        return _text(found) if found is not None else None

    async def cost_failed(self, day: str, why: str) -> None:
        async with self.io():
            await self.redis.set(keys.report_cost_claim(day), f"failed:{why}", ex=COST_FAILED_TTL)

    async def release_cost(self, day: str) -> None:
        await self.release(keys.report_cost_claim(day))

    async def audit_entries(self, since: datetime, until: datetime) -> list[dict[str, str]]:
        """The ``audit`` stream's entries between two instants, oldest first."""
        return await AuditLog(self.redis, self.description).entries(since, until)
