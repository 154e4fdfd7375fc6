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
from bot.core.outbox import Outbox
from bot.core.settings.config import Statuspage as StatuspageSettings
from bot.core.severity import Severity
from bot.core.slack import SLACK_ERRORS
from bot.core.text import escape
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident, State
from bot.incidents.service import IncidentService

log = logging.getLogger(__name__)

RETRY_WAITS = (1.0, 2.0, 4.0, 8.0)
MAX_RETRY_AFTER = 30.0
CREATING_TTL = 300  # a post's claim, at least: its attempts, their look-ups and waits fit well inside it
MARKER = "chatops"  # the public incident's metadata that names the post that made it (found again by it)
COMPONENT_STATUS = {Severity.P1: "major_outage", Severity.P2: "partial_outage"}
PAGE_STATUS = {
    State.OPEN: "investigating",
    State.ACKNOWLEDGED: "identified",
    State.MITIGATED: "monitoring",
    State.RESOLVED: "resolved",
    State.CLOSED: "resolved",
}
NAME_MAX, BODY_MAX = 255, 5000
FIRST_POST = "its first public post is written in the form of the announcement's *Post to status page* button"
ANNOUNCEMENT_WAIT = 20.0  # a note on an incident whose announcement is being posted waits for its thread


class StatuspageFailed(DependencyError):
    """The status page refused or never answered; the message says which and what to do."""


Landed = Callable[[], Awaitable[dict[str, Any] | None]]  # what an unanswered create made, if it made anything


class StatuspageApi:
    def __init__(self, settings: StatuspageSettings, api_key: str, waits: Sequence[float] = RETRY_WAITS) -> None:
        self.base = f"{settings.api_url}/pages/{settings.page_id}"
        self.key = api_key
        self.waits = tuple(waits)
        self.timeout = settings.timeout.total_seconds()

    async def call(
        self, method: str, path: str, body: dict[str, Any], *, landed: Landed | None = None
    ) -> dict[str, Any]:
        """One API call, retried while the failure is transient.

        ``landed``, for a create: how to find what an attempt left unanswered (no answer in time, a 5xx) may have
        made. Before such an attempt is repeated, and once after the last, it is asked; what it finds is the answer.
        A create that may have been made is never repeated blindly (one public incident, however answers are lost).
        """
        headers = {"Authorization": f"OAuth {self.key}"}
        last = "no answer"
        refused: tuple[int, str] | None = None
        unsure = False  # an attempt may have been carried out without our knowing
        for attempt, wait in enumerate((0.0, *self.waits)):
            if attempt:
                telemetry.STATUSPAGE_CALLS.labels(outcome="retried").inc()
                await asyncio.sleep(wait)
            if unsure and landed is not None:
                looked, found = await self.look(landed)
                if found is not None:
                    telemetry.STATUSPAGE_CALLS.labels(outcome="ok").inc()
                    return found
                if not looked:  # still unknown: look again before trying anything
                    last = "no answer, and the look-up for it failed"
                    continue
                unsure = False
            try:
                async with (
                    aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session,
                    session.request(method, f"{self.base}{path}", json=body, headers=headers) as resp,
                ):
                    if 200 <= resp.status < 300:
                        telemetry.STATUSPAGE_CALLS.labels(outcome="ok").inc()
                        found = await resp.json(content_type=None)
                        return found if isinstance(found, dict) else {}
                    text = (await resp.text())[:200]
                    if resp.status == 429:  # not taken
                        after = resp.headers.get("Retry-After", "")
                        if after.isdigit() and attempt < len(self.waits):
                            await asyncio.sleep(min(float(after), MAX_RETRY_AFTER))
                        last = "429 Too Many Requests"
                        continue
                    if resp.status >= 500:
                        last, unsure = f"{resp.status}", True
                        continue
                    refused = (resp.status, text)
            except aiohttp.ClientConnectorError as exc:  # never reached the page: nothing was made
                last = type(exc).__name__
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                last, unsure = type(exc).__name__, True
                continue
            telemetry.STATUSPAGE_CALLS.labels(outcome="failed").inc()
            status, said = refused
            hint = " (check STATUSPAGE_API_KEY)" if status in (401, 403) else ""
            raise StatuspageFailed(f"the status page refused it: {status} {said}{hint}")
        if unsure and landed is not None:
            _, found = await self.look(landed)
            if found is not None:
                telemetry.STATUSPAGE_CALLS.labels(outcome="ok").inc()
                return found
        telemetry.STATUSPAGE_CALLS.labels(outcome="failed").inc()
        raise StatuspageFailed(f"the status page did not take it after {len(self.waits) + 1} attempts ({last})")

    @staticmethod
    async def look(landed: Landed) -> tuple[bool, dict[str, Any] | None]:
        """Whether the look-up answered, and what it found."""
        try:
            return True, await landed()
        except (StatuspageFailed, aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "status page look-up failed: %s", exc if isinstance(exc, StatuspageFailed) else type(exc).__name__
            )
            return False, None

    async def unresolved(self) -> list[dict[str, Any]]:
        """The page's unresolved incidents (one attempt: the caller retries)."""
        headers = {"Authorization": f"OAuth {self.key}"}
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session,
            session.get(f"{self.base}/incidents/unresolved", headers=headers) as resp,
        ):
            if resp.status != 200:
                raise StatuspageFailed(f"listing the unresolved incidents answered {resp.status}")
            found = await resp.json(content_type=None)
        return [i for i in found if isinstance(i, dict)] if isinstance(found, list) else []


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
        outbox: Outbox,
    ) -> None:
        self.outbox = outbox
        self.settings = settings
        self.api = api
        self.incidents = incidents
        self.store = incidents.store
        self.client = client
        self.refresh = refresh  # the announcement re-rendered (its status page buttons move on)

    def offered(self, incident: Incident) -> bool:
        """Whether its announcement offers the status page (P1 is the highest severity)."""
        return incident.severity.value <= self.settings.min_severity.value

    def below_minimum(self, incident: Incident) -> str | None:
        """Why a first public post of ``incident`` is refused (below ``statuspage.min_severity``), else None."""
        if self.offered(incident):
            return None
        least = self.settings.min_severity.value
        return (
            f"{incident.ref} is {incident.severity.value}: the status page takes {least} and above "
            "(`statuspage.min_severity`)"
        )

    def components(self, chosen: Sequence[str]) -> list[str]:
        """The component ids chosen in the form: its options carry the ids (forms opened before, service names)."""
        known = self.settings.components
        ids = [known.get(c, c) for c in chosen if c in known or c in known.values()]
        return list(dict.fromkeys(ids))

    def named(self, components: Sequence[str]) -> list[str]:
        """The config's service names of component ids, for the timeline."""
        return [s for s, c in sorted(self.settings.components.items()) if c in components]

    async def post(self, number: int, name: str, body: str, services: Sequence[str], actor: str) -> None:
        """A new public incident (once, however many times it is submitted)."""
        incident = await self.store.get(number)
        if incident.statuspage_id:
            await self.update(number, body, actor)
            return
        below = self.below_minimum(incident)
        if below is not None:  # nothing below the minimum is public (a form opened before a severity change)
            await self._say(incident, f"⚠️ Not posted to the status page: {below}.")
            return
        # Every attempt and look-up may take the whole timeout: the claim outlasts them all.
        tries = 2 * (len(self.api.waits) + 2)
        ttl = max(CREATING_TTL, int(tries * self.api.timeout + sum(self.api.waits) + MAX_RETRY_AFTER + 60))
        if not await self.store.claim(keys.statuspage_claim(number), ttl):
            await self._say(incident, "the status page post is being made already")
            return
        components = self.components(services)
        down = COMPONENT_STATUS.get(incident.severity, "degraded_performance")
        status = PAGE_STATUS[incident.state]
        marker = {"incident": incident.ref}  # how its public incident is found again, whichever post made it
        payload = {
            "incident": {
                "name": name[:NAME_MAX],
                "status": status,
                "body": body[:BODY_MAX],
                "component_ids": components,
                "components": dict.fromkeys(components, down),
                "deliver_notifications": True,
                "metadata": {MARKER: marker},
            }
        }

        async def landed() -> dict[str, Any] | None:
            for found in await self.api.unresolved():
                meta = found.get("metadata")
                if isinstance(meta, dict) and meta.get(MARKER) == marker:
                    log.info("the unanswered status page post of %s was made: %s", incident.ref, found.get("id"))
                    return found
            return None

        try:
            created = await self.api.call("POST", "/incidents", payload, landed=landed)
        except StatuspageFailed as exc:
            await self.store.release(keys.statuspage_claim(number))
            await self._say(incident, f"⚠️ Not posted to the status page: {exc}.")
            return
        page_id = str(created.get("id") or "")
        named = ", ".join(self.named(components))
        what = f"posted “{name}”: {body}" + (f" (components {named}: {down})" if components else "")
        await self._kept(
            incident,
            page_id,
            lambda: self.incidents.published(number, page_id, status, what, actor=actor, components=components),
            f"📣 Posted to the status page as *{escape(name)}*.",
        )

    async def update(self, number: int, body: str, actor: str) -> None:
        """An update of its public incident. The first public post is only ever the reviewed form's (``post``):
        nothing internal, such as the incident's title, is made public by an update."""
        incident = await self.store.get(number)
        if not incident.statuspage_id:
            await self._say(incident, f"⚠️ {incident.ref} is not on the status page: {FIRST_POST}.")
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
        page_id = incident.statuspage_id
        assert page_id is not None
        await self._kept(
            incident,
            page_id,
            lambda: self.incidents.published(incident.number, page_id, status, what, actor=actor),
            f"📣 Status page: {escape(what)}",
        )

    async def _kept(self, incident: Incident, page_id: str, record: Callable[[], Awaitable[object]], said: str) -> None:
        """After the public post or update is made: its record (the public incident's id and status, the timeline
        entry) kept through the outbox while the state store is away, never lost (a lost id would make the next
        submit a second public incident); then the announcement refreshed and the post said, where the store lets."""
        if not await self.outbox.deliver(f"status page record of {incident.ref} (public incident {page_id})", record):
            return  # said once the record lands would be late and out of order; the outbox logs it
        try:
            await self.refresh(incident.number)
            await self._say(incident, said)
        except DependencyError as exc:
            log.warning("%s: status page posted, the announcement not refreshed: %s", incident.ref, exc)

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
