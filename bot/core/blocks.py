"""Block Kit helpers shared by every domain (pure), on top of ``slack_sdk.models.blocks``."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.core.text import SECTION_LIMIT, clip


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
