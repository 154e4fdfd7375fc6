"""Events API listeners: a mention of the bot, the App Home opened."""

from __future__ import annotations

from typing import Any

from handlers.kit import Kit
from handlers.needs import Needs

MENTION_HELP = (
    "Hi! I run incidents here. `/incident open P1 <title>` opens one, `/incident list` shows what is going on, "
    "`/incident help` lists everything."
)


async def mentioned(needs: Needs, event: dict[str, Any]) -> None:
    """Answered in the thread of the message that mentions the bot."""
    await needs.client.chat_postMessage(
        channel=event["channel"], thread_ts=event.get("thread_ts") or event["ts"], text=MENTION_HELP
    )


async def home_opened(needs: Needs, event: dict[str, Any]) -> None:
    """The App Home published for the person who opened it (after Slack is answered)."""
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    needs.tasks.spawn(needs.home.publish(str(event["user"])), name="app-home")


def register(kit: Kit) -> None:
    kit.event("app_mention", mentioned)
    kit.event("app_home_opened", home_opened)
