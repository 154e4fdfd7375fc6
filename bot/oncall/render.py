"""Block Kit for on-call: the page DM, ``/oncall``, the hand-off checklist (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.core.blocks import MESSAGE_TEXT, chunked_sections
from bot.core.durations import format_duration
from bot.core.text import SECTION_LIMIT, clip, escape, user, when
from bot.incidents.model import Action, Incident
from bot.incidents.render import action_id
from bot.incidents.text import SEVERITY_EMOJI, summary_lines
from bot.oncall.chain import Target
from bot.oncall.model import OnCallNow
from bot.oncall.schedule import Cover

HANDOFF_LIST_LIMIT = 15
COVERS_SHOWN = 3  # a team's covers in its line of `/oncall`
MORE_ROOM = 200  # for the line saying how many more teams
TEST_PAGING = "Test paging/alerting"


def page_text(incident: Incident, target: Target, step: int, waited: timedelta) -> str:
    why = "new incident" if step == 1 else f"unacknowledged for {format_duration(waited)}"
    return f"📟 {user(target.user)} paged for {incident.ref} (step {step}: {target.role}) — {why}"


def page_blocks(incident: Incident, target: Target, step: int, waited: timedelta) -> list[Block]:
    """The DM to a paged person, with an Acknowledge button that works from the DM."""
    sev = incident.severity
    why = "A new incident needs you." if step == 1 else f"Nobody has acknowledged it for {format_duration(waited)}."
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"📟 *You are paged* as {target.role} for *{incident.ref}* "
                f"{SEVERITY_EMOJI[sev]} {sev.value}: {escape(clip(incident.title, 150))}\n{why} "
                f"Respond by {when(incident.respond_by)}."
            )
        ),
        ActionsBlock(
            block_id=f"page_{incident.number}_{step}",
            elements=[
                ButtonElement(
                    text="Acknowledge",
                    action_id=action_id(Action.ACKNOWLEDGE),
                    value=str(incident.number),
                    style="primary",
                )
            ],
        ),
    ]


def held_page_text(incident: Incident, person: str) -> str:
    ref = incident.held.ref if incident.held else "the hold"
    return f"📟 {user(person)} paged for {incident.ref} (owner of {escape(ref)}) — the on-call's paging is held"


def held_page_blocks(incident: Incident, person: str) -> list[Block]:
    """The DM to someone paged while the chain's paging is held (the owner of a maintenance window, for a P1 in
    its scope): the page's own blocks, and why only they are paged."""
    held = incident.held
    ref = held.ref if held else "the hold"
    blocks = page_blocks(incident, Target(f"the owner of {ref}", person), 1, timedelta(0))
    why = clip(escape(held.text), 500) if held else ""
    note = f"🔕 {why}: the on-call is not paged until it ends, then they are if it is still open."
    return [*blocks, ContextBlock(elements=[MarkdownTextObject(text=note)])]


def oncall_blocks(now: OnCallNow, tested: Sequence[str] = ()) -> list[Block]:
    """Who is on call; ``tested``: the last test page of each, method by method (when paging is set up)."""
    shift = now.shift
    override = f" (override by {user(now.override_by)} until {when(now.override_until)})" if now.override_until else ""
    lines = [
        f"*Primary:* {user(now.primary)}{override}",
        f"*Secondary:* {user(now.secondary)}",
        f"*Lead:* {user(now.lead)}",
        f"*Until:* {when(shift.ends)} — then {user(shift.next_primary)} (primary) and {user(shift.next_secondary)}"
        " (secondary)",
    ]
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
    if tested:
        text = clip(f"🧪 *{TEST_PAGING}:*\n" + "\n".join(tested), SECTION_LIMIT)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    return blocks


def team_line(now: OnCallNow) -> str:
    """One team's on-call now and next, as ``/oncall`` lists every team."""
    shift = now.shift
    primary = user(now.primary) if now.primary else f"nobody scheduled (lead {user(now.lead)} is paged)"
    why = f" ({escape(now.source)})" if now.source and now.source not in ("weekly", "lead") else ""
    covered = "".join(f"\n  ↪ {cover_line(c)}" for c in now.covered[:COVERS_SHOWN])
    if len(now.covered) > COVERS_SHOWN:
        covered += f"\n  ↪ …and {len(now.covered) - COVERS_SHOWN} more covers"
    return (
        f"*{escape(now.team)}* — primary {primary}{why}, secondary {user(now.secondary)}, lead {user(now.lead)}; "
        f"until {when(shift.ends)}, then {user(shift.next_primary)} (primary), {user(shift.next_secondary)}"
        f" (secondary){covered}"
    )


def cover_line(cover: Cover) -> str:
    whom = f" for {user(cover.replaces)}" if cover.replaces else " as primary"
    return f"{user(cover.user)}{whom} from {when(cover.start)} until {when(cover.until)} ({escape(cover.kind)})"


def teams_blocks(teams: Sequence[OnCallNow]) -> list[Block]:
    """``/oncall`` with several teams: each team now and next, as many as one message takes (then how many more)."""
    lines: list[str] = []
    size = 0
    for who in teams:
        line = clip(team_line(who), SECTION_LIMIT)
        if lines and size + len(line) + 1 > MESSAGE_TEXT - MORE_ROOM:
            break
        lines.append(line)
        size += len(line) + 1
    blocks = chunked_sections(lines)
    if len(teams) > len(lines):
        more = f"…and {len(teams) - len(lines)} more teams: `/oncall <team>` shows one."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return blocks


def handoff_blocks(
    now: OnCallNow,
    open_incidents: Sequence[Incident],
    past_week: Sequence[Incident],
    at: datetime,
    lines: Sequence[tuple[str, str]] = (),
    *,
    team: str | None = None,
    covers: Sequence[Cover] = (),
) -> list[Block]:
    """The operations guide's on-call hand-off checklist, filled in; ``lines``: (title, body) of each line other
    domains declared (``bot.oncall.handoff.HandoffLine``), in their order; ``team``: the team's own checklist, with
    its ``covers`` (taken or to come)."""
    shift = now.shift
    blocks: list[Block] = [
        HeaderBlock(text=f"📋 On-call hand-off: {clip(team, 40)}" if team else "📋 On-call hand-off"),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"On call now: {user(now.primary)} (primary), {user(now.secondary)} (secondary), "
                f"lead {user(now.lead)}, until {when(shift.ends)}.\n"
                f"Next: {user(shift.next_primary)} (primary), {user(shift.next_secondary)} (secondary)."
            )
        ),
        *_covers_block(covers),
        SectionBlock(text=MarkdownTextObject(text=_incident_lines("☐ *Review open incidents*", open_incidents, at))),
        SectionBlock(text=MarkdownTextObject(text=_incident_lines("☐ *Incidents of the past week*", past_week, at))),
    ]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=clip(f"☐ {title}\n{body}", SECTION_LIMIT))) for title, body in lines
    ]
    # "Test paging/alerting" stays a bare box unless a domain (paging) declares it with what it found.
    tested = any(TEST_PAGING in title for title, _ in lines)
    closing = "☐ *Ensure access to all systems*" + ("" if tested else f"\n☐ *{TEST_PAGING}*")
    blocks.append(SectionBlock(text=MarkdownTextObject(text=closing)))
    return blocks


def _covers_block(covers: Sequence[Cover]) -> list[Block]:
    if not covers:
        return []
    text = "🔁 *Covers and swaps*\n" + "\n".join(f"• {cover_line(c)}" for c in covers[:HANDOFF_LIST_LIMIT])
    return [SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_LIMIT)))]


def _incident_lines(title: str, incidents: Sequence[Incident], at: datetime) -> str:
    if not incidents:
        return f"{title}\n✅ none"
    lines = summary_lines(incidents, at, HANDOFF_LIST_LIMIT, bullet="• ")
    return clip(f"{title}\n" + "\n".join(lines), SECTION_LIMIT)


COVER_TAKE_ACTION = "oncall_cover_take"
REQUEST_ACCEPT_ACTION = "oncall_request_accept"
REQUEST_DECLINE_ACTION = "oncall_request_decline"


def cover_request_blocks(
    request: str, requester: str, team: str, span: tuple[datetime, datetime], person: str | None
) -> list[Block]:
    """A cover request with its Take button (the first of the team to click takes it)."""
    start, until = span
    whom = f"{user(person)}, could you" if person else "Who can"
    text = (
        f"🔁 {whom} cover {user(requester)} (team *{escape(team)}*) from {when(start)} until {when(until)}? "
        "The first to click *Take* is on call instead for exactly that time."
    )
    take = ButtonElement(text="Take", action_id=COVER_TAKE_ACTION, value=request, style="primary")
    return [SectionBlock(text=MarkdownTextObject(text=text)), ActionsBlock(block_id=f"cover_{request}",
                                                                          elements=[take])]  # fmt: skip


def _answer_buttons(request: str, yes: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=f"request_{request}",
        elements=[
            ButtonElement(text=yes, action_id=REQUEST_ACCEPT_ACTION, value=request, style="primary"),
            ButtonElement(text="Decline", action_id=REQUEST_DECLINE_ACTION, value=request),
        ],
    )


def swap_request_blocks(
    request: str, requester: str, team: str, mine: tuple[datetime, datetime], theirs: tuple[datetime, datetime]
) -> list[Block]:
    text = (
        f"🔁 {user(requester)} proposes a swap in team *{escape(team)}*: you take their shift "
        f"({when(mine[0])} – {when(mine[1])}), they take yours ({when(theirs[0])} – {when(theirs[1])})."
    )
    return [SectionBlock(text=MarkdownTextObject(text=text)), _answer_buttons(request, "Accept")]


def takeover_request_blocks(request: str, person: str, team: str, until: datetime) -> list[Block]:
    text = f"🙋 {user(person)} asks to take over as primary of team *{escape(team)}* until {when(until)}."
    return [SectionBlock(text=MarkdownTextObject(text=text)), _answer_buttons(request, "Let them")]
