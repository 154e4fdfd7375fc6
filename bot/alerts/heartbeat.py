"""Dead man's switches: Alertmanager's always-firing ``Watchdog`` alert (``alerts.heartbeat``) and jobs that check in
(``heartbeats``, ``POST /heartbeat/<name>``). A beat is not an incident; a silence is: none for ``missing_after``
(counted from the last beat, or from when this replica started: a heartbeat that never arrives is a broken pipeline
too) opens one incident of the switch's severity, once across replicas, announced and paged like any other. When
beats return it is noted and mitigated, whatever ``alerts.auto_mitigate`` says (it is the bot's own incident), and
the next silence opens a new one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.alerts.store import OPENING, OPENING_TTL, AlertStore
from bot.core import keys
from bot.core.durations import format_duration
from bot.core.errors import DependencyError
from bot.core.settings.config import BotConfig
from bot.core.severity import Severity
from bot.core.tasks import BackgroundTasks
from bot.incidents.flows import IncidentFlows
from bot.incidents.machine import TransitionRefused
from bot.incidents.model import Action, State
from bot.incidents.service import IncidentService
from bot.incidents.store import IncidentNotFound

log = logging.getLogger(__name__)

WATCHDOG = "watchdog"  # the switch of Alertmanager's heartbeat alert
ACTOR = "chatops-bot (heartbeats)"
KEPT = 40 * 86400  # a beat or a silence's incident is remembered past the longest missing_after
CHECK_EVERY = timedelta(seconds=30)


@dataclass(frozen=True)
class Switch:
    name: str
    missing_after: timedelta
    severity: Severity
    what: str  # "Watchdog" or "backup-job"

    def title(self, since: datetime, source: str | None, started: bool) -> str:
        at = f"{since:%Y-%m-%d %H:%M} UTC"
        if self.name == WATCHDOG:
            if started:
                return f"Alerting is silent: no {self.what} received since the bot started at {at}"
            return f"Alerting is silent: no {self.what} from {source or 'Alertmanager'} since {at}"
        if started:
            return f"Heartbeat missed: {self.what} has not checked in since the bot started at {at}"
        return f"Heartbeat missed: {self.what} has not checked in since {at}"


def switches(config: BotConfig) -> dict[str, Switch]:
    found: dict[str, Switch] = {}
    watchdog = config.alerts.heartbeat
    if watchdog is not None:
        found[WATCHDOG] = Switch(WATCHDOG, watchdog.missing_after, watchdog.severity, watchdog.alertname)
    for name, job in config.heartbeats.items():
        found[f"job:{name}"] = Switch(f"job:{name}", job.missing_after, job.severity, name)
    return found


class Heartbeats:
    def __init__(
        self,
        *,
        config: BotConfig,
        store: AlertStore,
        incidents: IncidentService,
        flows: IncidentFlows,
        tasks: BackgroundTasks,
        clock: Callable[[], datetime],
    ) -> None:
        self.switches = switches(config)
        self.watchdog = config.alerts.heartbeat.alertname if config.alerts.heartbeat else None
        self.store = store
        self.incidents = incidents
        self.flows = flows
        self.tasks = tasks
        self.clock = clock
        self.started = clock()  # a switch that never beat is silent from here

    def job(self, name: str) -> Switch | None:
        return self.switches.get(f"job:{name}")

    async def beat(self, switch: Switch, source: str) -> None:
        """A heartbeat: kept, and a silence's incident (if one is open) noted and mitigated."""
        now = self.clock()
        async with self.store.io():
            await self.store.redis.set(
                keys.heartbeat(switch.name), json.dumps({"at": now.isoformat(), "source": source}), ex=KEPT
            )
        held = await self.store.holder(keys.heartbeat_incident(switch.name))
        if not isinstance(held, int) or not await self.store.swap(keys.heartbeat_incident(switch.name), str(held), ""):
            return  # no silence (or another request is ending it)
        try:
            incident, entry = await self.incidents.note(held, "heartbeat", f"{switch.what} beats again", ACTOR)
        except IncidentNotFound:
            return
        except DependencyError:
            with contextlib.suppress(DependencyError):  # the next beat ends it
                await self.store.swap(keys.heartbeat_incident(switch.name), "", str(held), KEPT)
            raise
        self.tasks.spawn(self.flows.changed(incident, entry), name=f"heartbeat-{incident.ref}")
        if incident.state in (State.OPEN, State.ACKNOWLEDGED):
            with contextlib.suppress(TransitionRefused):  # someone moved it on meanwhile
                mitigated, done = await self.incidents.act(
                    held, Action.MITIGATE, ACTOR, f"{switch.what} beats again", person=False
                )
                self.tasks.spawn(self.flows.changed(mitigated, done), name=f"heartbeat-mitigated-{incident.ref}")
        log.info("%s: heartbeats of %s returned", incident.ref, switch.what)

    async def check(self, now: datetime) -> int:
        """Open an incident for each switch silent past its ``missing_after`` (once); how many were opened."""
        opened = 0
        for switch in self.switches.values():
            try:
                opened += await self._check(switch, now)
            except DependencyError as exc:
                log.warning("heartbeat %s not checked: %s", switch.what, exc)
        return opened

    async def _check(self, switch: Switch, now: datetime) -> int:
        async with self.store.io():
            raw = await self.store.redis.get(keys.heartbeat(switch.name))
        last = json.loads(raw) if raw else None
        beat_at = datetime.fromisoformat(last["at"]) if last else None
        since = max(beat_at, self.started) if beat_at else self.started
        if now - since < switch.missing_after:
            return 0
        key = keys.heartbeat_incident(switch.name)
        held = await self.store.holder(key)
        if held not in (None, ""):
            return 0  # this silence has its incident (or one is being opened)
        token = f"{OPENING}{secrets.token_hex(8)}"
        if not await self.store.swap(key, "", token, OPENING_TTL):
            return 0
        started = beat_at is None or beat_at < self.started
        title = switch.title(beat_at or self.started, last.get("source") if last else None, started)
        description = (
            f"No heartbeat of {switch.what} for {format_duration(now - since)} (it is expected at least every "
            f"{format_duration(switch.missing_after)}). What is behind it may be down: nothing it should report would "
            "reach anyone."
        )
        try:
            incident = await self.incidents.open(
                title=title, severity=switch.severity, actor=ACTOR, description=description
            )
        except BaseException:
            with contextlib.suppress(DependencyError):
                await self.store.swap(key, token, "")
            raise
        await self.store.swap(key, token, str(incident.number), KEPT)
        log.warning("%s opened: %s", incident.ref, title)
        self.tasks.spawn(self.flows.opened(incident), name=f"announce-{incident.ref}")
        return 1
