"""What the incident domain itself runs on the poller: reminders to commanders of quiet P1/P2 incidents, and the end
of holds on paging (``bot.incidents.holds``)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.board import Board, Periodic
from bot.core.settings.config import BotConfig
from bot.incidents.holds import PagingHolds
from bot.incidents.updates import StatusUpdates

MOST_OFTEN = timedelta(seconds=10)


def declare(board: Board, config: BotConfig, updates: StatusUpdates, holds: PagingHolds | None = None) -> None:
    every = min(MOST_OFTEN, config.updates.remind_after / 2)
    board.declare(Periodic("update-reminders", every, updates.remind))
    if holds is not None:
        board.declare(holds.periodic())
