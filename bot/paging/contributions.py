"""What paging adds to the shared surfaces: after each Slack page of the escalation, the person's SMS and calls
(``AfterPage``), and the poller's job that makes them when due."""

from __future__ import annotations

from datetime import timedelta

from bot.core.board import Board, Periodic
from bot.oncall.escalator import AfterPage
from bot.paging.engine import Pager


def declare(board: Board, pager: Pager | None) -> None:
    if pager is None:
        return
    board.declare(
        AfterPage("paging", pager.paged),
        Periodic("paging", timedelta(0), pager.tick),  # every tick of the poller, as escalation
    )
