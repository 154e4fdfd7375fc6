"""Block Kit and mrkdwn as terminal text (rich): headers bold, fields two per line, context dimmed, mentions as
@names, date tokens in local time, links as text (url), buttons numbered in brackets. Pure: a message in, rich
Text out, plus what can be clicked."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text

TOKEN = re.compile(r"<([^<>]+)>")
STYLE = re.compile(r"(\*[^*\n]+\*|`[^`\n]+`|_[^_\n]+_)")


@dataclass(frozen=True)
class Clickable:
    """A button, select or user picker of a shown message."""

    number: int
    element: dict[str, Any]
    block_id: str

    @property
    def label(self) -> str:
        text = self.element.get("text") or self.element.get("placeholder") or {}
        return str(text.get("text", self.element.get("action_id", "?"))) if isinstance(text, dict) else str(text)


@dataclass
class Names:
    """Slack ids as people read them."""

    users: Mapping[str, str]
    channels: Mapping[str, str]

    def user(self, user_id: str) -> str:
        return "@" + self.users.get(user_id, user_id)

    def channel(self, channel_id: str) -> str:
        if channel_id.startswith("D"):
            return f"DM with @{self.users.get('U' + channel_id[1:], channel_id)}"
        return "#" + self.channels.get(channel_id, channel_id)


def _token(inner: str, names: Names) -> str:
    head, _, label = inner.partition("|")
    if head.startswith("@"):
        return names.user(head[1:])
    if head.startswith("#"):
        return f"#{label}" if label else names.channel(head[1:])
    if head.startswith("!date^"):
        parts = head.split("^")
        try:
            return datetime.fromtimestamp(int(parts[1])).astimezone().strftime("%a %d %b %H:%M")
        except (IndexError, ValueError):
            return label or head
    if head.startswith("!"):
        return "@" + head[1:].split("^")[0]
    return f"{label} ({head})" if label and label != head else head


def mrkdwn(text: str, names: Names, style: str = "") -> Text:
    """Slack mrkdwn as rich Text: *bold*, `code`, _italic_, mentions, dates and links readable."""
    plain = TOKEN.sub(lambda m: _token(m.group(1), names), text)
    plain = html.unescape(plain)
    out = Text(style=style)
    for piece in STYLE.split(plain):
        if len(piece) > 2 and piece[0] == piece[-1] == "*":
            out.append(piece[1:-1], style="bold")
        elif len(piece) > 2 and piece[0] == piece[-1] == "`":
            out.append(piece[1:-1], style="cyan")
        elif len(piece) > 2 and piece[0] == piece[-1] == "_":
            out.append(piece[1:-1], style="italic")
        else:
            out.append(piece)
    return out


def _text(obj: Any, names: Names, style: str = "") -> Text:
    if not isinstance(obj, dict):
        return Text(str(obj or ""), style=style)
    if obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), names, style)
    return Text(html.unescape(str(obj.get("text", ""))), style=style)


def _field(obj: Any, names: Names) -> Text:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        obj = {**obj, "text": obj["text"].replace("\n", ": ", 1)}
    return _text(obj, names)


def _clickable(element: dict[str, Any], block_id: str, found: list[Clickable]) -> Text:
    kind = element.get("type")
    number = len(found) + 1
    found.append(Clickable(number, element, block_id))
    label = Clickable(number, element, block_id).label
    if kind == "button":
        mark = " ↗" if element.get("url") else ""
        style = {"primary": "bold green", "danger": "bold red"}.get(str(element.get("style")), "bold")
        return Text(f"[{number} {label}{mark}]", style=style)
    return Text(f"[{number} ▾ {label}]", style="bold")


def blocks(message_blocks: list[dict[str, Any]], names: Names, fallback: str = "") -> tuple[Text, list[Clickable]]:
    """A message's blocks as text, and its clickable elements in order (numbered from 1)."""
    out = Text()
    found: list[Clickable] = []
    if not message_blocks:
        return mrkdwn(fallback, names), found
    for block in message_blocks:
        kind = block.get("type")
        line = Text()
        if kind == "header":
            line = _text(block.get("text"), names, "bold underline")
        elif kind == "section":
            if block.get("text"):
                line.append_text(_text(block["text"], names))
            fields = block.get("fields") or []
            for i in range(0, len(fields), 2):  # two fields a line, each "Label: value"
                if len(line):
                    line.append("\n")
                line.append_text(Text("    ").join(_field(f, names) for f in fields[i : i + 2]))
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") in ("button", "users_select", "static_select"):
                line.append("  ")
                line.append_text(_clickable(accessory, str(block.get("block_id", "")), found))
        elif kind == "context":
            line = Text(" · ").join(_text(e, names, "dim") for e in block.get("elements") or [])
        elif kind == "divider":
            line = Text("─" * 40, style="dim")
        elif kind == "actions":
            block_id = str(block.get("block_id", ""))
            line = Text(" ").join(_clickable(e, block_id, found) for e in block.get("elements") or [])
        elif kind == "rich_text":
            line = Text(fallback)
        else:
            continue
        if len(out):
            out.append("\n")
        out.append_text(line)
    return out, found


def options(element: dict[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of a select's options."""
    found = element.get("options") or [o for g in element.get("option_groups") or [] for o in g.get("options") or []]
    return [(str(o.get("value")), str((o.get("text") or {}).get("text", o.get("value")))) for o in found]
