"""Following through a response_url: Slack takes five messages per response_url, so the final state always fits."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.operations.follow import Follower, ResponseSink


def test_a_long_follow_uses_at_most_five_messages_and_always_shows_the_end() -> None:
    sent: list[str] = []

    async def respond(**kwargs: Any) -> None:
        sent.append(kwargs["text"])

    readings = iter([(f"InProgress, {n}/30 items", False) for n in range(30)] + [("Completed, 30/30 items", True)])

    async def read() -> tuple[str, bool]:
        return next(readings)

    async def main() -> str:
        sink = ResponseSink(respond, spacing=0.0)
        return await Follower(timedelta(minutes=5), interval=0.0).follow(read, sink, "Backup `b`")

    final = asyncio.run(main())
    assert final == "Backup `b`: Completed, 30/30 items"
    assert len(sent) == 5 and sent[0] == "Backup `b`: InProgress, 0/30 items" and sent[-1] == final


def test_intermediate_states_are_spaced_out() -> None:
    sent: list[str] = []

    async def respond(**kwargs: Any) -> None:
        sent.append(kwargs["text"])

    readings = iter([("New", False), ("InProgress", False), ("Completed", True)])

    async def read() -> tuple[str, bool]:
        return next(readings)

    async def main() -> None:
        await Follower(timedelta(minutes=5), interval=0.0).follow(read, ResponseSink(respond, spacing=60), "B")

    asyncio.run(main())
    assert sent == ["B: New", "B: Completed"]
