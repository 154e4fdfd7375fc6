"""The public status page (Atlassian Statuspage's REST API): an incident posted from Slack with a text a person wrote
(nothing internal reaches it by default), updates with ``/incident update --public``, resolved when asked, and the
components marked from the severity (P1 major outage, P2 partial outage, else degraded performance) and back to
operational on resolve.

Calls run in background tasks, never in the way of the incident. Transient failures (429 with Retry-After, 5xx, no
answer) are retried with backoff; a permanent one (401 and other 4xx) is said in the incident's thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import keys, slack, telemetry
from bot.core.errors import DependencyError, UserError
from bot.core.settings.config import Statuspage as StatuspageSettings
from bot.core.severity import Severity
from bot.core.slack import SLACK_ERRORS
from bot.core.text import escape
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident, State
from bot.incidents.service import IncidentService

log = logging.getLogger(__name__)

TIMEOUT = 10.0
RETRY_WAITS = (1.0, 2.0, 4.0, 8.0)
MAX_RETRY_AFTER = 30.0
CREATING_TTL = 120
COMPONENT_STATUS = {Severity.P1: "major_outage", Severity.P2: "partial_outage"}
PAGE_STATUS = {
    State.OPEN: "investigating",
    State.ACKNOWLEDGED: "identified",
    State.MITIGATED: "monitoring",
    State.RESOLVED: "resolved",
    State.CLOSED: "resolved",
}
NAME_MAX, BODY_MAX = 255, 5000
ANNOUNCEMENT_WAIT = 20.0  # a note on an incident whose announcement is being posted waits for its thread


class StatuspageFailed(DependencyError):
    """The status page refused or never answered; the message says which and what to do."""


class StatuspageApi:
    def __init__(self, settings: StatuspageSettings, api_key: str, waits: Sequence[float] = RETRY_WAITS) -> None:
        self.base = f"{settings.api_url}/pages/{settings.page_id}"
        self.key = api_key
        self.waits = tuple(waits)

    async def call(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One API call, retried while the failure is transient."""
        headers = {"Authorization": f"OAuth {self.key}"}
        last = "no answer"
        refused: tuple[int, str] | None = None
        for attempt, wait in enumerate((0.0, *self.waits)):
            if attempt:
                telemetry.STATUSPAGE_CALLS.labels(outcome="retried").inc()
                await asyncio.sleep(wait)
            try:
                async with (
                    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
                    session.request(method, f"{self.base}{path}", json=body, headers=headers) as resp,
                ):
                    if 200 <= resp.status < 300:
                        telemetry.STATUSPAGE_CALLS.labels(outcome="ok").inc()
                        found = await resp.json(content_type=None)
                        return found if isinstance(found, dict) else {}
                    text = (await resp.text())[:200]
                    if resp.status == 429:
                        after = resp.headers.get("Retry-After", "")
                        if after.isdigit() and attempt < len(self.waits):
                            await asyncio.sleep(min(float(after), MAX_RETRY_AFTER))
                        last = "429 Too Many Requests"
                        continue
                    if resp.status >= 500:
                        last = f"{resp.status}"
                        continue
                    refused = (resp.status, text)
            except (aiohttp.ClientError, TimeoutError) as exc:
                last = type(exc).__name__
                continue
            telemetry.STATUSPAGE_CALLS.labels(outcome="failed").inc()
            status, said = refused
            hint = " (check STATUSPAGE_API_KEY)" if status in (401, 403) else ""
            raise StatuspageFailed(f"the status page refused it: {status} {said}{hint}")
        telemetry.STATUSPAGE_CALLS.labels(outcome="failed").inc()
        raise StatuspageFailed(f"the status page did not take it after {len(self.waits) + 1} attempts ({last})")


class PublicStatus:
    """What the bot does on the status page, for an incident."""

    def __init__(
        self,
        *,
        settings: StatuspageSettings,
        api: StatuspageApi,
        incidents: IncidentService,
        client: AsyncWebClient,
        refresh: Callable[[int], Awaitable[object]],
    ) -> None:
        self.settings = settings
        self.api = api
        self.incidents = incidents
        self.store = incidents.store
        self.client = client
        self.refresh = refresh  # the announcement re-rendered (its status page buttons move on)

    def offered(self, incident: Incident) -> bool:
        """Whether its announcement offers the status page (P1 is the highest severity)."""
        return incident.severity.value <= self.settings.min_severity.value

    def components(self, services: Sequence[str]) -> list[str]:
        return [self.settings.components[s] for s in services if s in self.settings.components]

    async def post(self, number: int, name: str, body: str, services: Sequence[str], actor: str) -> None:
        """A new public incident (once, however many times it is submitted)."""
        incident = await self.store.get(number)
        if incident.statuspage_id:
            await self.update(number, body, actor)
            return
        if not await self.store.claim(keys.statuspage_claim(number), CREATING_TTL):
            await self._say(incident, "the status page post is being made already")
            return
        components = self.components(services)
        down = COMPONENT_STATUS.get(incident.severity, "degraded_performance")
        status = PAGE_STATUS[incident.state]
        payload = {
            "incident": {
                "name": name[:NAME_MAX],
                "status": status,
                "body": body[:BODY_MAX],
                "component_ids": components,
                "components": dict.fromkeys(components, down),
                "deliver_notifications": True,
            }
        }
        try:
            created = await self.api.call("POST", "/incidents", payload)
        except StatuspageFailed as exc:
            await self.store.release(keys.statuspage_claim(number))
            await self._say(incident, f"⚠️ Not posted to the status page: {exc}.")
            return
        page_id = str(created.get("id") or "")
        what = f"posted “{name}”: {body}" + (f" (components {', '.join(services)}: {down})" if components else "")
        await self.incidents.published(number, page_id, status, what, actor=actor, components=components)
        await self.refresh(number)
        await self._say(incident, f"📣 Posted to the status page as *{escape(name)}*.")

    async def update(self, number: int, body: str, actor: str) -> None:
        incident = await self.store.get(number)
        if not incident.statuspage_id:
            await self.post(number, incident.title, body, [], actor)
            return
        status = PAGE_STATUS[incident.state]
        await self._patch(incident, status, body, actor, f"update ({status}): {body}")

    async def resolve(self, number: int, actor: str) -> None:
        incident = await self.store.get(number)
        if not incident.statuspage_id:
            raise UserError(f"{incident.ref} is not on the status page.")
        if incident.statuspage_status == "resolved":
            raise UserError(f"{incident.ref} is resolved on the status page already.")
        body = "This incident has been resolved."
        await self._patch(incident, "resolved", body, actor, "resolved; components operational", operational=True)

    async def _patch(
        self, incident: Incident, status: str, body: str, actor: str, what: str, *, operational: bool = False
    ) -> None:
        update: dict[str, Any] = {"status": status, "body": body[:BODY_MAX]}
        if incident.statuspage_components:
            down = "operational" if operational else COMPONENT_STATUS.get(incident.severity, "degraded_performance")
            update["components"] = dict.fromkeys(incident.statuspage_components, down)
        try:
            await self.api.call("PATCH", f"/incidents/{incident.statuspage_id}", {"incident": update})
        except StatuspageFailed as exc:
            await self._say(incident, f"⚠️ The status page was not updated: {exc}.")
            return
        assert incident.statuspage_id is not None
        await self.incidents.published(incident.number, incident.statuspage_id, status, what, actor=actor)
        await self.refresh(incident.number)
        await self._say(incident, f"📣 Status page: {escape(what)}")

    async def ask_to_resolve(self, incident: Incident, entry: TimelineEntry) -> None:
        """After a resolve: "Resolve on the status page?" in the incident's thread (the announcement has the button)."""
        if entry.kind != "resolved" or not incident.statuspage_id or incident.statuspage_status == "resolved":
            return
        await self._say(
            incident, "Resolve on the status page too? The announcement's *Resolve on status page* button does it."
        )

    async def _say(self, incident: Incident, text: str) -> None:
        """A line in the incident's channel, else its announcement's thread."""
        where = await self.store.where_to_reply(incident, wait=ANNOUNCEMENT_WAIT)
        if where is None:
            return
        channel, thread = where
        try:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", f"a status page note on {incident.ref}", exc)
