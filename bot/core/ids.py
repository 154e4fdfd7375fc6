"""Slack ids as they appear in config files and chat (pure): users, user groups, channels, mentions."""

from __future__ import annotations

import re

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$", re.ASCII)
GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$", re.ASCII)
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$", re.ASCII)
# <@U123>, <@U123|name> (as Slack sends a mention), @U123 or U123 (typed by hand).
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$", re.ASCII)


def mentioned_user(token: str) -> str | None:
    """The user id a chat token names, or None when it names no single user."""
    match = _MENTION.match(token.strip())
    if not match:
        return None
    return match.group(1) or match.group(2)


def is_user(value: str | None) -> bool:
    return bool(value) and USER_ID.match(value or "") is not None
