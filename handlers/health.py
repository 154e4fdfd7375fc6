"""``/health``: the morning checklist now, for the configured cluster(s); responders only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core import telemetry
from bot.core.permissions import Actor
from bot.digest import render
from handlers.guard import acked, ephemeral, guarded, require_responder

if TYPE_CHECKING:
    from bot.runtime.services import Services


def register(app: AsyncApp, svc: Services) -> None:
    async def on_health(ack: AsyncAck, command: dict[str, Any], respond: Any) -> None:
        async with guarded("command", "/health", acked(ack)):
            await require_responder(svc, Actor.of_command(command), "run /health")
            clusters = len(svc.config.kubernetes.clusters) or 1
            await ack(text=f"Checking {clusters} cluster{'s' if clusters != 1 else ''}… the digest follows here.")
            svc.tasks.spawn(_report(svc, respond), name="health")

    app.command("/health")(on_health)


async def _report(svc: Services, respond: Any) -> None:
    async with guarded("command", "/health", ephemeral(respond)):
        digest = await svc.digest.recent()
        await respond(text=render.verdict(digest), blocks=render.blocks(digest), response_type="ephemeral")
        telemetry.DIGESTS_POSTED.labels(trigger="command").inc()
