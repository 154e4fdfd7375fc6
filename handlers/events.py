"""Events API listeners."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp

from handlers.guard import guarded

if TYPE_CHECKING:
    from bot.runtime.services import Services

MENTION_HELP = (
    "Hi! I run incidents here. `/incident open P1 <title>` opens one, `/incident list` shows what is going on, "
    "`/incident help` lists everything."
)


async def _nobody(text: str) -> None:
    """Events have no one to answer privately; failures are logged and counted by the guard."""


def register(app: AsyncApp, svc: Services) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: Any) -> None:
        async with guarded("event", "app_mention", _nobody):
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=MENTION_HELP
            )
