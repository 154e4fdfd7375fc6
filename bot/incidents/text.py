"""Incidents in mrkdwn strings (pure, no Slack SDK): the lines every list, thread, page and digest shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.durations import format_duration
from bot.core.severity import Severity
from bot.core.text import clip, escape, user, when
from bot.core.timeline import TimelineEntry
from bot.incidents.machine import PAST_TENSE, TransitionRefused, allowed_actions
from bot.incidents.model import Action, Incident, State

SEVERITY_EMOJI = {Severity.P1: "🔴", Severity.P2: "🟠", Severity.P3: "🟡", Severity.P4: "🔵"}
STATE_EMOJI = {
    State.OPEN: "🚨",
    State.ACKNOWLEDGED: "👀",
    State.MITIGATED: "🩹",
    State.RESOLVED: "✅",
    State.CLOSED: "📁",
}


def headline(incident: Incident) -> str:
    """The one-liner a message's ``text`` carries (the notification and fallback): Slack reads it as mrkdwn,
    so the title is escaped as in the blocks (no ``<!everyone>``, no disguised links)."""
    return f"{incident.ref} [{incident.severity.value}] {escape(incident.title)} — {incident.state.value}"


# Timeline entries whose text the bot itself writes as mrkdwn (mentions, channel links); any other text came
# from a person and is escaped.
BOT_MARKUP_KINDS = frozenset({"commander assigned", "channel created"})


def entry_text(entry: TimelineEntry) -> str:
    return entry.text if entry.kind in BOT_MARKUP_KINDS else escape(entry.text)


def thread_line(incident: Incident, entry: TimelineEntry) -> str:
    """The thread reply recording one change."""
    note = f": {entry_text(entry)}" if entry.text else ""
    return f"{STATE_EMOJI[incident.state]} {user(entry.actor)} {entry.kind} {incident.ref}{note}"


def timeline_line(entry: TimelineEntry) -> str:
    note = f" — {entry_text(entry)}" if entry.text else ""
    return f"• {when(entry.at, '{date_short} {time_secs}')} {user(entry.actor)} *{entry.kind}*{note}"


def summary_line(incident: Incident, now: datetime) -> str:
    """One incident in one line, as every list shows it (``/incident list``, the digest, the hand-off)."""
    sev = incident.severity
    return (
        f"{SEVERITY_EMOJI[sev]} *{incident.ref}* [{sev.value}] {escape(clip(incident.title, 80))} — "
        f"{incident.state.value}, {format_duration(now - incident.opened_at)} old, commander {user(incident.commander)}"
    )


def summary_lines(incidents: Sequence[Incident], now: datetime, limit: int, *, bullet: str = "") -> list[str]:
    """The first ``limit`` summary lines and an "…and N more" line past them."""
    lines = [f"{bullet}{summary_line(i, now)}" for i in incidents[:limit]]
    if len(incidents) > limit:
        lines.append(f"…and {len(incidents) - limit} more")
    return lines


def refusal_text(exc: TransitionRefused) -> str:
    """Why an action was refused, naming the current state and who got there first."""
    inc, action = exc.incident, exc.action
    state = f"*{inc.state.value}*"
    if action is Action.ACKNOWLEDGE and inc.acknowledged_by:
        acked = when(inc.acknowledged_at or inc.opened_at)
        return f"{inc.ref} was already acknowledged by {user(inc.acknowledged_by)} {acked}; it is {state} now."
    done_by = {
        Action.MITIGATE: (State.MITIGATED, inc.mitigated_by),
        Action.RESOLVE: (State.RESOLVED, inc.resolved_by),
        Action.CLOSE: (State.CLOSED, inc.closed_by),
    }
    if action in done_by and done_by[action][0] is inc.state and done_by[action][1]:
        return f"{inc.ref} was already {inc.state.value} by {user(done_by[action][1])}; it is {state} now."
    attempted = PAST_TENSE[action] if action else "changed"
    options = ", ".join(a.value for a in allowed_actions(inc.state)) or "nothing, it is closed"
    return f"{inc.ref} is {state}, so it can't be {attempted}. From {inc.state.value} you can: {options}."
