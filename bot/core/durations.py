"""Durations as written in the config file: ``90s``, ``15m``, ``4h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"([0-9]+)([smhd])")
_WHOLE = re.compile(r"^(?:[0-9]+[smhd])+$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """Parse ``15m``-style text into a timedelta; raise ValueError with the accepted form."""
    cleaned = text.strip().lower().replace(" ", "")
    if not _WHOLE.match(cleaned):
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 15m, 4h, 1h30m or 2d")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(cleaned))
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Render a timedelta compactly (``1h 5m``, ``42s``), largest units first, at most two parts."""
    total = int(delta.total_seconds())
    total = max(total, 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size or (unit == "s" and not parts):
            parts.append(f"{total // size}{unit}")
            total %= size
        if len(parts) == 2:
            break
    return " ".join(parts)
