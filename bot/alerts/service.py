"""Alert groups into incidents: one incident per group (retries and replicas included), new alerts and the group's
resolution on its timeline, notices for what is below ``alerts.min_severity``, and storm control.

An incident opened here goes the way of ``/incident open``: announced (in the route's channel), paged and escalated,
its channel created; the actor on its timeline is "Alertmanager (receiver X)".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts import routing
from bot.alerts.payload import Payload
from bot.alerts.store import OPENING, OPENING_TTL, STORM_TTL, AlertStore
from bot.core import keys, slack
from bot.core.errors import DependencyError
from bot.core.settings.config import BotConfig
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape
from bot.incidents.flows import IncidentFlows
from bot.incidents.machine import TransitionRefused
from bot.incidents.model import Action, AlertOrigin, Incident, State
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentNotFound

log = logging.getLogger(__name__)

OPEN_WAIT = 10.0  # how long a request waits for another one's incident to be opened
LISTED = 5
STILL_ACTIVE = (State.OPEN, State.ACKNOWLEDGED, State.MITIGATED)


@dataclass(frozen=True)
class Outcome:
    action: str  # opened, updated, unchanged, resolved, notice, storm, ignored
    incident: int | None = None

    def as_json(self) -> dict[str, object]:
        return {"status": "ok", "action": self.action, "incident": f"INC-{self.incident}" if self.incident else None}


class AlertService:
    def __init__(
        self,
        *,
        config: BotConfig,
        client: AsyncWebClient,
        store: AlertStore,
        incidents: IncidentService,
        flows: IncidentFlows,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.settings = config.alerts
        self.client = client
        self.store = store
        self.incidents = incidents
        self.flows = flows
        self.tasks = tasks
        self.clock = clock

    async def receive(self, payload: Payload) -> Outcome:
        """Apply one webhook delivery (any number of times: the outcome is the same)."""
        route = routing.route(payload, self.settings)
        if not payload.firing:
            return await self._resolved(payload)
        if route.severity.value > self.settings.min_severity.value:  # P4 is below P3
            return await self._notice(payload, route)
        return await self._firing(payload, route)

    # Firing ----------------------------------------------------------------------------------------------------------
    async def _firing(self, payload: Payload, route: routing.Route) -> Outcome:
        key = keys.alert_group(payload.group)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + OPEN_WAIT
        while True:
            held = await self.store.holder(key)
            previous: int | None = None
            if isinstance(held, str) and held.startswith(OPENING):  # another request is opening it: wait for it
                if loop.time() > deadline:
                    raise DependencyError("another request has been opening this alert group's incident for 10 s")
                await asyncio.sleep(0.05)
                continue
            if isinstance(held, int):
                incident = await self._incident(held)
                if incident is not None and incident.state in STILL_ACTIVE:
                    return await self._more(payload, incident)
                previous = held if incident is not None else None
            token = f"{OPENING}{secrets.token_hex(8)}"
            # The token expires by itself: a replica that dies while opening does not block the group for good.
            if await self.store.swap(key, "" if held is None else str(held), token, OPENING_TTL):
                break
        try:
            number, action = await self._open(payload, route, previous)
        except BaseException:
            with contextlib.suppress(DependencyError):  # give the group back (else the token expires)
                await self.store.swap(key, token, "" if held is None else str(held))
            raise
        try:
            await self.store.new_fingerprints(payload.group, number, [a.key for a in payload.firing])
        finally:
            await self.store.swap(key, token, str(number))
        return Outcome(action, number)

    async def _incident(self, number: int) -> Incident | None:
        try:
            return await self.incidents.store.get(number)
        except IncidentNotFound:
            return None

    def _origin(
        self, payload: Payload, route: routing.Route, previous: int | None, *, storm: bool = False
    ) -> AlertOrigin:
        return AlertOrigin(
            receiver=payload.source,
            group=payload.group,
            labels=dict(list((payload.commonLabels or payload.alerts[0].labels).items())[:30]),
            runbook_url=routing.runbook_url(payload),
            generator_url=next((a.generatorURL for a in payload.firing if a.generatorURL), None),
            source_url=payload.externalURL or None,
            firing=len(payload.firing),
            previous=previous,
            channel=route.channel,
            storm=storm,
        )

    async def _open(self, payload: Payload, route: routing.Route, previous: int | None) -> tuple[int, str]:
        """Open the group's incident, or add the group to the storm's when too many opened in the last minute."""
        now_ms = int(self.clock().timestamp() * 1000)
        if not await self.store.admit(now_ms, self.settings.max_new_per_minute, f"{payload.group}:{now_ms}"):
            return await self._storm(payload, route), "storm"
        origin = self._origin(payload, route, previous)
        names = ", ".join(routing.alert_line(a.labels) for a in payload.firing[:LISTED])
        more = f" and {len(payload.firing) - LISTED} more" if len(payload.firing) > LISTED else ""
        detail = routing.description(payload)
        description = detail or f"{len(payload.firing)} alert(s) firing: {names}{more}"
        incident = await self.incidents.open(
            title=routing.title(payload),
            severity=route.severity,
            actor=origin.actor,
            description=description,
            alert=origin,
        )
        log.info("%s opened from alert group %s (%s)", incident.ref, payload.group, payload.source)
        self.tasks.spawn(self.flows.opened(incident), name=f"announce-{incident.ref}")
        if previous is not None:
            text = f"INC-{previous} had this alert group; it was resolved"
            await self._note(incident.number, "follows", text, origin)
        return incident.number, "opened"

    async def _storm(self, payload: Payload, route: routing.Route) -> int:
        """The storm's incident (opened once, for every group past the limit), with this group on its timeline."""
        line = f"{routing.title(payload)} — {len(payload.firing)} alert(s)"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + OPEN_WAIT
        while True:
            held = await self.store.holder(keys.ALERTS_STORM)
            if isinstance(held, str) and held.startswith(OPENING):
                if loop.time() > deadline:
                    raise DependencyError("another request has been opening the alert storm's incident for 10 s")
                await asyncio.sleep(0.05)
                continue
            if isinstance(held, int):
                incident = await self._incident(held)
                if incident is not None and incident.state in STILL_ACTIVE:
                    await self.store.extend(keys.ALERTS_STORM, STORM_TTL)
                    await self._note(held, "alert group joined", line, self._origin(payload, route, None))
                    return held
            token = f"{OPENING}{secrets.token_hex(8)}"
            if await self.store.swap(keys.ALERTS_STORM, "" if held is None else str(held), token, OPENING_TTL):
                break
        origin = self._origin(payload, route, None, storm=True)
        limit = self.settings.max_new_per_minute
        incident = await self.incidents.open(
            title=f"Alert storm: more than {limit} alert groups in a minute",
            severity=route.severity,
            actor=origin.actor,
            description=f"Past {limit} new incidents a minute, further alert groups gather here instead of each "
            "opening (and paging) its own. Each is on the timeline.",
            alert=origin,
        )
        await self.store.swap(keys.ALERTS_STORM, token, str(incident.number), STORM_TTL)
        log.warning("alert storm: %s opened for groups past %d a minute", incident.ref, limit)
        self.tasks.spawn(self.flows.opened(incident), name=f"announce-{incident.ref}")
        await self._note(incident.number, "alert group joined", line, origin)
        return incident.number

    async def _more(self, payload: Payload, incident: Incident) -> Outcome:
        """A re-sent group: the alerts not on the incident yet go on its timeline."""
        added = set(await self.store.new_fingerprints(payload.group, incident.number, [a.key for a in payload.firing]))
        if not added:
            return Outcome("unchanged", incident.number)
        new = [a for a in payload.firing if a.key in added]
        names = ", ".join(routing.alert_line(a.labels) for a in new[:LISTED])
        more = f" and {len(new) - LISTED} more" if len(new) > LISTED else ""
        word = "alert" if len(new) == 1 else "alerts"
        origin = incident.alert or self._origin(payload, routing.route(payload, self.settings), None)
        await self._note(incident.number, "alerts firing", f"{len(new)} more {word} firing: {names}{more}", origin)
        return Outcome("updated", incident.number)

    # Resolved and below the line -------------------------------------------------------------------------------------
    async def _resolved(self, payload: Payload) -> Outcome:
        held = await self.store.holder(keys.alert_group(payload.group))
        if not isinstance(held, int):
            return Outcome("ignored")
        incident = await self._incident(held)
        if incident is None or not await self.store.all_resolved(payload.group, held):
            return Outcome("unchanged", held)
        ended = max((a.endsAt for a in payload.alerts if a.endsAt), default=None) or self.clock()
        origin = incident.alert or self._origin(payload, routing.route(payload, self.settings), None)
        await self._note(held, "alerts resolved", f"alerts resolved at {ended:%Y-%m-%d %H:%M:%S} UTC", origin)
        if self.settings.auto_mitigate and incident.state in (State.OPEN, State.ACKNOWLEDGED):
            try:
                mitigated, entry = await self.incidents.act(held, Action.MITIGATE, origin.actor, "alerts resolved")
            except TransitionRefused:
                pass  # someone moved it on meanwhile
            else:
                self.tasks.spawn(self.flows.changed(mitigated, entry), name=f"mitigated-{mitigated.ref}")
        return Outcome("resolved", held)

    async def _notice(self, payload: Payload, route: routing.Route) -> Outcome:
        """Below ``alerts.min_severity``: one notice per group (for a few hours), no incident."""
        if not await self.store.first_notice(payload.group):
            return Outcome("notice")
        channel = route.channel or self.config.channels.incidents
        text = (
            f"🔔 {route.severity.value} alert from {escape(payload.source)}: *{escape(routing.title(payload))}* "
            f"({len(payload.firing)} firing). Below `alerts.min_severity` ({self.settings.min_severity.value}): "
            "no incident opened."
        )
        self.tasks.spawn(self._post(channel, text), name="alert-notice")
        return Outcome("notice")

    async def _post(self, channel: str, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=channel, text=text, unfurl_links=False)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "an alert notice", exc)

    async def _note(self, number: int, kind: str, text: str, origin: AlertOrigin) -> None:
        incident, entry = await self.incidents.note(number, kind, text, origin.actor)
        self.tasks.spawn(self.flows.changed(incident, entry), name=f"alert-note-{incident.ref}")
