"""Block Kit helpers shared by every domain (pure), on top of ``slack_sdk.models.blocks``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

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


MESSAGE_BLOCKS = 50
MESSAGE_TEXT = 11_000  # Slack refuses a message past about 12,000 characters of block text (msg_blocks_too_long)


def texts(node: Any) -> Iterator[str]:
    """Every text of Block Kit as JSON (plain_text and mrkdwn objects, at any depth)."""
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            if isinstance(value, dict | list):
                yield from texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from texts(item)


def text_size(block: Block) -> int:
    """How many characters of text a block holds, as Slack counts them against a message."""
    return sum(len(t) for t in texts(block.to_dict()))


def messages(
    blocks: Sequence[Block], *, most: int = 5, cut: str = "…more left out", reserve: int = 0
) -> list[list[Block]]:
    """Blocks split, in order, into at most ``most`` messages that Slack each takes (50 blocks, about 12,000
    characters of block text); what does not fit in them is left out, the last one saying ``cut``. ``reserve``:
    blocks kept free in each message for the caller (a footer)."""
    out: list[list[Block]] = [[]]
    size = 0
    room = MESSAGE_BLOCKS - 1 - reserve  # and one for ``cut``
    for block in blocks:
        n = text_size(block)
        if out[-1] and (len(out[-1]) >= room or size + n > MESSAGE_TEXT):
            if len(out) == most:
                out[-1].append(ContextBlock(elements=[MarkdownTextObject(text=cut)]))
                return out
            out.append([])
            size = 0
        out[-1].append(block)
        size += n
    return out
