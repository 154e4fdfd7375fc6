"""mrkdwn text helpers shared by every domain (pure, no Slack SDK): escaping, mentions, date tokens, clipping.

User-supplied text is escaped for mrkdwn so a title can never mention ``@channel`` or forge a link;
people are shown as mentions and times as Slack date tokens (each reader's own time zone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.ids import USER_ID

SECTION_LIMIT = 3000


def as_text(value: Any) -> str:
    """A stored value as text: Redis clients answer str (decode_responses) but scripts and some paths give bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


def escape(text: str) -> str:
    """Escape user text for mrkdwn: &, < and > per Slack's formatting rules."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user(user_id: str | None) -> str:
    """A mention for a Slack user id; other actors (the bot itself, Alertmanager) by name."""
    if not user_id:
        return "—"
    return f"<@{user_id}>" if USER_ID.match(user_id) else escape(user_id)


def when(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token: rendered in each reader's own time zone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
