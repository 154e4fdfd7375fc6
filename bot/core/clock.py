"""The bot's one time source. ``utcnow`` in production; a :class:`MovableClock` where time is moved on at will (the
shell's ``wait``, the tests), which every deadline, reminder and schedule then follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


class MovableClock:
    """Real time plus an offset that only grows: ``advance(timedelta(minutes=15))`` is fifteen minutes later."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self.offset = offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, step: timedelta) -> datetime:
        if step < timedelta():
            raise ValueError("the clock only moves on")
        self.offset += step
        return self()
