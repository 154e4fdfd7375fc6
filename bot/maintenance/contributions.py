"""What maintenance windows add to the shared surfaces: the hand-off's and the App Home's upcoming windows, the
digest's windows of the day, the window an incident opened during, the pages a window holds for alerts in its scope,
the nodes a window's buttons cordoned, the reminders' tick, and the weekly report's security patches."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.models.blocks import Block

from bot.core.board import Board, HomeSection, Periodic, WeeklySection
from bot.core.errors import DependencyError
from bot.digest.model import DigestPart, DigestSection
from bot.incidents.model import MAINTENANCE_LABEL
from bot.incidents.steps import OpenedDuring, PagingHold
from bot.maintenance import render
from bot.maintenance.patches import PatchService
from bot.maintenance.service import MaintenanceService
from bot.oncall.handoff import HandoffLine
from bot.operations.execute import AfterChange

REMINDERS_EVERY = timedelta(seconds=1)


def declare(board: Board, windows: MaintenanceService, patches: PatchService | None = None) -> None:
    async def today(now: datetime) -> DigestPart | None:
        try:
            lines = await windows.today_lines(now)
        except DependencyError as exc:  # the state store is unavailable: the rest of the digest posts
            lines = [f"⚠️ maintenance windows not read: {exc}"]
        return DigestPart(key="maintenance", title="Maintenance today", lines=lines) if lines else None

    async def home(viewer: str, now: datetime) -> list[Block]:
        return render.home_blocks(await windows.upcoming_lines(now))

    board.declare(
        Periodic("maintenance-reminders", REMINDERS_EVERY, windows.reminders.tick),
        HandoffLine(
            "maintenance",
            30,
            "Review upcoming maintenance",
            windows.upcoming_lines,
            note="(next 7 days)",
            empty="✅ none scheduled",
        ),
        DigestSection("maintenance", 40, "Maintenance today", today),
        HomeSection("maintenance", 40, home),
        OpenedDuring("maintenance", "🛠️", MAINTENANCE_LABEL, windows.during),
        PagingHold("maintenance", windows.hold, windows.ended, told=windows.told, released=windows.released),
        AfterChange("maintenance", windows.work.after_change),
    )
    if patches is not None:
        board.declare(WeeklySection("security-patches", 20, "Security patches", patches.weekly_lines))
