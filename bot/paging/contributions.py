"""What paging adds to the shared surfaces: after each Slack page of the escalation, the person's SMS and calls
(``AfterPage``) and the emergency contacts once the chain's last step is paged, and the poller's job that makes
them when due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core import keys
from bot.core.board import Board, Periodic
from bot.core.schedule import ScheduledPost
from bot.digest.model import DigestPart, DigestSection
from bot.incidents.model import Incident
from bot.oncall.escalator import AfterPage
from bot.oncall.handoff import HANDOFF_GRACE, HandoffChecklist, HandoffLine
from bot.oncall.render import TEST_PAGING
from bot.paging.emergency import Emergency
from bot.paging.engine import Pager

TESTS_CHECKED_EVERY = timedelta(minutes=1)


def declare(board: Board, pager: Pager | None, handoff: HandoffChecklist) -> None:
    if pager is None:
        return

    async def paged(incident: Incident, person: str, step: int, at: datetime, last: bool) -> None:
        await pager.paged(incident, person, step, at)

    async def down(now: datetime) -> DigestPart | None:
        """The digest's "Paging providers": a provider that failed a page in the last day."""
        lines = await pager.down_lines(now)
        return DigestPart(key="paging", title="Paging providers", lines=lines, problems=len(lines)) if lines else None

    board.declare(
        DigestSection("paging", 60, "Paging providers", down),
        AfterPage("paging", paged),
        AfterPage("paging-emergency", Emergency(pager).paged),  # the chain's last step: the emergency contacts
        Periodic("paging", timedelta(0), pager.tick),  # every tick of the poller, as escalation
    )
    tests = pager.tests
    if tests is None:
        return
    board.declare(
        HandoffLine("paging-tests", 50, TEST_PAGING, tests.lines, note="(the last test page of each)"),
        Periodic("paging-tests", TESTS_CHECKED_EVERY, tests.check),
        ScheduledPost(  # at each hand-off, the incoming primary and secondary are tested
            "paging-tests",
            handoff.scheduled_post().trigger,
            lambda tick: keys.paging_tests_tick(tick.astimezone(UTC).isoformat()),
            tests.handoff,
            grace=HANDOFF_GRACE,
            catch_up=True,
        ),
    )
