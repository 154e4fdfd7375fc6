"""What the capacity domain adds to the shared surfaces: the monthly review in channels.digest, the hourly job
that takes each cluster's daily sample, and the morning digest's "Resource use" and "Errors in logs"."""

from __future__ import annotations

from datetime import timedelta

from bot.capacity.log_errors import section as log_errors
from bot.capacity.service import CapacityService
from bot.core.board import Board, Periodic
from bot.digest.model import DigestSection

USE_ORDER = 30
SAMPLE_EVERY = timedelta(hours=1)
# The day's first sample reads every pod and node: not in the first seconds, while start-up answers people first
# (the shell's first command, a replica's first requests).
SAMPLE_FIRST_AFTER = timedelta(minutes=1)


def declare(board: Board, service: CapacityService, errors: log_errors.LogErrorsSection) -> None:
    post = service.scheduled_post()
    if post is not None:
        board.declare(post)
    board.declare(Periodic("capacity-sample", SAMPLE_EVERY, service.sample, SAMPLE_FIRST_AFTER))
    board.declare(DigestSection("resource-use", USE_ORDER, "Resource use", service.resource_use))
    log_errors.declare(board, errors)  # its own module: digest --print declares it without the review's Slack code
