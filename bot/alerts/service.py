"""Alert groups into incidents: one incident per group (retries and replicas included), new alerts, partial and
whole resolutions on its timeline, notices for what is below ``alerts.min_severity``, and storm control.

A group is its sender's (Alertmanager's externalURL and receiver) and its groupKey. A re-send of alerts already
handled, or a stale firing after the group's end, opens nothing; a re-fire (a new ``startsAt``) does. A group's
incident takes the most urgent severity of its firing alerts and pages for it. A storm never hides a page: each
severity has a storm incident of its own. With ``alerts.auto_mitigate`` a machine may mitigate (never
acknowledge), a storm's incident only once its last group resolved, and a re-fire takes the mitigation back.

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
from bot.alerts.enrich import Enricher
from bot.alerts.heartbeat import WATCHDOG, Heartbeats
from bot.alerts.payload import Alert, Payload
from bot.alerts.store import GROUP_TTL, OPENING, OPENING_TTL, STORM_TTL, AlertStore
from bot.core import keys, slack
from bot.core.errors import DependencyError
from bot.core.settings.config import BotConfig
from bot.core.severity import Severity
from bot.core.slack import SLACK_ERRORS
from bot.core.tasks import BackgroundTasks
from bot.core.text import escape
from bot.incidents.flows import IncidentFlows
from bot.incidents.machine import SeverityUnchanged, TransitionRefused
from bot.incidents.model import Action, AlertOrigin, Incident, State
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentNotFound

log = logging.getLogger(__name__)

OPEN_WAIT = 10.0  # how long a request waits for another one's incident to be opened
LABEL_SHOWN = 256  # characters of a label value kept on the incident
STALE_FOR_MS = 120_000  # a firing of an alert resolved less than 2 min ago is a late delivery, not a re-fire
STILL_ACTIVE = (State.OPEN, State.ACKNOWLEDGED, State.MITIGATED)


@dataclass(frozen=True)
class Outcome:
    action: str  # opened, updated, unchanged, resolved, notice, storm, ignored, heartbeat
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
        heartbeats: Heartbeats | None = None,
        enricher: Enricher | None = None,  # alerts.enrich: the diagnoses an alert runs once it is on an incident
    ) -> None:
        self.config = config
        self.heartbeats = heartbeats
        self.enricher = enricher
        self.settings = config.alerts
        self.client = client
        self.store = store
        self.incidents = incidents
        self.flows = flows
        self.tasks = tasks
        self.clock = clock

    async def receive(self, payload: Payload) -> Outcome:
        """Apply one webhook delivery (any number of times: the outcome is the same)."""
        watchdog = self.heartbeats.watchdog if self.heartbeats is not None else None
        if watchdog is not None and any(a.name == watchdog for a in payload.alerts):
            assert self.heartbeats is not None
            if any(a.name == watchdog and a.status == "firing" for a in payload.alerts):
                await self.heartbeats.beat(self.heartbeats.switches[WATCHDOG], payload.source)
            rest = [a for a in payload.alerts if a.name != watchdog]
            if not rest:  # a heartbeat, not an incident
                return Outcome("heartbeat")
            payload = payload.model_copy(update={"alerts": rest})
        payload = payload.keyed(self.settings.sender_key)
        route = routing.route(payload, self.settings)
        top = min((routing.severity(a.labels, self.settings) for a in payload.firing), default=route.severity)
        if top.value < route.severity.value:  # the group's most urgent firing alert sets its severity
            route = routing.Route(top, route.channel)
        if not payload.firing:
            return await self._resolved(payload)
        below = route.severity.value > self.settings.min_severity.value  # P4 is below P3
        if below and not await self._has_incident(payload):  # a group with an incident keeps its timeline
            return await self._notice(payload, route)
        return await self._firing(payload, route)

    async def _has_incident(self, payload: Payload) -> bool:
        held = await self.store.holder(keys.alert_group(payload.group))
        incident = await self._incident(held) if isinstance(held, int) else None
        return incident is not None and incident.state in STILL_ACTIVE

    # Firing ----------------------------------------------------------------------------------------------------------
    async def _holder(self, payload: Payload) -> tuple[int | str | None, Incident | None]:
        """The group's incident number (or None, or '') and the incident as it stands. While another request is
        opening it, this waits; a replica that died after opening it (its marker left) has it found and settled."""
        key = keys.alert_group(payload.group)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + OPEN_WAIT
        while True:
            held = await self.store.holder(key)
            if isinstance(held, str) and held.startswith(OPENING):  # another request is opening it: wait for it
                if loop.time() > deadline:
                    raise DependencyError("another request has been opening this alert group's incident for 10 s")
                await asyncio.sleep(0.05)
                continue
            incident = await self._incident(held) if isinstance(held, int) else None
            if (incident is None or incident.state not in STILL_ACTIVE) and await self.store.was_opening(payload.group):
                found = await self._opened_by_the_dead(payload)  # a replica died between opening and settling
                if found is None:
                    await self.store.settled(payload.group)  # it died before opening anything
                elif await self.store.swap(key, str(held) if held is not None else "", str(found.number)):
                    log.warning("%s was opened for alert group %s by a request that never settled the group; "
                                "it is the group's", found.ref, payload.group)  # fmt: skip
                    await self.store.settled(payload.group)
                continue
            return held, incident

    async def _firing(self, payload: Payload, route: routing.Route) -> Outcome:
        key = keys.alert_group(payload.group)
        await self._adopt_legacy(payload)
        while True:
            held, incident = await self._holder(payload)
            if incident is not None and incident.state in STILL_ACTIVE:
                return await self._more(payload, incident)
            previous = incident.number if incident is not None else None
            if await self._already_seen(payload):  # a re-send, or a stale firing: the group's incident is over
                return Outcome("unchanged", previous)
            token = f"{OPENING}{secrets.token_hex(8)}"
            # The token expires by itself: a replica that dies while opening does not block the group for good.
            if await self.store.swap(key, str(held) if held is not None else "", token, OPENING_TTL):
                break
        await self.store.mark_opening(payload.group)
        try:
            number, action = await self._open(payload, route, previous)
        except BaseException:
            # Nothing was opened (else the marker finds it): give the group back (else the token expires).
            with contextlib.suppress(DependencyError):
                await self.store.swap(key, token, str(held) if held is not None else "")
            raise
        try:
            await self._record(payload, number)
        finally:
            await self.store.swap(key, token, str(number))
            await self.store.settled(payload.group)
        return Outcome(action, number)

    async def _record(self, payload: Payload, number: int) -> list[str]:
        firing = payload.firing
        instances = [a.instance for a in firing if a.instance]
        now_ms = self._now_ms()
        return await self.store.new_fingerprints(payload.group, number, [a.key for a in firing], instances, now_ms)

    def _now_ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    async def _old(self, payload: Payload, alerts: list[Alert]) -> set[str]:
        """The firings (``fingerprint@startsAt``) of ``alerts`` that are nothing new: seen before, and still firing
        or resolved less than ``STALE_FOR`` ago (a late delivery). One resolved longer ago with the same start fires
        again (Prometheus restored its alert's start after a restart)."""
        instances = [a.instance for a in alerts if a.instance]
        known = await self.store.seen(payload.group, instances)
        ended = await self.store.ended_at(payload.group, sorted(known))
        now = self._now_ms()
        return {i for i in known if i not in ended or now - ended[i] < STALE_FOR_MS}

    async def _already_seen(self, payload: Payload) -> bool:
        """Every firing alert is nothing new (``_old``)."""
        instances = [a.instance for a in payload.firing]
        if not instances or None in instances:
            return False  # a sender without start times: a re-fire cannot be told from a re-send
        return len(await self._old(payload, payload.firing)) == len(instances)

    async def _opened_by_the_dead(self, payload: Payload) -> Incident | None:
        """The incident a request opened for the group before its replica died, if it got that far."""
        for incident in await self.incidents.store.active():
            if incident.alert and incident.alert.group == payload.group and incident.state in STILL_ACTIVE:
                return incident
        return None

    async def _adopt_legacy(self, payload: Payload) -> None:
        """A group whose incident an earlier version keyed by its groupKey alone keeps that incident."""
        legacy = payload.legacy_group
        if legacy == payload.group or await self.store.holder(keys.alert_group(payload.group)) is not None:
            return
        held = await self.store.holder(keys.alert_group(legacy))
        if isinstance(held, int) and await self.store.swap(keys.alert_group(payload.group), "", str(held)):
            await self.store.swap(keys.alert_group(legacy), str(held), "")  # another sender's group is its own
            fingerprints = await self.store.ended(legacy, held, [a.key for a in payload.alerts])
            await self.store.new_fingerprints(payload.group, held, fingerprints)

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
            labels={k: v[:LABEL_SHOWN] for k, v in list(routing.group_labels(payload).items())[:30]},
            runbook_url=routing.runbook_url(payload),
            generator_url=next((a.generatorURL for a in payload.firing if a.generatorURL), None),
            source_url=payload.externalURL or None,
            firing=len(payload.firing) + payload.truncatedAlerts,
            previous=previous,
            channel=route.channel,
            storm=storm,
        )

    async def _open(self, payload: Payload, route: routing.Route, previous: int | None) -> tuple[int, str]:
        """Open the group's incident, or add the group to the storm's when too many opened in the last minute."""
        now_ms = self._now_ms()
        if not await self.store.admit(now_ms, self.settings.max_new_per_minute, f"{payload.group}:{now_ms}"):
            number = await self._storm(payload, route)
            self._enrich(number, payload)
            return number, "storm"
        origin = self._origin(payload, route, previous)
        description = routing.description(payload) or routing.firing_text(payload, listed=True)
        incident = await self.incidents.open(
            title=routing.title(payload),
            severity=route.severity,
            actor=origin.actor,
            description=description,
            alert=origin,
            team=routing.team_for(routing.group_labels(payload), self.settings, self.config.teams),
        )
        log.info("%s opened from alert group %s (%s)", incident.ref, payload.group, payload.source)
        self.tasks.spawn(self.flows.opened(incident), name=f"announce-{incident.ref}")
        self._enrich(incident.number, payload)
        if previous is not None:  # once opened, the group settles to it whatever follows: a note is not worth two
            text = f"INC-{previous} had this alert group; it was resolved"
            await self._note(incident.number, "follows", text, origin, best_effort=True)
        return incident.number, "opened"

    async def _storm(self, payload: Payload, route: routing.Route) -> int:
        """The storm's incident (opened once, for every group past the limit), with this group on its timeline."""
        line = f"{routing.title(payload)} ({route.severity.value}) — {routing.firing_text(payload)}"
        storm = keys.alerts_storm(route.severity.value)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + OPEN_WAIT
        while True:
            held = await self.store.holder(storm)
            if isinstance(held, str) and held.startswith(OPENING):
                if loop.time() > deadline:
                    raise DependencyError("another request has been opening the alert storm's incident for 10 s")
                await asyncio.sleep(0.05)
                continue
            if isinstance(held, int):
                incident = await self._incident(held)
                if incident is not None and incident.state in STILL_ACTIVE:
                    await self.store.extend(storm, STORM_TTL)
                    await self._note(held, "alert group joined", line, self._origin(payload, route, None))
                    if incident.alert is not None:  # a new group fires: a machine's mitigation is taken back
                        await self._refire(incident, incident.alert)
                    return held
            token = f"{OPENING}{secrets.token_hex(8)}"
            if await self.store.swap(storm, "" if held is None else str(held), token, OPENING_TTL):
                break
        origin = self._origin(payload, route, None, storm=True)
        limit = self.settings.max_new_per_minute
        incident = await self.incidents.open(
            title=f"Alert storm: more than {limit} alert groups in a minute"
            + ("" if route.severity is Severity.P3 else f" ({route.severity.value})"),
            severity=route.severity,
            actor=origin.actor,
            description=f"Past {limit} new incidents a minute, further alert groups gather here instead of each "
            "opening (and paging) its own. Each is on the timeline.",
            alert=origin,
        )
        await self.store.swap(storm, token, str(incident.number), STORM_TTL)
        log.warning("alert storm: %s opened for groups past %d a minute", incident.ref, limit)
        self.tasks.spawn(self.flows.opened(incident), name=f"announce-{incident.ref}")
        await self._note(incident.number, "alert group joined", line, origin, best_effort=True)
        return incident.number

    async def _more(self, payload: Payload, incident: Incident) -> Outcome:
        """A re-sent group: alerts not firing on the incident yet (a re-fire included) go on its timeline, and so
        do alerts that resolved while others fire; a re-fire takes a machine's mitigation back, a more urgent alert
        raises the incident's severity."""
        origin = incident.alert or self._origin(payload, routing.route(payload, self.settings), None)
        group, number = payload.group, incident.number
        await self.store.extend(keys.alert_group(group), GROUP_TTL)  # a long-lived group keeps its incident
        self._enrich(number, payload)  # each enrichment once per incident: a re-send's are claimed already
        ended = await self.store.ended(group, number, [a.key for a in payload.resolved])
        await self.store.mark_ended(group, [a.instance for a in payload.resolved if a.instance], self._now_ms())
        old = await self._old(payload, payload.firing)
        fresh = [a for a in payload.firing if a.instance is None or a.instance not in old]
        added = set(await self._record_fresh(payload, number, fresh))
        new = [a for a in fresh if a.key in added]
        changed = False
        if ended:
            gone = [a for a in payload.resolved if a.key in ended]
            still = await self.store.firing_count(group, number)
            await self._note(
                number,
                "alerts resolved",
                f"{routing.count(gone)} resolved: {routing.names(gone)} ({still} still firing)",
                origin,
            )
            changed = True
        if new:
            word = "alert" if len(new) == 1 else "alerts"
            severity = min(routing.severity(a.labels, self.settings) for a in new)
            grade = f"{routing.SEVERITY_WORD[severity]} ({severity.value})"
            text = f"{len(new)} more {word} firing: {routing.names(new)}, {grade}"
            await self._note(number, "alerts firing", text, origin)
            await self._refire(incident, origin)
            await self._raise(number, severity, origin, routing.names(new))
            changed = True
        return Outcome("updated" if changed else "unchanged", number)

    def _enrich(self, number: int, payload: Payload) -> None:
        """The diagnoses the firing alerts ask for, in the background (delaying neither answer nor announcement)."""
        if self.enricher is not None:
            self.enricher.firing(number, payload.firing)

    async def _record_fresh(self, payload: Payload, number: int, fresh: list[Alert]) -> list[str]:
        instances = [a.instance for a in fresh if a.instance]
        now_ms = int(self.clock().timestamp() * 1000)
        return await self.store.new_fingerprints(payload.group, number, [a.key for a in fresh], instances, now_ms)

    async def _refire(self, incident: Incident, origin: AlertOrigin) -> None:
        """Alerts fire again after the machine mitigated: not mitigated any more (open again, escalating, when
        nobody acknowledged)."""
        if incident.state is not State.MITIGATED or incident.mitigated_by != origin.actor:
            return
        try:
            refired, entry = await self.incidents.refire(incident.number, origin.actor, "alerts fire again")
        except TransitionRefused:
            return  # someone moved it on meanwhile
        self.tasks.spawn(self.flows.changed(refired, entry), name=f"refired-{refired.ref}")

    async def _raise(self, number: int, severity: Severity, origin: AlertOrigin, names: str) -> None:
        """A more urgent alert joined: the incident takes its severity (and pages for it)."""
        current = await self._incident(number)
        if current is None or current.state is State.CLOSED or severity.value >= current.severity.value:
            return
        try:
            raised, entry = await self.incidents.change_severity(number, severity, origin.actor, f"{names} joined")
        except (TransitionRefused, SeverityUnchanged):
            return
        log.info("%s raised to %s: a more urgent alert joined its group", raised.ref, severity.value)
        self.tasks.spawn(self.flows.changed(raised, entry), name=f"raised-{raised.ref}")

    # Resolved and below the line -------------------------------------------------------------------------------------
    async def _resolved(self, payload: Payload) -> Outcome:
        """Every alert shown resolved. With ``truncatedAlerts`` the payload shows only some of the group (and its
        status says only what those do): just those end, and the group is resolved once none fires on the
        incident."""
        await self._adopt_legacy(payload)
        held, incident = await self._holder(payload)
        if not isinstance(held, int):
            return Outcome("ignored")
        if incident is None:
            return Outcome("unchanged", held)
        group = payload.group
        await self.store.mark_ended(group, [a.instance for a in payload.alerts if a.instance], self._now_ms())
        origin = incident.alert or self._origin(payload, routing.route(payload, self.settings), None)
        gone: set[str] = set()
        if payload.truncatedAlerts:
            gone = set(await self.store.ended(group, held, [a.key for a in payload.resolved]))
            still = await self.store.firing_count(group, held)
            if still:
                shown = [a for a in payload.resolved if a.key in gone]
                if not shown:
                    return Outcome("unchanged", held)
                text = f"{routing.count(shown)} resolved: {routing.names(shown)} ({still} still firing)"
                await self._note(held, "alerts resolved", text, origin)
                return Outcome("updated", held)
        found, others = await self.store.all_resolved(group, held)
        if not found and not gone:  # the last of them may have ended just above
            return Outcome("unchanged", held)
        ended = max((a.endsAt for a in payload.alerts if a.endsAt), default=None) or self.clock()
        if others:  # a storm's incident: its other groups still fire
            at = f"{ended:%Y-%m-%d %H:%M:%S} UTC"
            text = f"{routing.title(payload)}: alerts resolved at {at}; {others} group(s) still firing"
            await self._note(held, "alerts resolved", text, origin)
            return Outcome("resolved", held)
        await self._note(held, "alerts resolved", f"alerts resolved at {ended:%Y-%m-%d %H:%M:%S} UTC", origin)
        if self.settings.auto_mitigate and incident.state in (State.OPEN, State.ACKNOWLEDGED):
            try:
                mitigated, entry = await self.incidents.act(
                    held, Action.MITIGATE, origin.actor, "alerts resolved", person=False
                )
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
            f"({routing.firing_text(payload)}). Below `alerts.min_severity` ({self.settings.min_severity.value}): "
            "no incident opened."
        )
        self.tasks.spawn(self._post(channel, text), name="alert-notice")
        return Outcome("notice")

    async def _post(self, channel: str, text: str) -> None:
        try:
            await self.client.chat_postMessage(channel=channel, text=text, unfurl_links=False)
        except SLACK_ERRORS as exc:
            slack.failed("chat.postMessage", "an alert notice", exc)

    async def _note(self, number: int, kind: str, text: str, origin: AlertOrigin, *, best_effort: bool = False) -> None:
        try:
            incident, entry = await self.incidents.note(number, kind, text, origin.actor)
        except DependencyError as exc:
            if not best_effort:
                raise
            log.warning("INC-%s: %s not on the timeline: %s", number, kind, exc)
            return
        self.tasks.spawn(self.flows.changed(incident, entry), name=f"alert-note-{incident.ref}")
