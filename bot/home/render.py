"""The App Home view (pure): the person's incidents first, then every open incident with its buttons, who is on call
(with "Take over for 4h" for operators), what other domains add (``HomeSection``: upcoming maintenance), the latest
health verdict with "Run /health"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.blocks import chunked_sections, md
from bot.core.text import user, when
from bot.incidents.model import Incident
from bot.incidents.render import lifecycle_buttons
from bot.incidents.text import summary_line
from bot.oncall.model import OnCallNow
from bot.oncall.render import team_line

TAKE_OVER_ACTION = "home_take_over"
RUN_HEALTH_ACTION = "home_run_health"
OPEN_SHOWN = 12  # each with its buttons: two blocks; a view holds 100
TEAMS_SHOWN = 20


def home_view(
    viewer: str,
    mine: Sequence[Incident],
    open_now: Sequence[Incident],
    oncall: OnCallNow | None,
    *,
    operator: bool,
    sections: Sequence[Block],
    health: tuple[datetime, str] | None,
    now: datetime,
    teams: Sequence[OnCallNow] = (),
) -> View:
    """``teams``: each team's on-call (the viewer's first), in place of the one rotation's."""
    blocks: list[Block] = [HeaderBlock(text="Incidents and on-call")]
    blocks.append(SectionBlock(text=md("*What needs you*")))
    if mine:
        blocks += chunked_sections([f"• {summary_line(i, now)}" for i in mine[:OPEN_SHOWN]])
    else:
        blocks.append(SectionBlock(text=md(f"Nothing: {user(viewer)} commands no open incident and was not paged.")))
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=md(f"*Open incidents* ({len(open_now)})")))
    for incident in open_now[:OPEN_SHOWN]:
        blocks.append(SectionBlock(text=md(summary_line(incident, now))))
        buttons = lifecycle_buttons(incident)
        if buttons is not None:
            buttons.block_id = f"home_incident_{incident.number}"
            blocks.append(buttons)
    if not open_now:
        blocks.append(SectionBlock(text=md("✅ None.")))
    elif len(open_now) > OPEN_SHOWN:
        blocks.append(ContextBlock(elements=[md(f"…and {len(open_now) - OPEN_SHOWN} more: `/incident list`")]))
    blocks.append(DividerBlock())
    blocks += _teams(teams) if teams else _oncall(oncall, operator)
    if sections:
        blocks.append(DividerBlock())
        blocks += sections
    blocks.append(DividerBlock())
    verdict = f"{health[1]} ({when(health[0])})" if health else "No digest built yet."
    blocks.append(
        SectionBlock(
            text=md(f"*Health*\n{verdict}"),
            accessory=ButtonElement(text="Run /health", action_id=RUN_HEALTH_ACTION, value="health"),
        )
    )
    blocks.append(ContextBlock(elements=[md(f"Updated {when(now)} · it refreshes each time you open this tab")]))
    return View(type="home", blocks=blocks)


def _teams(teams: Sequence[OnCallNow]) -> list[Block]:
    """Each team now and next, with its "Take over for 4h" (operators at once, anyone else asks the primary)."""
    blocks: list[Block] = [SectionBlock(text=md("*On call*"))]
    for who in teams[:TEAMS_SHOWN]:
        take = ButtonElement(text="Take over for 4h", action_id=TAKE_OVER_ACTION, value=f"team:{who.team}")
        blocks.append(SectionBlock(text=md(team_line(who)), accessory=take))
    if len(teams) > TEAMS_SHOWN:
        more = f"…and {len(teams) - TEAMS_SHOWN} more teams: `/oncall <team>` shows one."
        blocks.append(ContextBlock(elements=[md(more)]))
    return blocks


def _oncall(who: OnCallNow | None, operator: bool) -> list[Block]:
    if who is None:
        return [SectionBlock(text=md("*On call*\nNo rotation configured (`oncall.rotation`)."))]
    shift = who.shift
    text = (
        f"*On call*\nPrimary {user(who.primary)}, secondary {user(who.secondary)}, lead {user(who.lead)}, "
        f"until {when(shift.ends)}.\nNext: {user(shift.next_primary)} (primary), {user(shift.next_secondary)}."
    )
    blocks: list[Block] = [SectionBlock(text=md(text))]
    if operator:
        take = ButtonElement(text="Take over for 4h", action_id=TAKE_OVER_ACTION, value="4h")
        blocks.append(ActionsBlock(block_id="home_oncall", elements=[take]))
    return blocks
