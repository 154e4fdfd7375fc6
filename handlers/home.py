"""The App Home tab: published when a person opens it; its "Take over for 4h" (operators, the existing override)
and "Run /health" (the digest, sent to the person) buttons. The incidents' buttons there are the announcement's."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.errors import UserError
from bot.core.permissions import Actor
from bot.digest import render as digest_render
from bot.home.render import RUN_HEALTH_ACTION, TAKE_OVER_ACTION
from handlers.guard import guarded, require_responder
from handlers.oncall import OnCallCommands

if TYPE_CHECKING:
    from bot.runtime.services import Services

TAKE_OVER_FOR = timedelta(hours=4)


def register(app: AsyncApp, svc: Services) -> None:
    async def tell(user: str, text: str) -> None:
        """A reply to a Home tab click: a DM (the tab has no thread and no response URL)."""
        await svc.client.chat_postMessage(channel=user, text=text)

    @app.event("app_home_opened")
    async def on_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        svc.tasks.spawn(svc.home.publish(str(event["user"])), name="app-home")

    async def on_take_over(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        actor = Actor.of_body(body)

        async def run() -> None:
            async with guarded("action", TAKE_OVER_ACTION, lambda text: tell(actor.user, text)):
                if not await svc.access.is_operator(actor.user):
                    raise UserError("Only operators (permissions.operators) may override the rotation.")
                said = await OnCallCommands(svc).set_override(actor.user, actor.user, TAKE_OVER_FOR)
                await tell(actor.user, said)
                await svc.home.publish(actor.user)

        svc.tasks.spawn(run(), name="home-take-over")

    async def on_run_health(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        actor = Actor.of_body(body)

        async def run() -> None:
            async with guarded("action", RUN_HEALTH_ACTION, lambda text: tell(actor.user, text)):
                await require_responder(svc, actor, "run the health digest")
                digest = await svc.digest.recent()
                await svc.client.chat_postMessage(
                    channel=actor.user, text=digest_render.verdict(digest), blocks=digest_render.blocks(digest)
                )
                await svc.home.publish(actor.user)

        svc.tasks.spawn(run(), name="home-health")

    app.action(TAKE_OVER_ACTION)(on_take_over)
    app.action(RUN_HEALTH_ACTION)(on_run_health)
