"""What the reports domain adds to the shared surfaces: the weekly report,
posted on its cron when there is a channel for it."""

from __future__ import annotations

from bot.core.board import Board
from bot.reports.weekly import WeeklyReports


def declare(board: Board, service: WeeklyReports) -> None:
    post = service.scheduled_post()
    if post is not None:
        board.declare(post)
