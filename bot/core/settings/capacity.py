"""The ``capacity`` section: the monthly capacity review (pure)."""

from __future__ import annotations

from bot.core.settings.types import Strict


class Capacity(Strict):
    """The monthly capacity review (``/capacity``, ``capacity.cron``)."""
