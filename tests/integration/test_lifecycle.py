"""The incident lifecycle end to end: signed requests in, Slack Web API calls out, state in Redis."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.slack_recorder import Call, SlackRecorder, blocks_of, text_of_blocks


def announcements(recorder: SlackRecorder, number: int) -> list[Call]:
    """Every posting of INC-number's announcement (top-level messages carrying its headline)."""
    return [
        c
        for c in recorder.of("chat.postMessage")
        if "thread_ts" not in c.params and f"INC-{number}:" in text_of_blocks(blocks_of(c))
    ]


def wait_announcement(recorder: SlackRecorder, number: int) -> Call:
    """The first posting of INC-number's announcement, once Slack has received it."""
    found = wait_for(lambda: announcements(recorder, number), what=f"announcement of INC-{number}")
    assert isinstance(found, list)
    return found[0]


def updates_of(recorder: SlackRecorder, number: int) -> list[str]:
    return [
        text_of_blocks(blocks_of(c))
        for c in recorder.of("chat.update")
        if f"INC-{number}:" in text_of_blocks(blocks_of(c))
    ]


def thread_lines(recorder: SlackRecorder, number: int) -> list[str]:
    return [
        c.params["text"]
        for c in recorder.of("chat.postMessage")
        if c.params.get("thread_ts") and f"INC-{number}" in c.params["text"]
    ]


def wait_thread_line(recorder: SlackRecorder, number: int, phrase: str) -> None:
    wait_for(
        lambda: any(phrase in line for line in thread_lines(recorder, number)),
        what=f"thread line {phrase!r} for INC-{number}",
    )


def test_open_announces_with_buttons(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    number = open_incident("P1", "Checkout API returns 500s")
    call = wait_announcement(recorder, number)
    assert call.params["channel"] == "C0INCIDENTS"
    blocks = blocks_of(call)
    text = text_of_blocks(blocks)
    assert "Checkout API returns 500s" in text
    assert "P1 (Critical)" in text and "Open" in text and "Respond by" in text and "Commander" in text
    actions = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert [e["action_id"] for e in actions] == [
        "incident_acknowledge",
        "incident_mitigate",
        "incident_resolve",
        "incident_runbooks",
        "incident_assign",
    ]
    assert all(e["value"] == str(number) for e in actions[:4])
    assert actions[4]["type"] == "users_select"
    before = len(recorder.of("response_url"))
    slack.click("incident_runbooks", str(number))
    # The open's own later answers may land in between: look for the runbook list among what came after.
    wait_for(lambda: any("`crashloop`" in str(c.params.get("text")) for c in recorder.of("response_url")[before:]),
             what="runbook list")  # fmt: skip


def test_change_while_the_announcement_is_being_posted_keeps_its_thread_line(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    """A click that lands between the announcement's post and its saved ts is neither lost nor doubled."""
    gate = recorder.hold("chat.postMessage", channel="C0INCIDENTS")
    number = open_incident("P2", "Search is slow")
    wait_announcement(recorder, number)  # received by Slack, its answer held back
    assert slack.click("incident_acknowledge", str(number), user="U0BOB").status_code == 200
    # The click's own refresh finds no announcement yet and must not post a second one.
    wait_for(lambda: "acknowledged" in ack_text(slack.command(f"status INC-{number}")).lower(), what="ack stored")
    gate.set()
    wait_thread_line(recorder, number, "acknowledged")

    def shows_acknowledged() -> bool:
        updates = updates_of(recorder, number)
        return bool(updates) and "Acknowledged" in updates[-1]

    wait_for(shows_acknowledged, what="announcement re-rendered as acknowledged")
    assert len(announcements(recorder, number)) == 1
    assert len([line for line in thread_lines(recorder, number) if "acknowledged" in line]) == 1


def test_full_lifecycle_updates_in_place(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    number = open_incident("P2", "Latency up on payments")
    ann = wait_announcement(recorder, number)

    assert slack.click("incident_acknowledge", str(number), user="U0BOB").status_code == 200
    wait_thread_line(recorder, number, "acknowledged")
    assert "INC-" in ack_text(slack.command(f"mitigate INC-{number} rolled back to 2.4.0", user="U0BOB"))
    wait_thread_line(recorder, number, "mitigated")
    assert "now *resolved*" in ack_text(slack.command(f"resolve INC-{number}", user="U0BOB"))
    wait_thread_line(recorder, number, "resolved")
    assert "now *acknowledged*" in ack_text(slack.command(f"reopen INC-{number} errors are back", user="U0CAROL"))
    wait_thread_line(recorder, number, "reopened")
    assert "now *resolved*" in ack_text(slack.command(f"resolve INC-{number}", user="U0BOB"))
    assert "now *closed*" in ack_text(slack.command(f"close INC-{number}", user="U0BOB"))
    wait_thread_line(recorder, number, "closed")

    # The announcement is edited in place: the last update shows the final state, without buttons.
    def final_update() -> bool:
        updates = [c for c in recorder.of("chat.update") if f"INC-{number}:" in text_of_blocks(blocks_of(c))]
        return bool(updates) and "Closed" in text_of_blocks(blocks_of(updates[-1]))

    wait_for(final_update, what="announcement updated to closed")
    last = [c for c in recorder.of("chat.update") if f"INC-{number}:" in text_of_blocks(blocks_of(c))][-1]
    (closed_actions,) = [b for b in blocks_of(last) if b["type"] == "actions"]
    assert [e["action_id"] for e in closed_actions["elements"]] == ["incident_postmortem"]
    assert last.params["channel"] == "C0INCIDENTS"

    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    for kind in ("opened", "acknowledged", "mitigated", "resolved", "reopened", "closed"):
        assert f"*{kind}*" in timeline, kind
    assert "rolled back to 2.4.0" in timeline and "errors are back" in timeline
    assert timeline.index("*opened*") < timeline.index("*acknowledged*") < timeline.index("*mitigated*")
    assert ann.params["channel"] == "C0INCIDENTS"

    status = ack_text(slack.command(f"status INC-{number}"))
    assert "Closed" in status and "<@U0BOB>" in status
    listing = ack_text(slack.command("list"))
    assert f"INC-{number}*" not in listing


def test_every_refused_transition_names_the_state(slack: SignedSlack, open_incident: Callable[..., int]) -> None:
    number = open_incident("P3", "Refusals")
    refused_from_open = {"reopen": "open", "close": "open"}
    for verb, state in refused_from_open.items():
        text = ack_text(slack.command(f"{verb} INC-{number}"))
        assert f"is *{state}*" in text, text
    ack_text(slack.command(f"ack INC-{number}", user="U0BOB"))
    text = ack_text(slack.command(f"ack INC-{number}", user="U0CAROL"))
    assert "already acknowledged by <@U0BOB>" in text
    for verb in ("reopen", "close"):
        assert "is *acknowledged*" in ack_text(slack.command(f"{verb} INC-{number}"))
    ack_text(slack.command(f"mitigate INC-{number}"))
    for verb in ("reopen", "close"):
        assert "is *mitigated*" in ack_text(slack.command(f"{verb} INC-{number}"))
    assert "already mitigated by <@U0ALICE>" in ack_text(slack.command(f"mitigate INC-{number}"))
    ack_text(slack.command(f"resolve INC-{number}"))
    for verb in ("ack", "mitigate"):
        assert "*resolved*" in ack_text(slack.command(f"{verb} INC-{number}"))
    assert "already resolved" in ack_text(slack.command(f"resolve INC-{number}"))
    ack_text(slack.command(f"close INC-{number}"))
    for verb in ("ack", "mitigate", "resolve", "reopen"):
        assert "*closed*" in ack_text(slack.command(f"{verb} INC-{number}")), verb
    assert "already closed by <@U0ALICE>" in ack_text(slack.command(f"close INC-{number}"))
    assert "closed" in ack_text(slack.command(f"severity INC-{number} P1"))
    # Nothing refused reached the timeline.
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert timeline.count("*acknowledged*") == 1 and timeline.count("*closed*") == 1


def test_severity_change_moves_deadline_and_is_recorded(
    slack: SignedSlack, recorder: SlackRecorder, open_incident: Callable[..., int]
) -> None:
    number = open_incident("P3", "Queue lag")
    text = ack_text(slack.command(f"severity INC-{number} p1 customers affected"))
    assert "now P1" in text and "P3 → P1" in text
    assert "already P1" in ack_text(slack.command(f"severity INC-{number} P1"))
    status = ack_text(slack.command(f"status INC-{number}"))
    assert "P1 (Critical)" in status and "severity changed" in status


def test_list_shows_open_incidents_by_severity(slack: SignedSlack, open_incident: Callable[..., int]) -> None:
    low = open_incident("P4", "Typo on status page")
    high = open_incident("P1", "Database down")
    listing = ack_text(slack.command("list"))
    assert f"*INC-{high}*" in listing and f"*INC-{low}*" in listing
    assert listing.index(f"*INC-{high}*") < listing.index(f"*INC-{low}*")


def test_modal_that_slack_refuses_falls_back_to_the_command_form(slack: SignedSlack, recorder: SlackRecorder) -> None:
    recorder.fail("views.open", "expired_trigger_id")
    try:
        before = len(recorder.of("response_url"))
        assert slack.command("open").status_code == 200
        wait_for(lambda: len(recorder.of("response_url")) > before, what="fallback reply")
        assert "/incident open P1 <title>" in recorder.of("response_url")[-1].params["text"]
    finally:
        recorder.failures.clear()


def test_modal_opens_and_submission_creates_incident(slack: SignedSlack, recorder: SlackRecorder) -> None:
    resp = slack.command("open")
    assert resp.status_code == 200
    call = recorder.wait_for_calls("views.open", 1)[-1]
    assert "trigger_id" in call.params

    bad = slack.submit_open_modal("x" * 10 + "\u0007", None)
    assert bad.status_code == 200
    errors = bad.json()["errors"]
    assert "control character" in errors["title"] and "severity" in errors

    ok = slack.submit_open_modal("Login page blank", "P2", "Since 10:02, all regions")
    assert ok.status_code == 200 and not ok.content
    wait_for(
        lambda: any("Login page blank" in text_of_blocks(blocks_of(c)) for c in recorder.of("chat.postMessage")),
        what="modal incident announced",
    )
    listing = ack_text(slack.command("list"))
    assert "Login page blank" in listing


def test_requests_are_counted_by_fixed_names_never_by_incident(
    slack: SignedSlack, bot: Bot, open_incident: Callable[..., int]
) -> None:
    """The request metrics' labels are a fixed set: the bare /incident is its help, the bare /oncall who is on call,
    and the work after an acknowledgement is counted by what it is, not by which incident."""
    number = open_incident("P3", "Counted by name")
    assert slack.command("").status_code == 200
    assert slack.command("", command="/oncall").status_code == 200
    assert "now *acknowledged*" in ack_text(slack.command(f"ack INC-{number}"))

    def counted(name: str) -> bool:
        return f'chatops_slack_requests_total{{kind="command",name="{name}",outcome="ok"}}' in bot.metrics()

    for name in ("/incident open", "/incident help", "/oncall ", "/incident ack", "incident-announce",
                 "incident-changed"):  # fmt: skip
        wait_for(lambda name=name: counted(name), what=f"requests counted as {name!r}")  # type: ignore[misc]
    assert f"INC-{number}" not in bot.metrics()


def test_metrics_speak_openmetrics_when_the_scraper_asks_for_it(bot: Bot, open_incident: Callable[..., int]) -> None:
    """Content negotiation on ``/metrics``: Prometheus asks for OpenMetrics first; a plain client gets the text
    format."""
    open_incident("P3", "Counted for the scraper")
    url = f"{bot.base_url}/metrics"
    asked = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
    asked += "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"  # what Prometheus 2.x sends
    open_metrics = httpx.get(url, headers={"Accept": asked}, timeout=5)
    assert open_metrics.status_code == 200
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert open_metrics.text.endswith("# EOF\n")
    assert "# TYPE chatops_slack_requests counter" in open_metrics.text  # OpenMetrics names the family without _total
    assert 'chatops_slack_requests_total{kind="command",name="/incident open",outcome="ok"}' in open_metrics.text

    for accept in (None, "text/plain", "*/*"):
        plain = httpx.get(url, headers={"Accept": accept} if accept else {}, timeout=5)
        assert plain.headers["content-type"].startswith("text/plain"), accept
        assert "# EOF" not in plain.text and "# TYPE chatops_slack_requests_total counter" in plain.text


def test_a_burst_of_changes_edits_the_announcement_about_once_a_second_and_shows_the_last(
    slack: SignedSlack, recorder: SlackRecorder, bot: Bot, open_incident: Callable[..., int]
) -> None:
    """Slack rate-limits edits of one message: forty updates at once fold into a few edits, a second apart, the
    last showing the final state; each update is still said."""
    number = open_incident("P2", "Burst of updates")
    ann = wait_announcement(recorder, number)

    def edits() -> list[Call]:
        return [c for c in recorder.of("chat.update") if c.params.get("ts") == ann.reply_ts]

    bodies = [slack.command_body(f"update INC-{number} step {i}", user="U0BOB") for i in range(40)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        assert set(pool.map(lambda b: slack.post(b, "application/x-www-form-urlencoded").status_code, bodies)) == {200}
    assert slack.click("incident_acknowledge", str(number), user="U0BOB").status_code == 200
    wait_for(lambda: edits() and "Acknowledged" in text_of_blocks(blocks_of(edits()[-1])), what="the final edit")

    def said() -> int:
        return len(
            {c.params["text"] for c in recorder.of("chat.postMessage") if f"INC-{number}: step " in c.params["text"]}
        )

    wait_for(lambda: said() == 40, what="each update said")
    bot.settled()
    made = edits()
    assert len(made) <= 15, f"{len(made)} edits of one message for 41 changes"
    gaps = [b.at - a.at for a, b in itertools.pairwise(made)]
    assert min(gaps, default=1.0) >= 0.9, f"edits {min(gaps):.2f} s apart"
    assert "Acknowledged" in text_of_blocks(blocks_of(made[-1]))
