"""On-call in Block Kit (pure): the page DM, ``/oncall``, the hand-off checklist with other domains' lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.severity import Severity
from bot.incidents.model import Incident
from bot.oncall.chain import Target
from bot.oncall.model import OnCallNow
from bot.oncall.render import handoff_blocks, oncall_blocks, page_blocks, page_text
from bot.oncall.rotation import Shift

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
SHIFT = Shift("U0ALICE", "U0BOB", T0, T0 + timedelta(days=7), "U0BOB", "U0CAROL")


def incident(n: int = 7) -> Incident:
    return Incident(
        number=n,
        title="Payments <!here> down",
        severity=Severity.P1,
        opened_by="U0X",
        opened_at=T0,
        respond_by=T0 + timedelta(minutes=15),
    )


def who(**update: object) -> OnCallNow:
    now = OnCallNow(SHIFT, "U0ALICE", "U0BOB", "U0LEAD", None, None)
    return OnCallNow(**{**now.__dict__, **update})


def test_a_page_says_who_why_and_carries_the_acknowledge_button() -> None:
    first = page_text(incident(), Target("primary", "U0ALICE"), 1, timedelta())
    assert first == "📟 <@U0ALICE> paged for INC-7 (step 1: primary) — new incident"
    later = page_text(incident(), Target("secondary", "U0BOB"), 2, timedelta(minutes=15))
    assert later.endswith("(step 2: secondary) — unacknowledged for 15m")
    blocks = [b.to_dict() for b in page_blocks(incident(), Target("lead", "U0LEAD"), 3, timedelta(minutes=30))]
    text = json.dumps(blocks)
    assert "Payments &lt;!here&gt; down" in text and "Nobody has acknowledged it for 30m" in text
    (button,) = blocks[1]["elements"]
    assert (button["action_id"], button["value"], blocks[1]["block_id"]) == ("incident_acknowledge", "7", "page_7_3")


def test_oncall_shows_the_override_and_who_is_next() -> None:
    plain = json.dumps([b.to_dict() for b in oncall_blocks(who())])
    assert "*Primary:* <@U0ALICE>" in plain and "override" not in plain and "<@U0CAROL>" in plain
    overridden = json.dumps(
        [b.to_dict() for b in oncall_blocks(who(primary="U0DAN", override_until=T0, override_by="U0OPS"))]
    )
    assert "*Primary:* <@U0DAN> (override by <@U0OPS> until <!date^" in overridden


def test_the_handoff_shows_the_declared_lines_in_their_order_within_slacks_limits() -> None:
    many = [incident(n) for n in range(1, 200)]
    lines = [("*Review upcoming maintenance* (next 7 days)", "✅ none scheduled"), ("*Check alert status*", "x" * 5000)]
    blocks = [b.to_dict() for b in handoff_blocks(who(), many, many, T0, lines)]  # to_dict(): Slack's limits
    text = json.dumps(blocks, ensure_ascii=False)
    assert text.index("Review open incidents") < text.index("Review upcoming maintenance") < text.index("Check alert")
    assert "…and 184 more" in text and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    assert "Test paging/alerting" in text
