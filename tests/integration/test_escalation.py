"""Escalation over the real wire: pages by DM at the right time, once per step, across replicas and crashes. Time is
the bots' clock, moved on by the test: a deadline passes when the test says so, and an absence is checked once every
poller has looked at the moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.escalation import (
    P1_WINDOW,
    REPEAT,
    TZ,
    Rig,
    assert_paged_once,
    checklists,
    dms,
    escalation_config,
    open_p,
)
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer) -> Iterator[Rig]:
    """One bot with the escalation config on a fresh Redis; Slack answers normally after."""
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml"))
    rig.start("a")
    yield rig
    rig.stop()
    recorder.clear_faults()


@pytest.fixture
def slack(rig: Rig, recorder: SlackRecorder) -> Iterator[SignedSlack]:
    client = SignedSlack(rig.bots[0].base_url, recorder.response_url)
    yield client
    client.close()


def test_unacknowledged_p1_escalates_then_stops_on_ack(rig: Rig, slack: SignedSlack, recorder: SlackRecorder) -> None:
    number = open_p(slack, "P1", "Checkout down")
    primary = wait_for(lambda: dms(recorder, number, "U0ALICE", rig.bots), what="primary paged at open")[0]  # type: ignore[index]
    rig.ticked()
    assert not dms(recorder, number, "U0BOB", rig.bots)  # the response deadline has not passed
    rig.advance(P1_WINDOW)
    wait_for(lambda: dms(recorder, number, "U0BOB", rig.bots), what="secondary paged at the deadline")
    rig.ticked()
    assert not dms(recorder, number, "U0LEAD", rig.bots)
    rig.advance(P1_WINDOW)
    wait_for(lambda: dms(recorder, number, "U0LEAD", rig.bots), what="lead paged one window later")
    # The DM carries an Acknowledge button that works from the DM.
    button = next(b for b in primary.params_blocks() if b["type"] == "actions")["elements"][0]
    assert (button["action_id"], button["value"]) == ("incident_acknowledge", str(number))
    rig.advance(REPEAT)
    wait_for(lambda: len(dms(recorder, number, "U0LEAD", rig.bots)) >= 2, what="lead paged again")
    slack.click("incident_acknowledge", str(number), user="U0LEAD")
    wait_for(lambda: "Acknowledged" in ack_text(slack.command(f"status INC-{number}")), what="acknowledged")
    rig.bots[0].settled()
    count = len(dms(recorder, number, bots=rig.bots))
    rig.advance(2 * REPEAT)  # two repeat intervals pass without a page
    rig.ticked()
    assert len(dms(recorder, number, bots=rig.bots)) == count
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert timeline.count("*was paged*") == count
    assert "step 2: secondary, after 15m unacknowledged" in timeline
    mentions = [
        c
        for c in recorder.of("chat.postMessage")
        if c.params.get("thread_ts") and "paged for" in c.params.get("text", "") and f"INC-{number}" in c.params["text"]
    ]
    assert len(mentions) == count


def test_two_replicas_page_each_step_once(tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer) -> None:
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml"))
    a, b = rig.start("a"), rig.start("b")
    sa, sb = SignedSlack(a.base_url, recorder.response_url), SignedSlack(b.base_url, recorder.response_url)
    try:
        numbers = [open_p(sa if i % 2 else sb, "P1", f"Replicated {i}") for i in range(4)]
        for step in (P1_WINDOW, P1_WINDOW, REPEAT):  # secondary, lead, lead again
            rig.advance(step)
            rig.ticked()
        for n in numbers:
            wait_for(lambda n=n: len(dms(recorder, n, "U0LEAD", rig.bots)) >= 2, what=f"INC-{n} through the chain")
        for n in numbers:
            ack_text(sa.command(f"ack INC-{n}"))
        rig.ticked()  # any page in flight has landed
        for bot in rig.bots:
            bot.settled()
        for n in numbers:
            timeline = ack_text(sb.command(f"timeline INC-{n}"))
            steps = [line.split("step ")[1].split(":")[0] for line in timeline.splitlines() if "*was paged*" in line]
            assert len(steps) == len(set(steps)), (n, steps)
            assert len(dms(recorder, n, bots=rig.bots)) == len(steps), (
                n,
                [(c.bot, c.params["text"][:60]) for c in dms(recorder, n)],
                steps,
            )
            assert len(dms(recorder, n, "U0ALICE", rig.bots)) == 1 and len(dms(recorder, n, "U0BOB", rig.bots)) == 1
    finally:
        sa.close()
        sb.close()
        rig.stop()


def test_page_claimed_by_a_dead_replica_is_delivered_by_another(
    rig: Rig, slack: SignedSlack, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    r = redis.Redis.from_url(fresh_redis.url)
    try:
        number = open_p(slack, "P1", "Claimed then crashed")
        wait_for(lambda: dms(recorder, number, "U0ALICE", rig.bots), what="primary paged")
        # At the deadline a replica claims step 2 (moves it to pending with a 60 s lease) and is SIGKILLed before
        # sending.
        rig.ticked()
        lease_until = rig.clock() + P1_WINDOW + timedelta(seconds=60)
        with r.pipeline() as pipe:
            pipe.zrem("{esc}:due", str(number))
            pipe.zadd("{esc}:pending", {str(number): lease_until.timestamp()})
            pipe.execute()
        rig.advance(P1_WINDOW)
        rig.ticked()
        assert not dms(recorder, number, "U0BOB", rig.bots)  # not before the dead replica's lease ran out
        rig.advance(timedelta(seconds=61))
        wait_for(lambda: dms(recorder, number, "U0BOB", rig.bots), what="secondary paged after the lease")
        rig.ticked()
        assert len(dms(recorder, number, "U0BOB", rig.bots)) == 1
    finally:
        r.close()


def test_severity_change_moves_the_deadline(rig: Rig, slack: SignedSlack, recorder: SlackRecorder) -> None:
    sooner = open_p(slack, "P2", "Becomes critical")
    later = open_p(slack, "P1", "Turns out minor")
    wait_for(
        lambda: dms(recorder, sooner, "U0ALICE", rig.bots) and dms(recorder, later, "U0ALICE", rig.bots),
        what="primaries paged",
    )
    assert "now P1" in ack_text(slack.command(f"severity INC-{sooner} P1"))
    assert "now P3" in ack_text(slack.command(f"severity INC-{later} P3"))
    rig.advance(P1_WINDOW)
    # The new deadline is opened + 15 m (P1), not the hour a P2 has; the downgraded one's old deadline passes quietly.
    wait_for(lambda: dms(recorder, sooner, "U0BOB", rig.bots), what="secondary paged after the upgrade")
    rig.ticked()
    assert not dms(recorder, later, "U0BOB", rig.bots)


def test_rate_limited_page_arrives_after_retry_after(rig: Rig, slack: SignedSlack, recorder: SlackRecorder) -> None:
    recorder.rate_limit("chat.postMessage", times=1, retry_after=1, channel="D0ALICE")
    number = open_p(slack, "P2", "Rate limited page")
    wait_for(lambda: len(dms(recorder, number, "U0ALICE", rig.bots)) >= 2, what="page retried after 429")
    first, second = dms(recorder, number, "U0ALICE", rig.bots)[:2]
    assert first.limited and not second.limited
    assert second.at - first.at >= 0.9  # Slack's Retry-After was waited out
    rig.ticked()
    assert len(dms(recorder, number, "U0ALICE", rig.bots)) == 2  # the 429'd attempt and the delivered one
    assert_paged_once(slack, number)


def test_a_page_slower_than_the_claim_lease_is_not_sent_twice(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    """Slack makes the DM wait out three Retry-Afters (~3 s) against a 2 s claim lease, with a second replica
    polling: the claim is renewed while the page is in flight, so the other replica does not send it again. (Real
    time here: the lease is renewed by the wall clock while Slack keeps the page waiting.)"""
    config = escalation_config(tmp_path / "c.yaml", claim_lease="2s")
    rig = Rig(tmp_path, recorder, fresh_redis.url, config)
    a, _ = rig.start("a"), rig.start("b")
    slack = SignedSlack(a.base_url, recorder.response_url)
    try:
        recorder.rate_limit("chat.postMessage", times=3, retry_after=1, channel="D0ALICE")
        number = open_p(slack, "P2", "Slow page")
        wait_for(lambda: [c for c in dms(recorder, number, "U0ALICE") if not c.limited], timeout=15, what="page")
        rig.advance(timedelta(seconds=3))  # past another lease: nobody sends it again
        rig.ticked()
        delivered = [c for c in dms(recorder, number, "U0ALICE", rig.bots) if not c.limited]
        assert len(delivered) == 1, [(c.at, c.limited) for c in dms(recorder, number, "U0ALICE")]
        assert_paged_once(slack, number)
    finally:
        slack.close()
        rig.stop()
        recorder.clear_faults()


def test_failed_page_is_retried_not_dropped(rig: Rig, slack: SignedSlack, recorder: SlackRecorder) -> None:
    bot = rig.bots[0]
    recorder.fail("conversations.open", "internal_error")  # Slack's side: worth retrying the same person
    number = open_p(slack, "P2", "Slack refuses the DM")
    wait_for(lambda: 'chatops_pages_failed_total{error="internal_error"}' in bot.metrics(), what="failure counted")
    recorder.failures.clear()
    rig.ticked()
    assert not dms(recorder, number, "U0ALICE", rig.bots)  # retried after escalation.retry_failed_page_after
    rig.advance(timedelta(seconds=31))
    wait_for(lambda: dms(recorder, number, "U0ALICE", rig.bots), what="page delivered after Slack recovers")
    assert_paged_once(slack, number)


def test_oncall_command_override_and_handoff(rig: Rig, slack: SignedSlack, recorder: SlackRecorder) -> None:
    shown = ack_text(slack.command("", command="/oncall"))
    assert "*Primary:* <@U0ALICE>" in shown and "*Secondary:* <@U0BOB>" in shown and "*Lead:* <@U0LEAD>" in shown
    assert "<!date^" in shown  # the hand-off time in the reader's own time zone
    refused = ack_text(slack.command("override <@U0MALLORY|mallory> 4h", command="/oncall", user="U0BOB"))
    assert "Only operators" in refused
    assert "is primary on call until" in ack_text(
        slack.command("override <@U0CAROL|carol> 2h", command="/oncall", user="U0OPS")
    )
    assert "*Primary:* <@U0CAROL>" in ack_text(slack.command("", command="/oncall"))
    number = open_p(slack, "P2", "Paged to the override")
    wait_for(lambda: dms(recorder, number, "U0CAROL", rig.bots), what="override paged")
    assert not dms(recorder, number, "U0ALICE", rig.bots)
    for bad in ("override", "override U0CAROL", "override <@U0CAROL> soon", "override <@U0CAROL> 30d", "frob"):
        reply = ack_text(slack.command(bad, command="/oncall", user="U0OPS"))
        assert "/oncall" in reply or "at most" in reply, (bad, reply)
    assert "Override cleared" in ack_text(slack.command("override clear", command="/oncall", user="U0OPS"))

    before = len(checklists(recorder))
    assert "Posted the hand-off checklist" in ack_text(slack.command("handoff", command="/oncall"))
    post = wait_for(lambda: checklists(recorder)[before:], what="checklist")[0]  # type: ignore[index]
    text = str(post.params.get("blocks"))
    assert "Review open incidents" in text and f"INC-{number}" in text and "Next:" in text
    assert "Incidents of the past week" in text and "Test paging" in text
    # Nothing is promised that the bot does not collect: without a cluster the change feed's line says so.
    assert "not collected yet" not in text
    assert "Review recent changes/deployments" in text and "not connected: no kubeconfig" in text


def _this_minute() -> str:
    local = datetime.now(ZoneInfo(TZ))
    return f"{local.strftime('%a').lower()} {local.strftime('%H:%M')}"


def test_scheduled_handoff_posts_once_across_replicas(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    """The hand-off of the minute just begun (inside its grace period) is posted by a replica that starts now."""
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml", handoff=_this_minute()))
    before = len(checklists(recorder))
    rig.start("a")
    rig.start("b")
    try:
        wait_for(lambda: len(checklists(recorder)) > before, what="scheduled checklist")
        for bot in rig.bots:
            bot.settled()
        rig.advance(timedelta(seconds=10))  # both pollers look again: nothing more is posted
        rig.ticked()
        assert len(checklists(recorder)) - before == 1
    finally:
        rig.stop()


def test_a_scheduled_handoff_slack_refused_is_posted_once_slack_answers(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    """The hand-off's claim must not swallow a post that failed: it is tried again (any replica), and posted once."""
    config = escalation_config(tmp_path / "c.yaml", handoff=_this_minute())
    rig = Rig(tmp_path, recorder, fresh_redis.url, config)
    recorder.fail("chat.postMessage", "internal_error")
    try:
        rig.start("a")
        rig.start("b")
        wait_for(lambda: [c for c in checklists(recorder) if c.error], what="a refused hand-off post")
        recorder.failures.clear()
        rig.ticked()
        assert not [c for c in checklists(recorder) if not c.error]  # retried after retry_failed_page_after
        rig.advance(timedelta(seconds=31))
        wait_for(lambda: [c for c in checklists(recorder) if not c.error], what="the hand-off posted")
        for bot in rig.bots:
            bot.settled()
        rig.advance(timedelta(seconds=31))  # both pollers look again: nothing more is posted
        rig.ticked()
        assert len([c for c in checklists(recorder) if not c.error]) == 1
    finally:
        rig.stop()
        recorder.clear_faults()


def test_unreachable_person_hands_the_page_to_the_next_one_at_once(
    rig: Rig, slack: SignedSlack, recorder: SlackRecorder
) -> None:
    recorder.unknown_users.add("U0ALICE")  # the primary left the workspace; the roster was not updated
    # A P2 answers within an hour: without the hand-on, the secondary would be paged an hour from now.
    number = open_p(slack, "P2", "Primary unreachable")
    page = wait_for(lambda: dms(recorder, number, "U0BOB", rig.bots), what="secondary paged at once")[0]  # type: ignore[index]
    assert "paged for INC-" in page.params["text"]
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert "*could not be paged*" in timeline and "user_not_found" in timeline
    assert "the secondary is paged now" in timeline
    wait_for(lambda: "*was paged*" in ack_text(slack.command(f"timeline INC-{number}")), what="page recorded")
    assert ack_text(slack.command(f"timeline INC-{number}")).count("*was paged*") == 1
    assert not dms(recorder, number, "U0ALICE", rig.bots) and not dms(recorder, number, "U0LEAD", rig.bots)


def test_an_incident_escalated_long_after_its_deadlines_pages_each_step_once_then_at_the_interval(
    rig: Rig, slack: SignedSlack, recorder: SlackRecorder
) -> None:
    """The bot was away for hours (or the incident was restored from a backup): the chain catches up at once, and
    the last person is then paged every ``repeat_every`` from now, not once for every interval missed."""
    number = open_p(slack, "P1", "Nobody was watching")
    wait_for(lambda: dms(recorder, number, "U0ALICE", rig.bots), what="primary paged at open")
    rig.advance(timedelta(hours=5))
    wait_for(lambda: dms(recorder, number, "U0LEAD", rig.bots), what="the chain caught up")
    rig.ticked()
    rig.ticked()
    assert [len(dms(recorder, number, u, rig.bots)) for u in ("U0ALICE", "U0BOB", "U0LEAD")] == [1, 1, 1]
    rig.advance(REPEAT)
    wait_for(lambda: len(dms(recorder, number, "U0LEAD", rig.bots)) == 2, what="the lead again, one interval later")
    rig.ticked()
    assert len(dms(recorder, number, "U0LEAD", rig.bots)) == 2
