"""Escalation over the real wire: pages by DM at the right time, once per step, across replicas and crashes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.escalation import TZ, Rig, assert_paged_once, checklists, dms, escalation_config, open_p
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import SlackRecorder


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def one_bot(tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer) -> Iterator[tuple[Bot, SignedSlack]]:
    """One bot with the escalation config on a fresh Redis, and a signed client; Slack answers normally after."""
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml"))
    bot = rig.start("a")
    slack = SignedSlack(bot.base_url, recorder.response_url)
    yield bot, slack
    slack.close()
    rig.stop()
    recorder.clear_faults()


def test_unacknowledged_p1_escalates_then_stops_on_ack(
    one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder
) -> None:
    _, slack = one_bot
    number, opened = open_p(slack, "P1", "Checkout down")
    primary = wait_for(lambda: dms(recorder, number, "U0ALICE"), what="primary paged")[0]  # type: ignore[index]
    assert primary.at - opened < 2.0
    secondary = wait_for(lambda: dms(recorder, number, "U0BOB"), timeout=8, what="secondary paged")[0]  # type: ignore[index]
    assert 2.5 <= secondary.at - opened <= 5.0, secondary.at - opened
    lead = wait_for(lambda: dms(recorder, number, "U0LEAD"), timeout=8, what="lead paged")[0]  # type: ignore[index]
    assert 5.5 <= lead.at - opened <= 8.0, lead.at - opened
    # The DM carries an Acknowledge button that works from the DM.
    button = next(b for b in primary.params_blocks() if b["type"] == "actions")["elements"][0]
    assert (button["action_id"], button["value"]) == ("incident_acknowledge", str(number))
    wait_for(lambda: len(dms(recorder, number, "U0LEAD")) >= 2, timeout=6, what="lead paged again")
    slack.click("incident_acknowledge", str(number), user="U0LEAD")
    wait_for(lambda: "Acknowledged" in ack_text(slack.command(f"status INC-{number}")), what="acknowledged")
    count = len(dms(recorder, number))
    time.sleep(4.5)  # absence check: two repeat intervals pass without a page
    assert len(dms(recorder, number)) == count
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert timeline.count("*was paged*") == count
    assert "step 2: secondary, after 3s unacknowledged" in timeline
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
        numbers = [open_p(sa if i % 2 else sb, "P1", f"Replicated {i}")[0] for i in range(4)]
        for n in numbers:
            wait_for(lambda n=n: len(dms(recorder, n, "U0LEAD")) >= 2, timeout=15, what=f"INC-{n} through the chain")
        for n in numbers:
            ack_text(sa.command(f"ack INC-{n}"))
        time.sleep(1.5)  # let any in-flight page land before counting
        for n in numbers:
            timeline = ack_text(sb.command(f"timeline INC-{n}"))
            steps = [line.split("step ")[1].split(":")[0] for line in timeline.splitlines() if "*was paged*" in line]
            assert len(steps) == len(set(steps)), (n, steps)
            assert len(dms(recorder, n)) == len(steps), (n, len(dms(recorder, n)), steps)
            assert len(dms(recorder, n, "U0ALICE")) == 1 and len(dms(recorder, n, "U0BOB")) == 1
    finally:
        sa.close()
        sb.close()
        rig.stop()


def test_page_claimed_by_a_dead_replica_is_delivered_by_another(
    one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    _, slack = one_bot
    r = redis.Redis.from_url(fresh_redis.url)
    try:
        number, _ = open_p(slack, "P1", "Claimed then crashed")
        wait_for(lambda: dms(recorder, number, "U0ALICE"), what="primary paged")
        # A replica claims step 2 (moves it to pending with a 3 s lease) and is SIGKILLed before sending.
        lease_until = time.time() + 3.0
        with r.pipeline() as pipe:
            pipe.zrem("{esc}:due", str(number))
            pipe.zadd("{esc}:pending", {str(number): lease_until})
            pipe.execute()
        claimed_at = time.monotonic()
        page = wait_for(lambda: dms(recorder, number, "U0BOB"), timeout=10, what="secondary paged after the lease")[0]  # type: ignore[index]
        assert page.at - claimed_at >= 2.5  # not before the dead replica's lease ran out
        time.sleep(1.0)
        assert len(dms(recorder, number, "U0BOB")) == 1
    finally:
        r.close()


def test_severity_change_moves_the_deadline(one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder) -> None:
    _, slack = one_bot
    sooner, opened = open_p(slack, "P2", "Becomes critical")
    later, _ = open_p(slack, "P1", "Turns out minor")
    wait_for(lambda: dms(recorder, sooner, "U0ALICE") and dms(recorder, later, "U0ALICE"), what="primaries paged")
    assert "now P1" in ack_text(slack.command(f"severity INC-{sooner} P1"))
    assert "now P3" in ack_text(slack.command(f"severity INC-{later} P3"))
    page = wait_for(lambda: dms(recorder, sooner, "U0BOB"), timeout=6, what="secondary paged after upgrade")[0]  # type: ignore[index]
    # The new deadline is opened + 3 s (P1); it goes out within 2 s of it, not an hour later.
    assert page.at - opened <= 5.0, page.at - opened
    time.sleep(3.5)  # absence check: the downgraded incident's old 3 s deadline passes quietly
    assert not dms(recorder, later, "U0BOB")


def test_rate_limited_page_arrives_after_retry_after(one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder) -> None:
    _, slack = one_bot
    recorder.rate_limit("chat.postMessage", times=1, retry_after=2, channel="D0ALICE")
    number, _ = open_p(slack, "P2", "Rate limited page")
    wait_for(lambda: len(dms(recorder, number, "U0ALICE")) >= 2, timeout=10, what="page retried after 429")
    first, second = dms(recorder, number, "U0ALICE")[:2]
    assert second.at - first.at >= 1.9
    time.sleep(1.0)
    assert len(dms(recorder, number, "U0ALICE")) == 2  # the 429'd attempt and the delivered one
    assert_paged_once(slack, number)


def test_a_page_slower_than_the_claim_lease_is_not_sent_twice(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    """Slack makes the DM wait out three Retry-Afters (~6 s) against a 4 s claim lease, with a second replica
    polling: the claim is renewed while the page is in flight, so the other replica does not send it again."""
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml"))
    a, _ = rig.start("a"), rig.start("b")
    slack = SignedSlack(a.base_url, recorder.response_url)
    try:
        recorder.rate_limit("chat.postMessage", times=3, retry_after=2, channel="D0ALICE")
        number, _ = open_p(slack, "P2", "Slow page")
        wait_for(lambda: [c for c in dms(recorder, number, "U0ALICE") if not c.limited], timeout=15, what="page")
        time.sleep(5)  # absence check: past another lease, nobody sends it again
        delivered = [c for c in dms(recorder, number, "U0ALICE") if not c.limited]
        assert len(delivered) == 1, [(c.at, c.limited) for c in dms(recorder, number, "U0ALICE")]
        assert_paged_once(slack, number)
    finally:
        slack.close()
        rig.stop()
        recorder.clear_faults()


def test_failed_page_is_retried_not_dropped(one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder) -> None:
    bot, slack = one_bot
    recorder.fail("conversations.open", "internal_error")  # Slack's side: worth retrying the same person
    number, _ = open_p(slack, "P2", "Slack refuses the DM")
    wait_for(
        lambda: 'chatops_pages_failed_total{error="internal_error"}' in httpx.get(f"{bot.base_url}/metrics").text,
        what="failure counted",
    )
    recorder.failures.clear()
    wait_for(lambda: dms(recorder, number, "U0ALICE"), timeout=6, what="page delivered after Slack recovers")
    assert_paged_once(slack, number)


def test_oncall_command_override_and_handoff(one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder) -> None:
    _, slack = one_bot
    shown = ack_text(slack.command("", command="/oncall"))
    assert "*Primary:* <@U0ALICE>" in shown and "*Secondary:* <@U0BOB>" in shown and "*Lead:* <@U0LEAD>" in shown
    assert "<!date^" in shown  # the hand-off time in the reader's own time zone
    refused = ack_text(slack.command("override <@U0MALLORY|mallory> 4h", command="/oncall", user="U0BOB"))
    assert "Only operators" in refused
    assert "is primary on call until" in ack_text(
        slack.command("override <@U0CAROL|carol> 2h", command="/oncall", user="U0OPS")
    )
    assert "*Primary:* <@U0CAROL>" in ack_text(slack.command("", command="/oncall"))
    number, _ = open_p(slack, "P2", "Paged to the override")
    wait_for(lambda: dms(recorder, number, "U0CAROL"), what="override paged")
    assert not dms(recorder, number, "U0ALICE")
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


def test_scheduled_handoff_posts_once_across_replicas(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    local = datetime.now(ZoneInfo(TZ))
    handoff = (
        f"{local.strftime('%a').lower()} {local.strftime('%H:%M')}"  # the minute just begun: inside the grace period
    )
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml", handoff=handoff))
    before = len(checklists(recorder))
    rig.start("a")
    rig.start("b")
    try:
        wait_for(lambda: len(checklists(recorder)) > before, what="scheduled checklist")
        time.sleep(2.0)  # both pollers tick at least once more
        assert len(checklists(recorder)) - before == 1
    finally:
        rig.stop()


def test_a_scheduled_handoff_slack_refused_is_posted_once_slack_answers(
    tmp_path: Path, recorder: SlackRecorder, fresh_redis: RedisServer
) -> None:
    """The hand-off's claim must not swallow a post that failed: it is tried again (any replica), and posted once."""
    local = datetime.now(ZoneInfo(TZ))
    handoff = f"{local.strftime('%a').lower()} {local.strftime('%H:%M')}"
    rig = Rig(tmp_path, recorder, fresh_redis.url, escalation_config(tmp_path / "c.yaml", handoff=handoff))
    recorder.fail("chat.postMessage", "internal_error")
    try:
        rig.start("a")
        rig.start("b")
        wait_for(lambda: [c for c in checklists(recorder) if c.error], what="a refused hand-off post")
        recorder.failures.clear()
        wait_for(lambda: [c for c in checklists(recorder) if not c.error], timeout=15, what="the hand-off posted")
        time.sleep(2.0)  # both pollers tick again: nothing more is posted
        assert len([c for c in checklists(recorder) if not c.error]) == 1
    finally:
        rig.stop()
        recorder.clear_faults()


def test_unreachable_person_hands_the_page_to_the_next_one_at_once(
    one_bot: tuple[Bot, SignedSlack], recorder: SlackRecorder
) -> None:
    _, slack = one_bot
    recorder.unknown_users.add("U0ALICE")  # the primary left the workspace; the roster was not updated
    # A P2 answers within an hour: without the hand-on, the secondary would be paged an hour from now.
    number, _ = open_p(slack, "P2", "Primary unreachable")
    page = wait_for(lambda: dms(recorder, number, "U0BOB"), timeout=10, what="secondary paged at once")[0]  # type: ignore[index]
    assert "paged for INC-" in page.params["text"]
    timeline = ack_text(slack.command(f"timeline INC-{number}"))
    assert "*could not be paged*" in timeline and "user_not_found" in timeline
    assert "the secondary is paged now" in timeline
    wait_for(lambda: "*was paged*" in ack_text(slack.command(f"timeline INC-{number}")), what="page recorded")
    assert ack_text(slack.command(f"timeline INC-{number}")).count("*was paged*") == 1
    assert not dms(recorder, number, "U0ALICE") and not dms(recorder, number, "U0LEAD")
