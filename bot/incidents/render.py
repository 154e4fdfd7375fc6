"""Block Kit for incidents, built with ``slack_sdk.models.blocks`` (which enforces Slack's limits).

Pure: takes domain objects, returns blocks and text. User-supplied text is escaped for
mrkdwn so a title can never mention ``@channel`` or forge a link.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.blocks import chunked_sections
from bot.core.durations import format_duration
from bot.core.settings.incident_response import VendorLine
from bot.core.severity import SEVERITY_LABELS, Severity
from bot.core.text import SECTION_LIMIT, clip, escape, user, when
from bot.core.timeline import TimelineEntry
from bot.incidents.machine import allowed_actions
from bot.incidents.model import DESCRIPTION_MAX, TITLE_MAX, Action, Hold, Incident, State
from bot.incidents.text import SEVERITY_EMOJI, STATE_EMOJI, summary_lines, timeline_line

RECENT_WINDOW = timedelta(days=30)  # /incident list --recent
LIST_LIMIT = 20
TIMELINE_LIMIT = 40
OPEN_MODAL_CALLBACK = "incident_open_modal"

BUTTONS = {
    Action.ACKNOWLEDGE: ("Acknowledge", "primary"),
    Action.MITIGATE: ("Mitigated", None),
    Action.RESOLVE: ("Resolve", None),
    Action.REOPEN: ("Reopen", "danger"),
}


def action_id(action: Action) -> str:
    return f"incident_{action.value}"


POSTMORTEM_ACTION = "incident_postmortem"
URL_ACTION = "incident_link"  # link buttons (runbook, alert source): Slack still sends a click, acknowledged
LABELS_SHOWN = 12
ASSIGN_ACTION = "incident_assign"
RUNBOOKS_ACTION = "incident_runbooks"


def _url(value: str | None) -> str | None:
    """A link from an alert, only when it is plainly http(s) (it came from outside)."""
    if value and value.startswith(("https://", "http://")) and len(value) <= 3000 and " " not in value:
        return value
    return None


def _alert_blocks(incident: Incident) -> list[Block]:
    origin = incident.alert
    if origin is None:
        return []
    labels = sorted(origin.labels.items())
    shown = ", ".join(f"`{escape(k)}={escape(v)}`" for k, v in labels[:LABELS_SHOWN])
    more = f" and {len(labels) - LABELS_SHOWN} more" if len(labels) > LABELS_SHOWN else ""
    facts = f"🔔 From *{escape(origin.actor)}*" + (f" · {shown}{more}" if shown else "")
    if origin.previous:
        facts += f" · follows INC-{origin.previous}, resolved"
    blocks: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=clip(facts, 2900))])]
    links = [
        ButtonElement(text=text, url=url, action_id=f"{URL_ACTION}_{i}")
        for i, (text, url) in enumerate(
            (("Runbook", _url(origin.runbook_url)), ("Alert source", _url(origin.generator_url)))
        )
        if url
    ]
    if links:
        blocks.append(ActionsBlock(block_id=f"incident_links_{incident.number}", elements=links))
    return blocks


def lifecycle_buttons(incident: Incident) -> ActionsBlock | None:
    """The announcement's buttons, for another surface (the App Home): the same actions, the same handlers."""
    return _buttons(incident)


def _buttons(incident: Incident, extra: Sequence[ButtonElement] = ()) -> ActionsBlock | None:
    elements: list[ButtonElement | UserSelectElement] = []
    for action in allowed_actions(incident.state):
        if action not in BUTTONS:
            continue
        label, style = BUTTONS[action]
        confirm = None
        if action is Action.RESOLVE:
            confirm = ConfirmObject(
                title="Resolve incident?",
                text=f"Mark {incident.ref} resolved: the impact is over and nothing more is needed right now.",
                confirm="Resolve",
                deny="Cancel",
            )
        elements.append(
            ButtonElement(
                text=label, action_id=action_id(action), value=str(incident.number), style=style, confirm=confirm
            )
        )
    if incident.state in (State.RESOLVED, State.CLOSED):
        elements.append(
            ButtonElement(text="Post-mortem draft", action_id=POSTMORTEM_ACTION, value=str(incident.number))
        )
    elements.extend(extra)
    if incident.state is not State.CLOSED:
        elements.append(ButtonElement(text="Runbooks", action_id=RUNBOOKS_ACTION, value=str(incident.number)))
        elements.append(
            UserSelectElement(
                action_id=ASSIGN_ACTION,
                placeholder="Set commander",
                initial_user=incident.commander,
            )
        )
    return ActionsBlock(block_id=f"incident_actions_{incident.number}", elements=elements) if elements else None


def _deadline_text(incident: Incident, now: datetime) -> str:
    if incident.acknowledged_at is not None:
        took = format_duration(incident.acknowledged_at - incident.opened_at)
        late = incident.acknowledged_at > incident.respond_by
        return f"acknowledged after {took}" + (" (past the deadline)" if late else "")
    if incident.state is State.OPEN:
        overdue = now > incident.respond_by
        return f"{when(incident.respond_by)}" + (" — *overdue*" if overdue else "")
    return when(incident.respond_by)


def announcement_blocks(
    incident: Incident, now: datetime, *, extra: Sequence[ButtonElement] = (), vendor: VendorLine | None = None
) -> list[Block]:
    """The incident announcement: edited in place on every change. ``extra``: other domains' buttons, after the
    lifecycle's (``bot.incidents.steps.AnnouncementButtons``); ``vendor``: the guide's vendor line, on a P1."""
    sev = incident.severity
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"{STATE_EMOJI[incident.state]} {incident.ref}: {incident.title}", TITLE_MAX)),
        SectionBlock(
            fields=[
                MarkdownTextObject(text=f"*Severity*\n{SEVERITY_EMOJI[sev]} {sev.value} ({SEVERITY_LABELS[sev]})"),
                MarkdownTextObject(text=f"*Status*\n{incident.state.value.capitalize()}"),
                MarkdownTextObject(text=f"*Commander*\n{user(incident.commander)}"),
                MarkdownTextObject(text=f"*Respond by*\n{_deadline_text(incident, now)}"),
                *([MarkdownTextObject(text=f"*Team*\n{escape(incident.team)}")] if incident.team else []),
            ]
        ),
    ]
    if incident.description:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(escape(incident.description), SECTION_LIMIT))))
    for during in incident.during:
        line = f"{during.emoji} Opened during {during.label} *{clip(escape(during.text), 200)}*"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    if incident.held is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=held_line(incident.held))]))
    blocks.extend(_alert_blocks(incident))
    if vendor is not None and sev is Severity.P1 and (vendor.text or vendor.links):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=vendor_line(vendor))]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_context_line(incident))]))
    buttons = _buttons(incident, extra)
    if buttons is not None:
        blocks.append(buttons)
    return blocks


def vendor_line(vendor: VendorLine) -> str:
    """``escalation.vendor_line``: its text, then each link by name (names and links from the config, escaped)."""
    links = [f"<{_link_target(url)}|{escape(name)}>" for name, url in vendor.links.items()]
    line = " · ".join([f"🆘 Vendor support: {escape(vendor.text)}", *links]) if vendor.text else " · ".join(links)
    return clip(line, SECTION_LIMIT)


def _link_target(url: str) -> str:
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def held_line(held: Hold) -> str:
    """What holds the incident's paging, or held it until when."""
    what = clip(escape(held.text), 300)
    if held.released_at is not None:
        return f"📟 Paging was held by {what} until {when(held.released_at)} ({clip(escape(held.released_why), 200)})"
    also = f"; paged all the same: {', '.join(user(p) for p in held.page[:5])}" if held.page else ""
    return f"🔕 Paging held by {what}: the on-call is paged when it ends, if this is still open{also}"


def _context_line(incident: Incident) -> str:
    parts = [f"Opened by {user(incident.opened_by)} {when(incident.opened_at)}"]
    if incident.acknowledged_by:
        parts.append(f"acknowledged by {user(incident.acknowledged_by)}")
    if incident.mitigated_by:
        parts.append(f"mitigated by {user(incident.mitigated_by)}")
    if incident.resolved_by:
        parts.append(f"resolved by {user(incident.resolved_by)}")
    if incident.closed_by:
        parts.append(f"closed by {user(incident.closed_by)}")
    if incident.room:
        parts.append(f"channel <#{incident.room}>")
    if incident.statuspage_id:
        parts.append(f"on the status page ({incident.statuspage_status or 'posted'})")
    if incident.ticket_key:
        key, url = escape(incident.ticket_key), _url(incident.ticket_url)
        parts.append(f"ticket <{_link_target(url)}|{key}>" if url else f"ticket {key}")
    return " · ".join(parts)


def status_blocks(incident: Incident, recent: Sequence[TimelineEntry], now: datetime) -> list[Block]:
    blocks = announcement_blocks(incident, now)
    if recent:
        lines = "\n".join(timeline_line(e) for e in recent)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(f"*Recent timeline*\n{lines}", SECTION_LIMIT))))
    return blocks


def timeline_blocks(incident: Incident, entries: Sequence[TimelineEntry], total: int, page: int = 1) -> list[Block]:
    """One page of the timeline; times render in each reader's own time zone (Slack date tokens)."""
    pages = max(1, -(-len(entries) // TIMELINE_LIMIT))
    page = min(page, pages)
    shown = list(entries)[(page - 1) * TIMELINE_LIMIT : page * TIMELINE_LIMIT]
    blocks: list[Block] = [HeaderBlock(text=clip(f"Timeline of {incident.ref}: {incident.title}", TITLE_MAX))]
    blocks.extend(chunked_sections([timeline_line(e) for e in shown]))
    if pages > 1:
        hint = f" — next: `/incident timeline {incident.ref} {page + 1}`" if page < pages else ""
        footer = f"Page {page} of {pages} ({total} entries){hint}"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return blocks


def list_blocks(incidents: Sequence[Incident], now: datetime) -> list[Block]:
    if not incidents:
        return [SectionBlock(text=MarkdownTextObject(text="✅ No open incidents."))]
    ordered = sorted(incidents, key=lambda i: (i.severity.value, -i.number))
    lines = summary_lines(ordered, now, LIST_LIMIT)
    more = lines.pop() if len(ordered) > LIST_LIMIT else None
    blocks: list[Block] = [
        HeaderBlock(text=f"{len(incidents)} incident{'s' if len(incidents) != 1 else ''} not closed"),
        *chunked_sections(lines),
    ]
    if more:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return blocks


def severity_lines(incidents: Sequence[Incident]) -> list[str]:
    """Per severity: how many, median time to acknowledge (and how many within target), median time to resolve."""
    lines = []
    for severity in Severity:
        group = [i for i in incidents if i.severity is severity]
        if not group:
            continue
        tta = [(i.acknowledged_at - i.opened_at).total_seconds() for i in group if i.acknowledged_at]
        ttr = [(i.resolved_at - i.opened_at).total_seconds() for i in group if i.resolved_at]
        on_time = sum(1 for i in group if i.acknowledged_at and i.acknowledged_at <= i.respond_by)
        lines.append(
            f"{SEVERITY_EMOJI[severity]} *{severity.value}*: {len(group)} — median time to acknowledge "
            f"{_median(tta)} ({on_time}/{len(group)} within target), median time to resolve {_median(ttr)}"
        )
    return lines


def recent_blocks(incidents: Sequence[Incident], now: datetime) -> list[Block]:
    """``/incident list --recent``: per severity, how many, time to acknowledge and resolve."""
    blocks: list[Block] = [HeaderBlock(text=f"Incidents of the last 30 days: {len(incidents)}")]
    lines = severity_lines(incidents)
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines) or "✅ No incidents.")))
    return blocks


def _median(seconds: list[float]) -> str:
    return format_duration(timedelta(seconds=statistics.median(seconds))) if seconds else "—"


def open_modal(origin_channel: str) -> View:
    """The modal shown by ``/incident open`` without arguments."""
    return View(
        type="modal",
        callback_id=OPEN_MODAL_CALLBACK,
        private_metadata=origin_channel,
        title="Open an incident",
        submit="Open incident",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="title",
                label="Title",
                element=PlainTextInputElement(
                    action_id="value", max_length=TITLE_MAX, placeholder="Checkout API returns 500s"
                ),
            ),
            InputBlock(
                block_id="severity",
                label="Severity",
                element=StaticSelectElement(
                    action_id="value",
                    placeholder="Pick a severity",
                    options=[Option(value=s.value, text=f"{s.value} — {SEVERITY_LABELS[s]}") for s in Severity],
                ),
            ),
            InputBlock(
                block_id="description",
                label="What is happening?",
                optional=True,
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=DESCRIPTION_MAX),
            ),
        ],
    )
