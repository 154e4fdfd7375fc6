"""Slash commands of the manifest whose features arrive in later releases: an honest answer, not silence."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import metrics

PLANNED = {
    "/rollback": "rollbacks from chat",
    "/runbook": "runbooks from chat",
}


def register(app: AsyncApp) -> None:
    for name, feature in PLANNED.items():
        app.command(name)(_not_yet(name, feature))


def _not_yet(name: str, feature: str) -> Any:
    async def handler(ack: AsyncAck) -> None:
        metrics.REQUESTS.labels(kind="command", name=name, outcome="not_available").inc()
        await ack(
            text=f"`{name}` ({feature}) is not available in this version of chatops-bot yet. Try `/incident help`."
        )

    handler.__name__ = f"not_yet_{name.strip('/')}"
    return handler
