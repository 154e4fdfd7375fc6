"""The App Home view (pure): the person's incidents first, every open one with its buttons, on-call (Take over for
operators only), what other domains add, the latest health verdict; inside a view's 100 blocks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.blocks import chunked_sections
from bot.core.severity import Severity
from bot.home.render import OPEN_SHOWN, RUN_HEALTH_ACTION, TAKE_OVER_ACTION, home_view
from bot.incidents.model import Incident
from bot.oncall.model import OnCallNow
from bot.oncall.rotation import Shift

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WHO = OnCallNow(Shift("U0ALICE", "U0BOB", T0, T0 + timedelta(days=7), "U0BOB", "U0CAROL"), "U0ALICE", "U0BOB",
                "U0LEAD", None, None)  # fmt: skip


def incident(n: int) -> Incident:
    return Incident(number=n, title=f"Incident {n}", severity=Severity.P2, opened_by="U0X", opened_at=T0, respond_by=T0)


def test_the_persons_incidents_come_first_and_the_view_fits_slack() -> None:
    open_now = [incident(n) for n in range(1, 60)]
    view = home_view(
        "U0BOB", open_now[:2], open_now, WHO, operator=False, sections=[], health=None, now=T0
    ).to_dict()  # to_dict(): Slack's limits for a view
    assert len(view["blocks"]) <= 100
    text = json.dumps(view, ensure_ascii=False)
    assert text.index("What needs you") < text.index("INC-1*") < text.index("Open incidents* (59)")
    assert f"…and {59 - OPEN_SHOWN} more" in text and "No digest built yet." in text
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert TAKE_OVER_ACTION not in actions and "incident_acknowledge" in actions
    assert any(b.get("accessory", {}).get("action_id") == RUN_HEALTH_ACTION for b in view["blocks"])


def test_an_operator_may_take_over_and_other_domains_sections_are_shown() -> None:
    sections = chunked_sections(["*Upcoming maintenance*", "• *MW-1* Node pool rotation"])
    view = home_view(
        "U0OPS", [], [], WHO, operator=True, sections=sections, health=(T0, "🟢 All clear on 1 cluster"), now=T0
    ).to_dict()
    text = json.dumps(view, ensure_ascii=False)
    assert "Nothing: <@U0OPS> commands no open incident" in text and "✅ None." in text
    assert "Upcoming maintenance" in text and "🟢 All clear on 1 cluster" in text
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert TAKE_OVER_ACTION in actions
    no_rotation = json.dumps(home_view("U0X", [], [], None, operator=True, sections=[], health=None, now=T0).to_dict())
    assert "No rotation configured" in no_rotation and TAKE_OVER_ACTION not in no_rotation
