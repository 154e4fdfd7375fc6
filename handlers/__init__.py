"""Slack listeners: each module declares its commands, buttons, forms and events on the listener kit
(``handlers.kit``) with module-level callbacks; :func:`register_all` wires them all to the Bolt app."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import (
    alerts,
    backups,
    capacity,
    changes,
    dr,
    events,
    health,
    home,
    incident,
    maintenance,
    oncall,
    runbooks,
    security,
)
from handlers.kit import Kit
from handlers.needs import Needs

LISTENERS = (
    incident, alerts, runbooks, changes, backups, dr, maintenance, security, capacity, oncall, health, home, events,
)  # fmt: skip


def register_all(app: AsyncApp, needs: Needs) -> None:
    kit = Kit(app, needs)
    for module in LISTENERS:
        module.register(kit)
