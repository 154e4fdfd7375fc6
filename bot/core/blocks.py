"""Block Kit helpers shared by every domain (pure), on top of ``slack_sdk.models.blocks``.

User-supplied text is escaped for mrkdwn so a title can never mention ``@channel`` or forge a link;
people are shown as mentions and times as Slack date tokens (each reader's own time zone).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.core.ids import USER_ID

SECTION_LIMIT = 3000


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


def md(text: str, limit: int = 2900) -> MarkdownTextObject:
    """A mrkdwn text object clipped inside Slack's limits (the text must already be escaped)."""
    return MarkdownTextObject(text=clip(text, limit))


def chunked_sections(lines: Sequence[str]) -> list[Block]:
    """Pack lines into sections that each stay inside Slack's 3,000-character limit."""
    sections: list[Block] = []
    current = ""
    for raw in lines:
        line = clip(raw, SECTION_LIMIT)
        if current and len(current) + 1 + len(line) > SECTION_LIMIT:
            sections.append(SectionBlock(text=MarkdownTextObject(text=current)))
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        sections.append(SectionBlock(text=MarkdownTextObject(text=current)))
    return sections
