"""A timeline entry (pure): one line of an append-only record of something that changes (an incident, a maintenance
window), with who and when; and reading one back from its Redis stream."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.core.text import as_text as _text


class TimelineEntry(BaseModel):
    """One line of an append-only timeline (an incident's, a maintenance window's)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    kind: str
    text: str = ""
    entry_id: str | None = Field(default=None, description="the Redis stream id once stored")


def from_stream(entry_id: Any, fields: dict[Any, Any]) -> TimelineEntry:
    """An entry as a stream holds it (``at``, ``actor``, ``kind``, ``text``), with its stream id."""
    data = {_text(k): _text(v) for k, v in fields.items()}
    return TimelineEntry(
        at=datetime.fromisoformat(data.get("at", "1970-01-01T00:00:00+00:00")).astimezone(UTC),
        actor=data.get("actor", ""),
        kind=data.get("kind", ""),
        text=data.get("text", ""),
        entry_id=_text(entry_id),
    )
