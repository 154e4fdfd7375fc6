"""Incident channel names (pure): ``inc-42-checkout-api-returns-500s`` within Slack's rules.

Slack channel names are lowercase letters, digits, hyphens and underscores, at most 80 characters.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9]+")


def slug(title: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NOT_ALLOWED.sub("-", ascii_text.lower()).strip("-")


def channel_name(number: int, title: str, attempt: int = 1) -> str:
    """The name to try; ``attempt`` > 1 adds ``-2``, ``-3``… after Slack answered ``name_taken``."""
    prefix = f"inc-{number}"
    suffix = f"-{attempt}" if attempt > 1 else ""
    room = MAX_NAME - len(prefix) - len(suffix) - 1
    body = slug(title)[:room].rstrip("-") if room > 0 else ""
    return f"{prefix}-{body}{suffix}" if body else f"{prefix}{suffix}"
