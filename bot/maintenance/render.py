"""Block Kit and text for maintenance windows (pure): the announcement (one message, edited as the window changes)
with the guide's checklist and the buttons of the moment, the list, the reminders, smoke test results, and the
EKS pre-checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.blocks.block_elements import DatePickerElement, TimePickerElement
from slack_sdk.models.views import View

from bot.core.blocks import chunked_sections, md
from bot.core.durations import format_duration
from bot.core.text import clip, escape, user, when
from bot.maintenance.model import CHECKLIST, Reminder, Window, WindowState
from bot.operations.offered import change_button
from runbooks.changes import Change
from runbooks.checklist.eks import Readiness
from runbooks.smoke import ProbeResult

STEP_ACTION = "mw_step"  # each checklist button is ``mw_step:<step>`` (an action_id is unique within its block)
START_ACTION = "mw_start"
DONE_ACTION = "mw_done"
CANCEL_ACTION = "mw_cancel"
ROLLOUT_ACTION = "mw_rollout"
SMOKE_ACTION = "mw_smoke"
ACTIONS = (STEP_ACTION, START_ACTION, DONE_ACTION, CANCEL_ACTION, ROLLOUT_ACTION, SMOKE_ACTION)
MAX_DRAIN_BUTTONS = 10
STATE_MARK = {
    WindowState.SCHEDULED: "🗓️ Scheduled",
    WindowState.RUNNING: "🛠️ In progress",
    WindowState.DONE: "✅ Done",
    WindowState.CANCELLED: "🚫 Cancelled",
}
WHEN_TEXT = {"week": "1 week before", "day": "The day before"}


def headline(window: Window) -> str:
    """``MW-3: <title>`` for mrkdwn and notification text: the title escaped (no ``<!channel>``, no links). Plain
    text (a header) takes ``window.headline`` as it is."""
    return escape(window.headline)


def span(window: Window) -> str:
    return f"{when(window.start)} – {when(window.end, '{time}')} ({format_duration(window.duration)})"


def suppressed(window: Window) -> str:
    """What the window holds pages for ("alerts for services `shop/api` on cluster `prod`"), '' when it does not."""
    if not window.suppress:
        return ""
    where = f"cluster `{escape(window.cluster)}`" if window.cluster else "the cluster"
    parts = []
    if window.services:
        parts.append(f"services {escape(', '.join(window.services))}")
    if window.nodes:
        parts.append(f"nodes {escape(', '.join(window.nodes))}")
    return f"alerts for {' and '.join(parts)} on {where}" if parts else f"every alert on {where}"


def suppression_line(window: Window) -> str:
    """The window's message says what it holds pages for, and what then."""
    what = suppressed(window)
    if not what:
        return "*Pages:* as always (`--no-suppress`)"
    return (
        f"*Pages held:* 🔕 {what}, from its start until it is done or its end plus `maintenance.grace`: nobody is "
        "paged (a P1 pages the owner), each incident is noted in this thread, and those still open when it closes "
        "page the on-call then"
    )


def facts(window: Window) -> str:
    lines = [f"*When:* {span(window)}", f"*State:* {STATE_MARK[window.state]}", f"*Owner:* {user(window.owner)}"]
    if window.cluster:
        lines.append(f"*Cluster:* `{escape(window.cluster)}`")
    if window.nodes:
        lines.append(f"*Nodes:* {escape(', '.join(window.nodes))}")
    if window.services:
        lines.append(f"*Services:* {escape(', '.join(window.services))}")
    if window.state not in (WindowState.DONE, WindowState.CANCELLED):
        lines.append(suppression_line(window))
    if window.cordoned:
        lines.append(f"*Cordoned by this window:* {escape(', '.join(window.cordoned))}")
    if window.reason:
        label = "Cancelled" if window.state is WindowState.CANCELLED else "Note"
        lines.append(f"*{label}:* {escape(window.reason)}")
    return "\n".join(lines)


def checklist_lines(window: Window) -> list[str]:
    lines = []
    for phase in ("week", "day"):
        lines.append(f"*{WHEN_TEXT[phase]}*")
        for step in (s for s in CHECKLIST if s.when == phase):
            tick = window.ticks.get(step.key)
            if tick is None:
                lines.append(f"⬜ {step.text}")
            else:
                note = f" — {escape(tick.note)}" if tick.note else ""
                lines.append(f"✅ {step.text} ({user(tick.by)}, {when(tick.at)}){note}")
    return lines


def _button(text: str, action: str, value: str, *, danger: bool = False, confirm: str | None = None) -> ButtonElement:
    dialog = (
        ConfirmObject(title=clip(text, 100), text=clip(confirm, 300), confirm=clip(text, 30), deny="Back")
        if confirm
        else None
    )
    return ButtonElement(
        text=clip(text, 75), action_id=action, value=value, style="danger" if danger else None, confirm=dialog
    )


def step_action(key: str) -> str:
    """A checklist button's action_id: ``mw_step:<step>`` (the listener also takes the bare ``mw_step`` of older
    messages)."""
    return f"{STEP_ACTION}:{key}"


def _changes(window: Window, offered: dict[str, Change]) -> list[ButtonElement]:
    """The node buttons of the moment: each carries only its offer's opaque id. The drains, one per node, are
    ``offer_drain:<n>`` (an action_id is unique within its block)."""
    out = []
    for index, (key, change) in enumerate(offered.items()):
        offer_id = window.offers.get(key)
        if offer_id is None:
            continue
        if key == "cordon":
            text = f"Cordon {len(window.nodes)} node(s)"
        elif key == "uncordon":
            text = f"Uncordon {len(window.cordoned)} node(s)"
        else:
            text = f"Drain {key.removeprefix('drain:')}"
        button = change_button(change, offer_id, text, key=str(index) if key.startswith("drain:") else None)
        out.append(button)
    return out


def announcement(window: Window, offered: dict[str, Change], smoke_tests: int) -> list[Block]:
    """The window's one message. ``offered``: the node changes whose offers ``window.offers`` holds."""
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"🛠️ {window.headline}", 150)),
        SectionBlock(text=md(facts(window))),
    ]
    blocks += chunked_sections(checklist_lines(window))
    ref = str(window.number)
    steps = [
        _button(s.text, step_action(s.key), f"{ref}:{s.key}")
        for s in CHECKLIST
        if s.key not in window.ticks and window.state is not WindowState.CANCELLED
    ]
    if window.state in (WindowState.SCHEDULED, WindowState.RUNNING) and steps:
        blocks.append(ActionsBlock(block_id=f"mw_checklist_{ref}", elements=steps))
    during: list[ButtonElement] = []
    if window.state is WindowState.SCHEDULED:
        during.append(_button("Start", START_ACTION, ref))
        during.append(_button("Cancel window", CANCEL_ACTION, ref, danger=True, confirm=f"Cancel {headline(window)}?"))
    elif window.state is WindowState.RUNNING:
        during += _changes(window, offered)[: 2 + MAX_DRAIN_BUTTONS]
        if window.services:
            during.append(_button("Rollout status", ROLLOUT_ACTION, ref))
        if smoke_tests:
            during.append(_button("Run smoke tests", SMOKE_ACTION, ref))
        during.append(_button("Done", DONE_ACTION, ref, confirm=f"Close {headline(window)}?"))
    elif window.state is WindowState.DONE:
        during += _changes(window, {k: v for k, v in offered.items() if k == "uncordon"})
    if during:
        blocks.append(ActionsBlock(block_id=f"mw_during_{ref}", elements=during))
    return blocks


def announcement_text(window: Window) -> str:
    return f"{headline(window)} — {STATE_MARK[window.state]}, {span(window)}"


def mirror_blocks(window: Window) -> list[Block]:
    """The read-only copy for stakeholders: what, when, state."""
    return [HeaderBlock(text=clip(f"🛠️ {window.headline}", 150)), SectionBlock(text=md(facts(window)))]


def list_blocks(windows: Sequence[Window], now: datetime) -> list[Block]:
    if not windows:
        return [SectionBlock(text=md("No maintenance windows are scheduled or running."))]
    lines = [f"*Maintenance windows* ({len(windows)})"]
    for w in windows:
        done = sum(1 for s in CHECKLIST if s.key in w.ticks)
        lines.append(
            f"• *{w.ref}* {escape(w.title)} — {span(w)}, {STATE_MARK[w.state].split(' ', 1)[1].lower()}, "
            f"owner {user(w.owner)}, checklist {done}/{len(CHECKLIST)}"
        )
    return chunked_sections(lines)


def upcoming_lines(windows: Sequence[Window]) -> list[str]:
    """For the hand-off checklist and the digest: one line each."""
    return [
        f"• *{w.ref}* {escape(w.title)} — {span(w)}, owner {user(w.owner)}"
        + (f"; 🔕 holds pages for {suppressed(w)}" if w.suppress else "")
        for w in windows
    ]


def held_text(window: Window) -> str:
    """Kept on an incident whose paging the window holds: plain words (the incident's renderers escape them)."""
    return f"maintenance window {window.headline}"


def held_note(incident_ref: str, severity: str, title: str, paged_owner: str | None) -> str:
    """In the window's thread: an incident opened inside its scope."""
    who = f"only {user(paged_owner)} (the owner) is paged" if paged_owner else "nobody is paged"
    return (
        f"🔕 *{escape(incident_ref)}* {escape(severity)} {escape(clip(title, 150))} opened inside this window's scope: "
        f"{who}. If it is still open when the window closes, the on-call is paged then."
    )


def released_note(incident_ref: str, state: str, why: str) -> str:
    """In the window's thread: the window closed and what happened to an incident it held."""
    then = "the on-call is paged now" if state == "open" else f"it is {escape(state)}, so nobody is paged"
    return f"📟 *{escape(incident_ref)}* was held by this window, which {escape(why)}: {then}."


def reminder_text(window: Window, kind: Reminder) -> str:
    if kind is Reminder.WEEK:
        return f"📣 In a week: *{headline(window)}*, {span(window)}. Owner {user(window.owner)}."
    if kind is Reminder.DAY:
        return f"📣 Tomorrow: *{headline(window)}*, {span(window)}. Owner {user(window.owner)}."
    if kind is Reminder.SOON:
        return (
            f"⏰ *{headline(window)}* starts in 15 minutes ({when(window.start)}). Start it with the button on its "
            f"message or `/maintenance start {window.ref}`."
        )
    if kind is Reminder.START:
        return f"⏰ *{headline(window)}* is due to start now ({user(window.owner)})."
    return (
        f"⚠️ *{headline(window)}* should have ended at {when(window.end, '{time}')} and is not marked done "
        f"({user(window.owner)}): `/maintenance done {window.ref}` when it is."
    )


def smoke_lines(results: Sequence[ProbeResult]) -> list[str]:
    out = []
    for r in results:
        took = f"{r.seconds * 1000:.0f} ms"
        if r.ok:
            out.append(f"✅ *{escape(r.probe.name)}* {r.status} in {took}")
        else:
            out.append(f"🔴 *{escape(r.probe.name)}* {escape(r.error or 'failed')} ({took})")
    return out


def readiness_blocks(cluster: str, eks_name: str, ready: Readiness) -> list[Block]:
    mark = "✅" if ready.ready else "🔴"
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"EKS upgrade check: {eks_name} → {ready.target}", 150)),
        SectionBlock(text=md(f"{mark} *{escape(ready.verdict)}*")),
    ]
    lines = [f"• {escape(b)}" for b in ready.blockers] + [f"• ⚠️ {escape(w)}" for w in ready.warnings]
    if lines:
        blocks += chunked_sections(["*Blockers and warnings*", *lines])
    blocks += chunked_sections(["*Checked*", *(f"• {escape(f)}" for f in ready.facts)])
    blocks.append(ContextBlock(elements=[md(f"Kubernetes cluster `{escape(cluster)}` · EKS `{escape(eks_name)}`")]))
    return blocks


def home_blocks(lines: Sequence[str]) -> list[Block]:
    """The App Home's "Upcoming maintenance" (nothing when no window is coming)."""
    return chunked_sections(["*Upcoming maintenance*", *lines]) if lines else []


SCHEDULE_FORM = "mw_schedule"


def schedule_form() -> View:
    """``/maintenance schedule`` with nothing after it: the window as a form."""

    def text(
        block: str, label: str, *, optional: bool = False, hint: str | None = None, initial: str | None = None
    ) -> InputBlock:
        return InputBlock(
            block_id=block,
            label=label,
            optional=optional,
            hint=hint,
            element=PlainTextInputElement(action_id="value", initial_value=initial, max_length=500),
        )

    return View(
        type="modal",
        callback_id=SCHEDULE_FORM,
        title="Schedule maintenance",
        submit="Schedule",
        close="Cancel",
        blocks=[
            text("title", "What is being done", hint="Postgres minor upgrade"),
            InputBlock(block_id="date", label="Day", element=DatePickerElement(action_id="value")),
            InputBlock(
                block_id="time", label="Start (on-call time zone)", element=TimePickerElement(action_id="value")
            ),
            text("duration", "Duration", initial="2h", hint="2h, 90m, 1h30m"),
            text("cluster", "Cluster", optional=True),
            text("nodes", "Nodes to cordon", optional=True, hint="node-1,node-2"),
            text("services", "Services", optional=True, hint="production/api-gateway,production/payments"),
        ],
    )
