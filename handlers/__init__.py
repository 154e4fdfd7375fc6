"""Slack listeners: parse, check permission, ack within 3 s, call the domain, render.

Every listener module has one ``register(app, svc)``; :func:`register_all` calls them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from handlers import (
    alerts,
    backups,
    collab,
    events,
    health,
    home,
    incident,
    maintenance,
    oncall,
    runbooks,
    security,
)

if TYPE_CHECKING:
    from bot.runtime.services import Services

LISTENERS = (incident, collab, alerts, runbooks, backups, maintenance, security, oncall, health, home, events)


def register_all(app: AsyncApp, svc: Services) -> None:
    for module in LISTENERS:
        module.register(app, svc)
