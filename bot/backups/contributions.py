"""What the backups domain adds to the shared surfaces: the digest's RDS backups ("Verify backup completion").

Kept free of Slack and Redis: ``chatops-bot digest --print`` declares it too.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.core.board import Board
from bot.core.settings.config import BotConfig
from bot.digest.model import DigestPart, DigestSection
from runbooks.aws.session import AwsSession
from runbooks.checklist.backups import RDS_TITLE
from runbooks.checklist.collect import rds_backups
from runbooks.checklist.model import Section

RDS_ORDER = 10


def rds_section(config: BotConfig, aws: AwsSession | None) -> DigestSection | None:
    """The RDS instances' automated backups, when AWS is configured and RDS instances are named (or ``all``)."""
    settings = config.aws
    if settings is None or aws is None or settings.rds.instances == []:
        return None
    title = f"AWS ({settings.region})"
    timeout = config.digest.check_timeout.total_seconds()

    async def part(now: datetime) -> DigestPart:
        try:
            section = await asyncio.wait_for(asyncio.to_thread(rds_backups, aws, settings.rds.wanted, now), timeout)
        except TimeoutError:
            section = Section(key="rds", title=RDS_TITLE, note="timed out reading RDS", failed=True)
        return DigestPart(key="rds", title=title, sections=[section])

    return DigestSection("rds-backups", RDS_ORDER, title, part)


def declare(board: Board, config: BotConfig, aws: AwsSession | None) -> None:
    section = rds_section(config, aws)
    if section is not None:
        board.declare(section)
