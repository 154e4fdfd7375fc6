"""The incident lifecycle as a pure transition table (no I/O).

open → acknowledged → mitigated → resolved → closed; resolved → reopen → acknowledged.
Mitigating or resolving an incident nobody acknowledged also records the acknowledgement,
because someone evidently responded; a machine (alerts that resolved) may mitigate, but only a person
acknowledges, and when its alerts fire again the machine's mitigation is taken back (``refire``).
"""

from __future__ import annotations

from datetime import datetime

from bot.core.errors import UserError
from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Action, Incident, State

TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.ACKNOWLEDGE: (frozenset({State.OPEN}), State.ACKNOWLEDGED),
    Action.MITIGATE: (frozenset({State.OPEN, State.ACKNOWLEDGED}), State.MITIGATED),
    Action.RESOLVE: (frozenset({State.OPEN, State.ACKNOWLEDGED, State.MITIGATED}), State.RESOLVED),
    Action.REOPEN: (frozenset({State.RESOLVED}), State.ACKNOWLEDGED),
    Action.CLOSE: (frozenset({State.RESOLVED}), State.CLOSED),
}

PAST_TENSE = {
    Action.ACKNOWLEDGE: "acknowledged",
    Action.MITIGATE: "mitigated",
    Action.RESOLVE: "resolved",
    Action.REOPEN: "reopened",
    Action.CLOSE: "closed",
}


class TransitionRefused(UserError):
    """The action is not allowed from the incident's current state."""

    def __init__(self, incident: Incident, action: Action | None) -> None:
        self.incident = incident
        self.action = action
        verb = action.value if action else "change"
        super().__init__(f"{incident.ref} is {incident.state.value}; cannot {verb} it")


def allowed_actions(state: State) -> list[Action]:
    """Actions that the table allows from ``state``, in lifecycle order."""
    return [action for action, (sources, _) in TRANSITIONS.items() if state in sources]


def apply(
    incident: Incident, action: Action, actor: str, now: datetime, note: str = "", *, person: bool = True
) -> tuple[Incident, TimelineEntry]:
    """Return the incident after ``action`` and the timeline entry recording it, or raise TransitionRefused.
    ``person=False``: the actor is a machine (Alertmanager), which neither acknowledges nor commands."""
    sources, target = TRANSITIONS[action]
    if incident.state not in sources:
        raise TransitionRefused(incident, action)
    changes: dict[str, object] = {"state": target, "version": incident.version + 1}
    if not person and action is not Action.MITIGATE:
        raise TransitionRefused(incident, action)
    if action in (Action.ACKNOWLEDGE, Action.MITIGATE, Action.RESOLVE) and incident.acknowledged_by is None and person:
        changes |= {"acknowledged_by": actor, "acknowledged_at": now}
    if incident.commander is None and action is not Action.CLOSE and person:
        changes["commander"] = actor
    if action is Action.MITIGATE:
        changes |= {"mitigated_by": actor, "mitigated_at": now}
    elif action is Action.RESOLVE:
        changes |= {"resolved_by": actor, "resolved_at": now}
    elif action is Action.REOPEN:
        changes |= {"resolved_by": None, "resolved_at": None, "mitigated_by": None, "mitigated_at": None}
    elif action is Action.CLOSE:
        changes |= {"closed_by": actor, "closed_at": now}
        drafted = "post-mortem drafted" if incident.postmortem_at else "no post-mortem drafted"
        note = f"{note} ({drafted})" if note else drafted
    entry = TimelineEntry(at=now, actor=actor, kind=PAST_TENSE[action], text=note)
    return incident.model_copy(update=changes), entry


def refire(incident: Incident, actor: str, now: datetime, note: str) -> tuple[Incident, TimelineEntry]:
    """The alerts a machine's mitigation followed fire again: back to open (escalation goes on) when nobody has
    acknowledged, else to acknowledged. Refused unless ``actor`` mitigated it."""
    if incident.state is not State.MITIGATED or incident.mitigated_by != actor:
        raise TransitionRefused(incident, None)
    target = State.OPEN if incident.acknowledged_by is None else State.ACKNOWLEDGED
    changes = {"state": target, "mitigated_by": None, "mitigated_at": None, "version": incident.version + 1}
    return incident.model_copy(update=changes), TimelineEntry(at=now, actor=actor, kind="firing again", text=note)


def change_severity(
    incident: Incident, severity: Severity, respond_by: datetime, *, actor: str, now: datetime, note: str = ""
) -> tuple[Incident, TimelineEntry]:
    """Re-assess the severity (any state but closed); the response deadline moves with it."""
    if incident.state is State.CLOSED:
        raise TransitionRefused(incident, None)
    if severity is incident.severity:
        raise SeverityUnchanged(incident)
    updated = incident.model_copy(
        update={"severity": severity, "respond_by": respond_by, "version": incident.version + 1}
    )
    text = f"{incident.severity.value} → {severity.value}" + (f": {note}" if note else "")
    return updated, TimelineEntry(at=now, actor=actor, kind="severity changed", text=text)


def release_hold(
    incident: Incident, respond_by: datetime, *, actor: str, now: datetime, why: str
) -> tuple[Incident, TimelineEntry]:
    """The hold on paging ended (``why``): paging starts now, the response deadline counted from now. Refused
    when it is not held (another replica released it first)."""
    if incident.held is None or incident.held.released_at is not None:
        raise TransitionRefused(incident, None)
    held = incident.held.model_copy(update={"released_at": now, "released_why": why})
    changes: dict[str, object] = {"held": held, "version": incident.version + 1}
    if incident.state is State.OPEN:
        changes["respond_by"] = respond_by
    paging = "the on-call is paged now" if incident.state is State.OPEN else f"{incident.state.value}: nobody paged"
    entry = TimelineEntry(at=now, actor=actor, kind="paging resumed", text=f"{held.ref} {why}; {paging}")
    return incident.model_copy(update=changes), entry


class SeverityUnchanged(UserError):
    """The incident already has the requested severity."""

    def __init__(self, incident: Incident) -> None:
        self.incident = incident
        super().__init__(f"{incident.ref} is already {incident.severity.value}")


def assign(
    incident: Incident, commander: str, actor: str, now: datetime, *, operator: bool = False
) -> tuple[Incident, TimelineEntry]:
    """Set the incident commander (any state but closed).

    The commander hands over (or an operator reassigns); while there is none, a person may take the role
    themselves. Checked against the incident as stored at the change, so two people racing cannot both win.
    """
    if incident.state is State.CLOSED:
        raise TransitionRefused(incident, None)
    if not operator and actor != incident.commander and not (incident.commander is None and commander == actor):
        if incident.commander is None:
            raise NotAllowed(
                incident, f"Nobody commands {incident.ref} yet: you may take it yourself, or ask an operator."
            )
        raise NotAllowed(
            incident, f"Only the commander (<@{incident.commander}>) or an operator may reassign {incident.ref}."
        )
    if incident.commander == commander:
        raise NoChange(incident, f"<@{commander}> is already the commander of {incident.ref}")
    before = f"<@{incident.commander}>" if incident.commander else "nobody"
    updated = incident.model_copy(update={"commander": commander, "version": incident.version + 1})
    return updated, TimelineEntry(at=now, actor=actor, kind="commander assigned", text=f"{before} → <@{commander}>")


def status_update(incident: Incident, text: str, actor: str, now: datetime) -> tuple[Incident, TimelineEntry]:
    """Record a status update (any state but closed)."""
    if incident.state is State.CLOSED:
        raise TransitionRefused(incident, None)
    updated = incident.model_copy(update={"last_update_at": now, "version": incident.version + 1})
    return updated, TimelineEntry(at=now, actor=actor, kind="status update", text=text)


def link_room(incident: Incident, channel: str, actor: str, now: datetime) -> tuple[Incident, TimelineEntry]:
    """The incident's own channel is created: it is its room from now on."""
    updated = incident.model_copy(update={"room": channel, "version": incident.version + 1})
    return updated, TimelineEntry(at=now, actor=actor, kind="channel created", text=f"<#{channel}>")


def postmortem_drafted(incident: Incident, actor: str, now: datetime) -> tuple[Incident, TimelineEntry]:
    updated = incident.model_copy(update={"postmortem_at": now, "version": incident.version + 1})
    return updated, TimelineEntry(at=now, actor=actor, kind="post-mortem drafted")


class NotAllowed(UserError):
    """The person may not make this change to the incident as it stands."""

    def __init__(self, incident: Incident, message: str) -> None:
        self.incident = incident
        super().__init__(message)


class NoChange(UserError):
    """The requested change is already in place."""

    def __init__(self, incident: Incident, message: str) -> None:
        self.incident = incident
        super().__init__(message)


def record(incident: Incident, kind: str, text: str, actor: str, now: datetime) -> tuple[Incident, TimelineEntry]:
    """A timeline entry that changes nothing else (runbook runs, roll-backs)."""
    return incident.model_copy(update={"version": incident.version + 1}), TimelineEntry(
        at=now, actor=actor, kind=kind, text=text
    )


def ticket_linked(
    incident: Incident, key: str, url: str, text: str, *, actor: str, now: datetime
) -> tuple[Incident, TimelineEntry]:
    """Its ticket in the issue tracker made or linked (any state): the key and page kept, the link on the timeline."""
    updated = incident.model_copy(update={"ticket_key": key, "ticket_url": url, "version": incident.version + 1})
    return updated, TimelineEntry(at=now, actor=actor, kind="ticket", text=text)


def public_post(
    incident: Incident,
    page_id: str,
    status: str,
    text: str,
    *,
    actor: str,
    now: datetime,
    components: list[str] | None = None,
) -> tuple[Incident, TimelineEntry]:
    """Posted to the public status page: the page's incident id, status and components kept (any state)."""
    changes: dict[str, object] = {"statuspage_id": page_id, "statuspage_status": status}
    changes["version"] = incident.version + 1
    if components is not None:
        changes["statuspage_components"] = components
    updated = incident.model_copy(update=changes)
    return updated, TimelineEntry(at=now, actor=actor, kind="status page", text=text)


def hand_over(
    incident: Incident, team: str, respond_by: datetime, *, actor: str, now: datetime, default: str
) -> tuple[Incident, TimelineEntry]:
    """The incident belongs to ``team`` from now (any state but closed); an open one's response deadline starts
    again (the new team's on-call is paged from step 1)."""
    if incident.state is State.CLOSED:
        raise TransitionRefused(incident, None)
    before = incident.team or default
    if before == team:
        raise NoChange(incident, f"{incident.ref} is team {team}'s already")
    changes: dict[str, object] = {"team": team, "handovers": incident.handovers + 1, "version": incident.version + 1}
    if incident.state is State.OPEN:
        changes["respond_by"] = respond_by
    return incident.model_copy(update=changes), TimelineEntry(
        at=now, actor=actor, kind="handed over", text=f"team {before} → team {team}"
    )
