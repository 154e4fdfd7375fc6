"""Incidents in words (pure): headlines, thread and timeline lines, summaries, refusals; incidents stored by earlier
versions read as today's; what other domains add to the announcement."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from slack_sdk.models.blocks import ButtonElement

from bot.alerts.render import PUBLIC_ACTION, PUBLIC_RESOLVE_ACTION, public_buttons
from bot.core.severity import Severity
from bot.core.timeline import TimelineEntry
from bot.incidents.machine import TransitionRefused
from bot.incidents.model import Action, During, Incident, State
from bot.incidents.render import announcement_blocks
from bot.incidents.text import headline, refusal_text, summary_lines, thread_line, timeline_line

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def make(**update: object) -> Incident:
    base = Incident(
        number=42,
        title="Checkout <!channel> <https://evil|x> & co",
        severity=Severity.P1,
        opened_by="U0ALICE",
        opened_at=T0,
        respond_by=T0 + timedelta(minutes=15),
    )
    return base.model_copy(update=update)


def test_the_headline_escapes_what_a_person_wrote() -> None:
    line = headline(make())
    assert line.startswith("INC-42 [P1] Checkout &lt;!channel&gt; &lt;https://evil|x&gt; &amp; co — open")
    assert "<!channel>" not in line


def test_thread_and_timeline_lines_escape_notes_but_keep_the_bots_own_markup() -> None:
    note = TimelineEntry(at=T0, actor="U0BOB", kind="acknowledged", text="<!here> on it")
    room = TimelineEntry(at=T0, actor="chatops-bot", kind="channel created", text="<#C0ROOM>")
    assert thread_line(make(state=State.ACKNOWLEDGED), note) == "👀 <@U0BOB> acknowledged INC-42: &lt;!here&gt; on it"
    assert thread_line(make(), room).endswith("INC-42: <#C0ROOM>")
    assert "<!date^" in timeline_line(note) and "*acknowledged* — &lt;!here&gt; on it" in timeline_line(note)
    assert timeline_line(TimelineEntry(at=T0, actor="Alertmanager (receiver x)", kind="opened")).count("—") == 0


def test_summaries_are_cut_with_and_n_more() -> None:
    incidents = [make(number=n) for n in range(1, 31)]
    lines = summary_lines(incidents, T0 + timedelta(hours=2), 12, bullet="• ")
    assert len(lines) == 13 and lines[-1] == "…and 18 more"
    assert lines[0].startswith("• 🔴 *INC-1* [P1]") and "2h 0s old" not in lines[0] and "2h old" in lines[0]


def test_a_refusal_names_the_state_and_who_got_there_first() -> None:
    acked = make(state=State.ACKNOWLEDGED, acknowledged_by="U0BOB", acknowledged_at=T0)
    said = refusal_text(TransitionRefused(acked, Action.ACKNOWLEDGE))
    assert said.startswith("INC-42 was already acknowledged by <@U0BOB>") and "it is *acknowledged* now" in said
    resolved = make(state=State.RESOLVED, resolved_by="U0CAROL")
    assert "already resolved by <@U0CAROL>" in refusal_text(TransitionRefused(resolved, Action.RESOLVE))
    closed = make(state=State.CLOSED)
    assert "nothing, it is closed" in refusal_text(TransitionRefused(closed, Action.MITIGATE))


def test_incidents_stored_by_earlier_versions_read_as_today() -> None:
    stored = make().model_dump(mode="json")
    del stored["room"], stored["during"]
    stored |= {"channel": "C0ROOM7", "maintenance": "MW-3: Postgres minor upgrade"}
    read = Incident.model_validate_json(json.dumps(stored))
    assert read.room == "C0ROOM7"
    assert read.during == [During(emoji="🛠️", label="maintenance", text="MW-3: Postgres minor upgrade")]
    text = json.dumps([b.to_dict() for b in announcement_blocks(read, T0)], ensure_ascii=False)
    assert "🛠️ Opened during maintenance *MW-3: Postgres minor upgrade*" in text and "<#C0ROOM7>" in text


def test_incidents_are_written_so_the_last_release_reads_them_too() -> None:
    """During a rolling upgrade a replica of the last release reads ``channel`` and ``maintenance``; written back by
    today's code they do not double up."""
    window = During(emoji="🛠️", label="maintenance", text="MW-3: Postgres minor upgrade")
    other = During(emoji="🚧", label="change freeze", text="Black Friday")
    incident = make(room="C0ROOM7", during=[other, window])
    written = json.loads(incident.model_dump_json())
    assert written["channel"] == "C0ROOM7" and written["maintenance"] == "MW-3: Postgres minor upgrade"
    assert Incident.model_validate_json(incident.model_dump_json()) == incident
    by_last_release = {k: v for k, v in written.items() if k not in ("room", "during")}
    assert Incident.model_validate(by_last_release).during == [window]
    assert json.loads(make().model_dump_json())["maintenance"] is None


def test_other_domains_buttons_join_the_lifecycle_buttons() -> None:
    extra = [ButtonElement(text="Extra", action_id="extra_thing", value="42")]
    blocks = [b.to_dict() for b in announcement_blocks(make(), T0, extra=extra)]
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids.index("extra_thing") > ids.index("incident_acknowledge")


def test_the_status_page_buttons_follow_the_incident() -> None:
    assert [b.action_id for b in public_buttons(make())] == [PUBLIC_ACTION]
    posted = make(statuspage_id="p1", statuspage_status="investigating")
    assert public_buttons(posted) == []  # posted and not resolved: updates go through /incident update --public
    resolved = posted.model_copy(update={"state": State.RESOLVED})
    (resolve,) = public_buttons(resolved)
    assert resolve.action_id == PUBLIC_RESOLVE_ACTION and resolve.confirm is not None
    assert public_buttons(resolved.model_copy(update={"statuspage_status": "resolved"})) == []
    assert public_buttons(make(state=State.CLOSED)) == []
    assert public_buttons(make(state=State.RESOLVED)) == []  # never posted: nothing to resolve publicly
