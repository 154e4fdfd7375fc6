"""``/dr``: disaster-recovery drills. ``/dr drill`` (operators) restores the latest backups into scratch copies,
verifies them and deletes them, its report the reply; ``/dr last`` shows the last report; ``/dr`` or ``/dr help``
the usage. One drill at a time: a second ``/dr drill`` meanwhile is told whose is running and since when."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.core.blocks import chunked_sections
from bot.dr import render
from bot.dr.model import Drill
from handlers.kit import Answer, Command, Kit, Replies, Who
from handlers.needs import Needs


async def dr(needs: Needs, cmd: Command) -> Answer:
    match cmd.verb:
        case "" | "help":
            return Answer(render.USAGE)
        case "last":
            drills = await needs.dr.store.recent()
            if not drills:
                return Answer("No DR drill has run yet. `/dr drill` runs one (operators).")
            return Answer(render.verdict(drills[0]), blocks=[*render.report_blocks(drills[0])[:-1], *_trend(drills)])
        case "drill":
            return await _drill(needs, cmd)
    return Answer(f"`/dr {cmd.verb[:20]}` is not a /dr command.\n{render.USAGE}")


def _trend(drills: list[Drill]) -> list[Block]:
    return chunked_sections([render.trend_line(drills)])


async def _drill(needs: Needs, cmd: Command) -> Answer:
    service = needs.dr
    if len(cmd.words) > 1:
        return Answer("`/dr drill` takes nothing after it (it restores every configured backup). Nothing was started.")
    if not service.settings.enabled:
        return Answer("Nothing to drill: set `dr.velero.schedules` and/or `dr.rds` in the config.")
    held, mine = await service.begin(cmd.actor.user)
    if not mine:
        return Answer(f"A DR drill is running already: {render.running(held)}. Nothing was started; its report "
                      "follows where it was started, and `/dr last` shows it after.")  # fmt: skip

    async def run(replies: Replies) -> None:
        drill = await service.manual(held)
        await replies.public(render.verdict(drill), render.report_blocks(drill))

    return Answer(
        f"DR drill {held.drill} started: restoring into scratch copies, verifying, deleting them. "
        f"Its report follows here (within about {render.took(service.settings.timeout.total_seconds())}).",
        later=run,
        name="/dr drill",
    )


def register(kit: Kit) -> None:
    kit.command(
        "/dr",
        dr,
        who=Who.RESPONDERS,
        doing="read DR drills",
        verbs={"drill": (Who.OPERATORS, "start a DR drill")},
        known=("", "drill", "last", "help"),
        blank="",
    )
