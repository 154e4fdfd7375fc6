"""What is firing now, from Alertmanager's API (``GET /api/v2/alerts?active=true&silenced=false&inhibited=false``),
grouped by alertname and severity: for ``/alerts``, the hand-off's "Check alert status" and the morning digest. An
Alertmanager that does not answer is said in that section; nothing else waits on it. Behind authentication, every
call carries the ``Authorization`` header from ALERTMANAGER_AUTH (never the URL, never a log line)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import aiohttp

from bot.alerts.routing import SEVERITY_LABEL
from bot.core.errors import DependencyError
from bot.core.severity import Severity
from bot.core.text import clip, escape

TIMEOUT = 5.0
SHOWN = 15


def grouped(alerts: Sequence[dict[str, Any]]) -> list[str]:
    """One line per alertname and severity, most severe first: how many, and where (pure)."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for alert in alerts:
        labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
        groups[labels.get("alertname", "alert"), labels.get("severity", "none")].append(labels)

    def rank(key: tuple[str, str]) -> tuple[str, str]:
        return SEVERITY_LABEL.get(key[1].lower(), Severity.P3).value, key[0]

    lines = []
    for name, severity in sorted(groups, key=rank):
        members = groups[name, severity]
        where = sorted({m.get("namespace") or m.get("service") or m.get("instance") or "" for m in members} - {""})
        at = f" — {', '.join(where[:4])}" + (f" and {len(where) - 4} more" if len(where) > 4 else "") if where else ""
        lines.append(clip(f"• *{escape(name)}* ({escape(severity)}): {len(members)} firing{escape(at)}", 300))
    if len(lines) > SHOWN:
        lines = [*lines[:SHOWN], f"…and {len(lines) - SHOWN} more alert names"]
    return lines


class FiringAlerts:
    def __init__(self, url: str, authorization: str | None = None) -> None:
        self.url = url
        self._headers = {"Authorization": authorization} if authorization else None

    async def read(self) -> list[dict[str, Any]]:
        query = {"active": "true", "silenced": "false", "inhibited": "false"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT), headers=self._headers) as session,
                session.get(f"{self.url}/api/v2/alerts", params=query) as resp,
            ):
                if resp.status in (401, 403):
                    what = "refused ALERTMANAGER_AUTH" if self._headers else "wants credentials: set ALERTMANAGER_AUTH"
                    raise DependencyError(f"Alertmanager at {self.url} answered {resp.status} ({what})")
                if resp.status != 200:
                    raise DependencyError(f"Alertmanager at {self.url} answered {resp.status}")
                found = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DependencyError(f"Alertmanager at {self.url} did not answer ({type(exc).__name__})") from None
        if not isinstance(found, list):
            raise DependencyError(f"Alertmanager at {self.url} did not answer with a list of alerts")
        return [a for a in found if isinstance(a, dict)]

    async def lines(self) -> list[str]:
        """The firing alerts grouped, or one line saying Alertmanager could not be read."""
        try:
            alerts = await self.read()
        except DependencyError as exc:
            return [f"⚠️ {exc}"]
        return grouped(alerts) or ["✅ nothing firing"]
