"""What the digest domain adds to the shared surfaces: the morning health digest,
posted on its cron when there is a channel for it."""

from __future__ import annotations

from bot.core.board import Board
from bot.digest.service import DigestService


def declare(board: Board, service: DigestService) -> None:
    post = service.scheduled_post()
    if post is not None:
        board.declare(post)
