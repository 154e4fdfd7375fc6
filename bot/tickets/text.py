"""What the tickets domain says (pure): the ticket's description, its timeline entries, its notes in the thread."""

from __future__ import annotations

import re
from datetime import date

from bot.core.text import escape
from bot.core.timeline import TimelineEntry
from bot.incidents.model import Incident
from bot.tickets.model import TRACKER_NAMES, ActionItem, Ticket, marker_line

COMMENT_OPEN = re.compile(r"<!--")


def defused(user_text: str) -> str:
    """People's text as it goes into a ticket's body: an HTML comment opener (``<!-- chatops-INC-9 -->``, the marker
    the bot finds its tickets by) is broken by a zero-width space, so nobody's text can pass for a marker or hide."""
    return COMMENT_OPEN.sub("<\u200b!--", user_text)


def ticket_link(key: str, url: str | None) -> str:
    """A ticket as a Slack link (mrkdwn): the key escaped, the page only when it is http(s), its delimiters encoded."""
    url = url or ""
    safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe}|{escape(key)}>" if safe.startswith(("https://", "http://")) else escape(key)


def _link(ticket: Ticket) -> str:
    return ticket_link(ticket.key, ticket.url)


def slack_link(channel: str, ts: str | None) -> str:
    """A Slack link to a message (``/archives/<channel>/p<ts>``, which Slack sends on to the workspace)."""
    tail = f"/p{ts.replace('.', '')}" if ts else ""
    return f"https://slack.com/archives/{channel}{tail}"


def description(incident: Incident, label: str, where: tuple[str, str | None] | None, markdown: bool) -> str:
    """The ticket's body: severity, who responded, where the incident is in Slack, and the marker (a hidden line in
    Markdown bodies, which is how GitHub and Linear tickets are found again)."""
    lines = [
        f"{incident.ref}: {defused(incident.title)}",
        f"Severity: {incident.severity.value} ({label})",
        f"Opened by Slack user {incident.opened_by}",
    ]
    if incident.acknowledged_by:
        lines.append(f"First responder: Slack user {incident.acknowledged_by}")
    if incident.commander:
        lines.append(f"Commander: Slack user {incident.commander}")
    if where is not None:
        channel, ts = where
        lines.append(f"Announcement: {slack_link(channel, ts)}")
    if incident.room:
        lines.append(f"Incident channel: {slack_link(incident.room, None)}")
    if incident.description:
        lines += ["", defused(incident.description)]
    lines += ["", "Kept in sync by chatops-bot."]
    if markdown:
        lines.append(marker_line(incident.ref))
    return "\n".join(lines)


def _plain(ticket: Ticket) -> str:
    """The key and its page as plain text (timeline entries are escaped where they are shown)."""
    return f"{ticket.key} ({ticket.url})" if ticket.url else ticket.key


def timeline(name: str, ticket: Ticket) -> str:
    return f"{name} ticket {_plain(ticket)} created"


def linked(name: str, ticket: Ticket) -> str:
    return f"{name} ticket {_plain(ticket)} linked"


def update_comment(entry: TimelineEntry) -> str:
    return f"Status update from Slack user {entry.actor}: {defused(entry.text)}"


def down(name: str, incident: Incident, why: str) -> str:
    return (
        f"⚠️ {escape(why)}: {incident.ref}'s ticket is made (or moved) when {name} answers again. "
        "The incident goes on as usual."
    )


def back(name: str, incident: Incident, ticket: Ticket) -> str:
    return f"🎫 {name} answers again: {incident.ref}'s ticket is {_link(ticket)}."


def refused(incident: Incident, why: str) -> str:
    return f"⚠️ No ticket for {incident.ref}: {escape(why)}. `/incident ticket {incident.ref}` tries again."


def not_synced(ticket: Ticket, what: str, why: str) -> str:
    return f"⚠️ {_link(ticket)} was not updated ({escape(what)}): {escape(why)}."


def no_such(name: str, key: str) -> str:
    return f"⚠️ {name} has no ticket {escape(key)}; nothing was linked."


def tracker_name(tracker: str) -> str:
    return TRACKER_NAMES[tracker]


def _owner(item: ActionItem) -> str:
    return f"<@{item.owner}>" if item.owner else "nobody yet"


def action_line(item: ActionItem) -> str:
    """The timeline's line (plain: escaped where shown)."""
    due = f", due {item.due.isoformat()}" if item.due else ""
    owner = f", owner <@{item.owner}>" if item.owner else ""
    return f"{item.ref}: {item.text}{owner}{due}"


def action_body(item: ActionItem, incident: Incident, assigned: bool = False) -> str:
    """An action item's ticket: its owner named as the Slack user (and said unassigned when the tracker has no user
    of their Slack email)."""
    lines = [defused(item.text), "", f"Action item {item.ref} of {incident.ref}: {defused(incident.title)}"]
    if incident.ticket_key:
        lines.append(f"Follow-up of the incident's ticket {incident.ticket_key}")
    if item.owner:
        lines.append(
            f"Owner: Slack user {item.owner}" + ("" if assigned else " (no tracker user of their email: unassigned)")
        )
    if item.due:
        lines.append(f"Due: {item.due.isoformat()}")
    lines.append(f"Recorded by Slack user {item.by} with chatops-bot.")
    return "\n".join(lines)


def action_ticketed(name: str, item: ActionItem) -> str:
    ticket = item.ticket
    assert ticket is not None
    return f"📌 Action item {item.ref} is {name} ticket {_link(ticket)}: {escape(item.text)}"


def action_refused(item: ActionItem, why: str) -> str:
    return f"⚠️ No ticket for action item {item.ref}: {escape(why)}. It is kept here all the same."


def action_unlinked(item: ActionItem, relates: Ticket, why: str) -> str:
    ticket = item.ticket
    assert ticket is not None
    return (f"⚠️ Action item {item.ref}'s ticket {_link(ticket)} is not linked to the incident's {_link(relates)}: "
            f"{escape(why)}. The ticket is kept; link them in the tracker.")  # fmt: skip


def action_status(item: ActionItem, today: date) -> str:
    """One line of ``/incident actions``."""
    ticket = item.ticket
    state = "✅ done" if item.done_at else ("⏰ overdue" if item.overdue(today) else "open")
    where = f" · {_link(ticket)}" + (f" ({escape(item.ticket_status)})" if item.ticket_status else "") if ticket else ""
    due = f" · due {item.due.isoformat()}" if item.due else ""
    return f"• *{item.ref}* {escape(item.text)} — {_owner(item)}{due}{where} · {state}"


def action_row(item: ActionItem) -> tuple[str, str, str]:
    what = item.text + (f" ({item.ticket_key})" if item.ticket_key else "") + (" — done" if item.done_at else "")
    return what, f"@{item.owner}" if item.owner else "—", item.due.isoformat() if item.due else "—"


def weekly_line(
    team: str, items: list[ActionItem], today: date, private: frozenset[int] | set[int] = frozenset()
) -> str:
    """Open and overdue per team, the oldest named; an item of a private incident (in ``private``) is counted and
    dated, its text not shown (the report is read by everyone in its channel)."""
    overdue = [i for i in items if i.overdue(today)]
    oldest = min(items, key=lambda i: i.at)
    what = "an item of a private incident" if oldest.number in private else escape(oldest.text[:80])
    return (
        f"• *{escape(team)}*: {len(items)} open, {len(overdue)} overdue; the oldest "
        f"{'' if oldest.number in private else oldest.ref + ' '}({oldest.at.date().isoformat()}): {what}"
    )
