"""The ``dr`` section: disaster-recovery drills (pure)."""

from __future__ import annotations

from bot.core.settings.types import Strict


class Dr(Strict):
    """Disaster-recovery drills (``/dr drill``, ``dr.cron``)."""
