"""What the reports domain adds to the shared surfaces: the weekly report,
posted on its cron when there is a channel for it, and its "Who did what in the clusters" section (the EKS
clusters' audit logs) when there are EKS clusters to read."""

from __future__ import annotations

from bot.core.board import Board
from bot.reports import cluster_audit
from bot.reports.weekly import WeeklyReports


def declare(board: Board, service: WeeklyReports) -> None:
    post = service.scheduled_post()
    if post is not None:
        board.declare(post)
    section = cluster_audit.section(service.config, service.aws)
    if section is not None:
        board.declare(section)
