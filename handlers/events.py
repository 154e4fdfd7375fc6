"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers.guard import guarded

MENTION_HELP = (
    "Hi! I run incidents here. `/incident open P1 <title>` opens one, `/incident list` shows what is going on, "
    "`/incident help` lists everything."
)


def register(app: AsyncApp, svc: Services) -> None:
    @app.event("app_mention")
    async def on_mention(event: dict[str, Any], client: Any) -> None:
        async def reply(text: str) -> None:
            return None

        async with guarded("event", "app_mention", reply):
            await client.chat_postMessage(
                channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=MENTION_HELP
            )
