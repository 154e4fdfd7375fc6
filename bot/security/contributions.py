"""What the security domain adds to the shared surfaces: the weekly security audit,
posted on its cron when there is a channel for it."""

from __future__ import annotations

from bot.core.board import Board
from bot.security.service import SecurityService


def declare(board: Board, service: SecurityService) -> None:
    post = service.scheduled_post()
    if post is not None:
        board.declare(post)
