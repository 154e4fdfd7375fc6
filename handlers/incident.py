"""``/incident``: open, lifecycle steps, status, list, severity, timeline, escalate; the open-incident form and the
announcement's lifecycle buttons. Update, assign and post-mortem are in ``handlers.collab``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core.errors import DependencyError, UserError
from bot.core.permissions import Actor
from bot.core.settings.teams import namespace_owner
from bot.core.severity import Severity
from bot.core.text import escape, user
from bot.core.timeline import TimelineEntry
from bot.incidents import parse as p
from bot.incidents.machine import SeverityUnchanged, TransitionRefused
from bot.incidents.model import DESCRIPTION_MAX, TITLE_MAX, Action, Incident, State, parse_ref
from bot.incidents.permissions import require_commander, require_readable
from bot.incidents.render import (
    BUTTONS,
    OPEN_MODAL_CALLBACK,
    RECENT_WINDOW,
    action_id,
    list_blocks,
    open_modal,
    recent_blocks,
    status_blocks,
    timeline_blocks,
)
from bot.paging.emergency import LAST_STEP, Emergency, contacts_of
from handlers import collab, tickets
from handlers.kit import Answer, Click, Command, Kit, Replies, Submission, Submitted, Who
from handlers.needs import Needs

STATUS_TIMELINE_ENTRIES = 5
KNOWN_VERBS = ("help", "open", "status", "list", "severity", "timeline", "update", "assign", "postmortem",
               "escalate", "team", *tickets.VERBS, *p.LIFECYCLE_VERBS)  # fmt: skip


def _who(parsed: p.Command) -> tuple[Who, str]:
    """Who may do what was typed (checked once it is read, so a typing mistake is answered first); closing is the
    commander's or an operator's, checked against the incident."""
    match parsed:
        case p.Lifecycle(action=action) if action is not Action.CLOSE:
            return Who.RESPONDERS, f"{action.value} incidents"
        case p.Update():
            return Who.RESPONDERS, "post status updates"
        case p.Postmortem():
            return Who.RESPONDERS, "draft post-mortems"
        case p.Assign():
            return Who.RESPONDERS, "assign the commander"
    return Who.ANYONE, ""


async def _parse(needs: Needs, cmd: Command) -> p.Command:
    """Parse; inside an incident's own channel a missing INC-n means that incident."""
    try:
        return p.parse(cmd.text)
    except p.MissingIncidentId:
        number = await needs.store.room_of(cmd.channel)
        if number is None:
            raise
        return p.parse(p.with_incident(cmd.text, number))


def _changed(needs: Needs, incident: Incident, entry: TimelineEntry, text: str) -> Answer:
    """Say ``text`` now; the announcement and its thread follow."""

    async def announce(replies: Replies) -> None:
        await needs.flows.changed(incident, entry)

    return Answer(text, later=announce, name="incident-changed", task=f"changed-{incident.ref}")


async def incident_command(needs: Needs, cmd: Command) -> Answer:
    if cmd.verb in tickets.VERBS:
        return await tickets.command(needs, cmd)
    parsed = await _parse(needs, cmd)
    actor = cmd.actor
    who, doing = _who(parsed)
    await needs.access.require(who, actor, doing)
    match parsed:
        case p.Help():
            return Answer(p.USAGE)
        case p.OpenModal():
            return Answer.form(
                open_modal(cmd.channel), cmd.trigger_id, instead="Use `/incident open P1 <title>`.", name="open-modal"
            )
        case p.Open():
            return await _open(needs, parsed, actor.user)
        case p.Lifecycle(action=action, number=number, note=note):
            if action is Action.CLOSE:
                await require_commander(needs.access, await needs.store.get(number), actor, "close")
            incident, entry = await needs.incidents.act(number, action, actor.user, note)
            return _changed(needs, incident, entry, f"{incident.ref} is now *{incident.state.value}*.")
        case p.ChangeSeverity(number=number, severity=severity, note=note):
            await require_commander(needs.access, await needs.store.get(number), actor, "change the severity of")
            try:
                incident, entry = await needs.incidents.change_severity(number, severity, actor.user, note)
            except TransitionRefused as exc:
                raise UserError(f"{exc.incident.ref} is closed; its severity can no longer change.") from None
            except SeverityUnchanged as exc:
                raise UserError(f"{exc.incident.ref} is already {severity.value}.") from None
            return _changed(needs, incident, entry, f"{incident.ref} is now {incident.severity.value}; {entry.text}.")
        case p.Status(number=number):
            incident = await needs.store.get(number)
            await require_readable(needs.access, needs.config.incident_channels, incident, actor)
            recent = await needs.store.last_timeline(number, STATUS_TIMELINE_ENTRIES)
            return Answer(incident.ref, status_blocks(incident, recent, needs.clock()))
        case p.ListOpen(recent=False):
            incidents = await needs.store.active()
            return Answer(f"{len(incidents)} incidents not closed", list_blocks(incidents, needs.clock()))
        case p.ListOpen(recent=True):
            now = needs.clock()
            last_month = await needs.store.recent(now - RECENT_WINDOW)
            return Answer("Incidents of the last 30 days", recent_blocks(last_month, now))
        case p.Timeline(number=number, page=page):
            incident = await needs.store.get(number)
            await require_readable(needs.access, needs.config.incident_channels, incident, actor)
            entries, total = await needs.store.timeline(number)
            return Answer(f"Timeline of {incident.ref}", timeline_blocks(incident, entries, total, page))
        case p.Update() | p.Assign() | p.Postmortem():
            return await collab.answer(needs, parsed, actor, cmd.trigger_id)
        case p.Escalate(number=number):
            return await _escalate(needs, number, actor.user)
        case p.HandOver():
            return await _hand_over(needs, parsed, actor)
    raise AssertionError("every /incident command is handled")


async def _open(needs: Needs, parsed: p.Open, actor: str) -> Answer:
    """``/incident open``: the incident, of the named team (an unknown one refused, naming the teams) or of the team
    owning its service's namespace; announced after the acknowledgement."""
    team: str | None
    if parsed.team is not None:
        team, _ = needs.roster.team(parsed.team)
    else:
        team = namespace_owner(needs.config.teams, parsed.service)
    incident = await needs.incidents.open(
        title=parsed.title, severity=parsed.severity, actor=actor, service=parsed.service, team=team
    )

    async def announce(replies: Replies) -> None:
        await needs.flows.opened(incident)

    return Answer(_opened_text(needs, incident), later=announce, name="incident-announce",
                  task=f"announce-{incident.ref}")  # fmt: skip


async def _hand_over(needs: Needs, parsed: p.HandOver, actor: Actor) -> Answer:
    """``/incident team INC-n <team>``: the commander or an operator hands the incident to another team."""
    name, _ = needs.roster.team(parsed.team)
    await require_commander(needs.access, await needs.store.get(parsed.number), actor, "hand over")
    try:
        incident, entry = await needs.incidents.hand_over(parsed.number, name, actor.user)
    except TransitionRefused as exc:
        raise UserError(f"{exc.incident.ref} is closed; it stays with its team.") from None
    return _changed(needs, incident, entry, f"{incident.ref} is team *{name}*'s now; its on-call is paged.")


async def _escalate(needs: Needs, number: int, actor: str) -> Answer:
    """``/incident escalate INC-n emergency``: the commander or an operator calls and DMs the severity's emergency
    contacts now (once per incident, whichever of this and the chain's last step comes first)."""
    incident = await needs.store.get(number)
    if actor != incident.commander and not await needs.access.is_operator(actor):
        commander = f" ({user(incident.commander)})" if incident.commander else ""
        raise UserError(f"Only the commander{commander} or an operator may escalate {incident.ref} to its emergency "
                        "contacts.")  # fmt: skip
    if incident.state in (State.RESOLVED, State.CLOSED):
        raise UserError(f"{incident.ref} is {incident.state.value}; there is nothing to escalate.")
    sev = incident.severity.value
    pager = needs.pager
    if pager is None:
        raise UserError("Calling emergency contacts needs paging set up (`paging.twilio` or `paging.sns`).")
    emergency = Emergency(pager)
    people = contacts_of(pager, incident)
    if not people:
        raise UserError(f"`escalation.emergency_contacts` names nobody for {sev}; nobody was called.")
    before = await emergency.claim(incident, actor)
    if before is not None:
        by = "when the chain's last step was paged" if before == LAST_STEP else f"by {user(before)}"
        raise UserError(f"The emergency contacts of {incident.ref} were called already ({by}).")
    names = ", ".join(user(person) for person in people)

    async def reach(replies: Replies) -> None:
        # The calls first (what matters at 03:00), then the timeline: Redis away must not keep anyone from being
        # called, the claim above being taken already (so a second try would say "called already").
        said = await emergency.reach(incident, f"escalated by {user(actor)}")
        try:
            updated, entry = await needs.incidents.note(number, "escalated", f"to the emergency contacts: {names}",
                                                        actor)  # fmt: skip
            await needs.flows.changed(updated, entry)
        except DependencyError as exc:
            said.append(f":warning: Not on the timeline: {exc}.")
        await replies.private("\n".join(said))

    return Answer(f"Calling the emergency contacts of {incident.ref} ({sev}) now: {names}.", later=reach,
                  name="incident-escalate", task=f"escalate-{incident.ref}")  # fmt: skip


def _opened_text(needs: Needs, incident: Incident) -> str:
    return (
        f"Opened *{incident.ref}* [{incident.severity.value}] {escape(incident.title)} — "
        + (f"team *{incident.team}*, " if incident.team else "")
        + f"announced in <#{needs.config.channels.incidents}>."
    )


async def open_submitted(needs: Needs, form: Submission) -> Submitted:
    errors: dict[str, str] = {}
    title = description = ""
    try:
        title = p.check_text(form.text("title"), "title", TITLE_MAX)
        if not title:
            errors["title"] = "Give the incident a title."
    except UserError as exc:
        errors["title"] = str(exc)
    severity = Severity.parse(form.choice("severity") or "")
    if severity is None:
        errors["severity"] = "Pick a severity, P1 to P4."
    try:
        description = p.check_text(form.text("description"), "description", DESCRIPTION_MAX, multiline=True)
    except UserError as exc:
        errors["description"] = str(exc)
    if errors or severity is None:
        return Submitted(errors)
    incident = await needs.incidents.open(
        title=title, severity=severity, actor=form.actor.user, description=description
    )
    return Submitted(later=lambda: needs.flows.opened(incident), name=f"announce-{incident.ref}")


def lifecycle_button(action: Action) -> Callable[[Needs, Click, Replies], Awaitable[None]]:
    """The announcement's (and a page DM's, and the App Home's) Acknowledge, Mitigated, Resolve and Reopen."""

    async def clicked(needs: Needs, click: Click, replies: Replies) -> None:
        number = parse_ref(click.value)
        if number is None:
            raise UserError("That button is not attached to an incident.")
        incident, entry = await needs.incidents.act(number, action, click.actor.user)
        await needs.flows.changed(incident, entry)

    return clicked


def register(kit: Kit) -> None:
    kit.command("/incident", incident_command, known=KNOWN_VERBS)
    kit.form(OPEN_MODAL_CALLBACK, open_submitted, field="title")
    for action in BUTTONS:
        kit.button(action_id(action), lifecycle_button(action), doing=f"{action.value} incidents", metric=action.value)
    collab.register(kit)
    tickets.register(kit)
