"""Paging that wakes people, over the wire (and test pages, at the end): a P1 nobody acknowledges goes SMS then call at the rule's times; a signed
reply "1" acknowledges as the number's person (and nothing more is sent); a forged signature is refused and an
unknown number changes nothing; a failed SMS moves to the call at once; a self-added number is used only once its
code is confirmed; numbers never reach the log; two replicas make each attempt once. Twilio is the stand-in of
tests/support/twilio.py; the bot's PUBLIC_URL is an https address its webhooks are signed for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.test_alert_hardening import Rig
from tests.support.bot_process import ack_text
from tests.support.escalation import dms
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.slack_recorder import SlackRecorder, blocks_of, own_recorder
from tests.support.twilio import ACCOUNT_SID, ALICE_PHONE, AUTH_TOKEN, BOB_PHONE, FROM_NUMBER, TwilioStandIn

PUBLIC = "https://chatops.example.com"


def paging_config(twilio: TwilioStandIn) -> str:
    return f"""paging:
  contacts: {{U0ALICE: {{phone: "{ALICE_PHONE}"}}}}
  rules:
    P1: ["slack", "sms after 1m", "call after 3m"]
  twilio: {{account_sid: {ACCOUNT_SID}, from_number: "{FROM_NUMBER}", api_url: "{twilio.url}"}}
"""


recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    stand_in = TwilioStandIn()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder, twilio: TwilioStandIn) -> Iterator[Rig]:
    made = Rig(tmp_path, recorder, extra=paging_config(twilio), env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                                                      "PUBLIC_URL": PUBLIC})  # fmt: skip
    yield made
    made.close()


def moved(rig: Rig, step: timedelta) -> None:
    rig.bot.ticked()
    rig.bot.advance(step)
    rig.bot.ticked()


def post(twilio: TwilioStandIn, rig: Rig, path: str, params: dict[str, str], **kw: object) -> object:
    """A webhook as Twilio sends it to PUBLIC_URL + path (here the bot's loopback address), signed for PUBLIC_URL."""
    full = {"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", **params}
    return twilio.signed_post(rig.bot.base_url + path, full, AUTH_TOKEN, signed_url=PUBLIC + path, **kw)  # type: ignore[arg-type]


def open_p1(rig: Rig, recorder: SlackRecorder) -> int:
    text = ack_text(rig.slack.command("open P1 Checkout API returns 500s", user="U0REPORTER"))
    number = int(text.split("*INC-")[1].split("*")[0])
    wait_for(lambda: dms(recorder, number, "U0ALICE"), what="the Slack page")
    return number


def test_an_unacknowledged_p1_texts_then_calls_and_a_reply_of_1_acknowledges(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    number = open_p1(rig, recorder)
    moved(rig, timedelta(seconds=59))
    assert twilio.messages() == []  # not before the rule's minute
    moved(rig, timedelta(seconds=2))
    (sms,) = wait_for(twilio.messages, what="the SMS")  # type: ignore[misc]
    assert sms.fields["To"] == ALICE_PHONE and sms.fields["From"] == FROM_NUMBER
    assert (
        sms.fields["Body"].startswith(f"INC-{number} P1 Checkout API returns 500s") and "reply 1" in sms.fields["Body"]
    )
    assert sms.fields["StatusCallback"] == f"{PUBLIC}/paging/twilio/status"
    moved(rig, timedelta(minutes=2))
    (call,) = wait_for(twilio.calls, what="the call")  # type: ignore[misc]
    assert call.fields["To"] == ALICE_PHONE and "<Gather" in call.fields["Twiml"]
    lines = rig.timeline(number)
    assert "SMS sent to •••• 0142 (twilio)" in lines and "call placed to •••• 0142 (twilio)" in lines

    forged = post(twilio, rig, "/paging/twilio/sms", {"From": ALICE_PHONE, "To": FROM_NUMBER, "Body": "1"},
                  forged=True)  # fmt: skip
    assert forged.status_code == 403  # type: ignore[attr-defined]
    stranger = post(twilio, rig, "/paging/twilio/sms", {"From": "+14155550999", "To": FROM_NUMBER, "Body": "1"})
    assert stranger.status_code == 200 and "<Message>" not in stranger.text  # type: ignore[attr-defined]
    assert rig.doc(number)["state"] == "open"

    reply = post(twilio, rig, "/paging/twilio/sms", {"From": ALICE_PHONE, "To": FROM_NUMBER, "Body": " 1 "})
    assert reply.status_code == 200 and f"INC-{number} is acknowledged by you" in reply.text  # type: ignore[attr-defined]
    doc = rig.doc(number)
    assert doc["state"] == "acknowledged" and doc["acknowledged_by"] == "U0ALICE"
    assert "*acknowledged* — by SMS" in rig.timeline(number)
    moved(rig, timedelta(minutes=30))
    assert len(twilio.messages()) == 1 and len(twilio.calls()) == 1  # acknowledged: nothing more goes out
    log = Path(rig.bot.log_path).read_text()
    assert ALICE_PHONE not in log and ALICE_PHONE[1:] not in log and AUTH_TOKEN not in log


def test_a_failed_sms_moves_to_the_call_at_once_and_a_key_press_acknowledges(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    number = open_p1(rig, recorder)
    moved(rig, timedelta(minutes=1, seconds=1))
    (sms,) = wait_for(twilio.messages, what="the SMS")  # type: ignore[misc]
    status = {"MessageSid": sms.sid or "", "MessageStatus": "undelivered", "To": ALICE_PHONE, "From": FROM_NUMBER}
    assert post(twilio, rig, "/paging/twilio/status", status).status_code == 200  # type: ignore[attr-defined]
    moved(rig, timedelta(seconds=1))  # well before the rule's 3 minutes
    (call,) = wait_for(twilio.calls, what="the call, at once")  # type: ignore[misc]
    pressed = {"CallSid": call.sid or "", "Digits": "1", "To": ALICE_PHONE, "From": FROM_NUMBER}
    answer = post(twilio, rig, "/paging/twilio/voice", pressed)
    assert answer.status_code == 200 and "acknowledged" in answer.text  # type: ignore[attr-defined]
    assert rig.doc(number)["acknowledged_by"] == "U0ALICE" and "by phone" in rig.timeline(number)


def test_a_self_added_number_is_used_once_confirmed(rig: Rig, twilio: TwilioStandIn, recorder: SlackRecorder) -> None:
    said = ack_text(rig.slack.command("phone +1 (415) 555-0177", command="/oncall", user="U0BOB"))
    assert "Sending a code to •••• 0177" in said and BOB_PHONE not in said
    (code_sms,) = wait_for(twilio.messages, what="the code")  # type: ignore[misc]
    assert code_sms.fields["To"] == BOB_PHONE
    code = code_sms.fields["Body"].split("code is ")[1][:6]
    assert "not verified yet" in ack_text(rig.slack.command("phone", command="/oncall", user="U0BOB"))
    wrong = "000000" if code != "000000" else "111111"
    assert "4 tries left" in ack_text(rig.slack.command(f"phone verify {wrong}", command="/oncall", user="U0BOB"))
    assert "Verified: •••• 0177" in ack_text(rig.slack.command(f"phone verify {code}", command="/oncall", user="U0BOB"))
    assert "•••• 0177 (verified)" in ack_text(rig.slack.command("phone", command="/oncall", user="U0BOB"))
    refused = ack_text(rig.slack.command("phone 555", command="/oncall", user="U0BOB"))
    assert "international form" in refused
    assert "set by an admin" in ack_text(rig.slack.command("phone", command="/oncall", user="U0ALICE"))
    assert "Forgot your number •••• 0177" in ack_text(
        rig.slack.command("phone remove", command="/oncall", user="U0BOB")
    )
    assert BOB_PHONE not in Path(rig.bot.log_path).read_text()


def test_two_replicas_send_each_attempt_once(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn, tmp_path: Path
) -> None:
    other = Bot(redis_url=rig.redis.url, slack_api_url=recorder.api_url, config_path=tmp_path / "chatops.yaml",
                log_path=tmp_path / "b.log", clock=rig.clock,
                extra_env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_URL": PUBLIC}).start()  # fmt: skip
    try:
        open_p1(rig, recorder)
        other.ticked()
        moved(rig, timedelta(minutes=1, seconds=1))
        other.wake()
        other.ticked()
        wait_for(twilio.messages, what="the SMS")
        moved(rig, timedelta(minutes=2))
        other.wake()
        other.ticked()
        wait_for(twilio.calls, what="the call")
        rig.bot.ticked()
        other.ticked()
        assert len(twilio.messages()) == 1 and len(twilio.calls()) == 1
    finally:
        other.terminate()


def test_twilio_down_moves_on_at_once_and_is_said_once_per_incident(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    twilio.fail_next(500, times=20)
    number = open_p1(rig, recorder)
    moved(rig, timedelta(minutes=1, seconds=1))  # the SMS fails (no SNS here): the call is tried at once, and fails
    wait_for(lambda: "call not made" in rig.timeline(number), what="the call tried at once")
    moved(rig, timedelta(minutes=5))
    lines = rig.timeline(number)
    assert lines.count("SMS not sent") == 1 and lines.count("call not made") == 1
    assert "twilio" in lines.lower() and ALICE_PHONE not in lines
    rig.bot.settled()

    def said() -> int:
        return len([c for c in recorder.of("chat.postMessage") if "Twilio answered" in str(c.params.get("text"))])

    assert said() == 2  # once each in the thread

    before = len(recorder.of("response_url"))  # and the morning digest (here /health) says it
    assert rig.slack.command("", command="/health", user="U0BOB").status_code == 200

    def digest() -> str:
        return " ".join(
            str(c.params) for c in recorder.of("response_url")[before:] if "Paging providers" in str(c.params)
        )

    shown = wait_for(digest, timeout=30, what="the digest's Paging providers")
    assert "Twilio: failed a page" in str(shown) and ALICE_PHONE not in str(shown)


# Test pages -------------------------------------------------------------------------------------------------------
def test_a_test_page_goes_by_every_method_and_each_is_confirmed(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    said = ack_text(rig.slack.command("test", command="/oncall", user="U0ALICE"))
    assert "Sending a test page to <@U0ALICE>" in said
    (sms,) = wait_for(twilio.messages, what="the test SMS")  # type: ignore[misc]
    (call,) = wait_for(twilio.calls, what="the test call")  # type: ignore[misc]
    assert sms.fields["To"] == ALICE_PHONE and "test page" in sms.fields["Body"] and "reply 1" in sms.fields["Body"]
    dm = wait_for(lambda: [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0ALICE"
                           and "Test page" in str(c.params.get("text"))], what="the Slack test page")  # fmt: skip
    (button,) = [e for b in blocks_of(dm[0]) if b["type"] == "actions" for e in b["elements"]]  # type: ignore[index]

    reply = post(twilio, rig, "/paging/twilio/sms", {"From": ALICE_PHONE, "To": FROM_NUMBER, "Body": "1"})
    assert "Test page confirmed: SMS reaches you" in reply.text  # type: ignore[attr-defined]
    pressed = post(twilio, rig, "/paging/twilio/voice", {"CallSid": call.sid or "", "Digits": "1",
                                                         "To": ALICE_PHONE, "From": FROM_NUMBER})  # fmt: skip
    assert "Test page confirmed" in pressed.text  # type: ignore[attr-defined]
    before = len(recorder.of("response_url"))
    assert rig.slack.click(button["action_id"], button["value"], user="U0BOB").status_code == 200
    wait_for(lambda: any("someone else's" in str(c.params.get("text")) for c in recorder.of("response_url")[before:]),
             what="a stranger refused")  # fmt: skip
    assert rig.slack.click(button["action_id"], button["value"], user="U0ALICE").status_code == 200
    wait_for(lambda: any("Slack reaches you" in str(c.params.get("text")) for c in recorder.of("response_url")),
             what="the click confirmed")  # fmt: skip

    ack_text(rig.slack.command("handoff", command="/oncall", user="U0ALICE"))
    checklist = wait_for(lambda: [c for c in recorder.of("chat.postMessage")
                                  if c.params.get("text") == "On-call hand-off checklist"], what="the checklist")  # fmt: skip
    text = str(blocks_of(checklist[-1]))  # type: ignore[index]
    assert "Test paging/alerting" in text and "slack ✅" in text and "sms ✅" in text and "call ✅" in text
    assert "<@U0BOB>: not tested yet" in text


def test_an_unconfirmed_test_is_said_to_the_lead_once_and_only_operators_test_others(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    refused = ack_text(rig.slack.command("test <@U0ALICE>", command="/oncall", user="U0BOB"))
    assert "Only operators" in refused and twilio.messages() == []
    ack_text(rig.slack.command("test <@U0ALICE>", command="/oncall", user="U0OPS"))
    wait_for(twilio.messages, what="the test SMS")
    moved(rig, timedelta(minutes=31))
    moved(rig, timedelta(minutes=2))

    def told() -> list[object]:
        return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0LEAD"
                and "did not confirm the test page" in str(c.params.get("text"))]  # fmt: skip

    wait_for(told, what="the lead told")
    moved(rig, timedelta(minutes=5))
    assert len(told()) == 1
    assert ALICE_PHONE not in str([c.params for c in told()])  # type: ignore[attr-defined]


def next_handoff(after: datetime) -> datetime:
    """The rig's hand-off (the default, Monday 09:00 UTC) after ``after``."""
    day = (after + timedelta(days=(7 - after.weekday()) % 7)).replace(hour=9, minute=0, second=0, microsecond=0)
    return day if day > after else day + timedelta(days=7)


def test_the_handoff_tests_the_incoming_pair_and_says_what_was_not_confirmed_in_its_thread(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    """At the scheduled hand-off the incoming primary and secondary are tested on every method; 30 minutes later
    what was not confirmed is said once in the hand-off's thread, to the lead; ``/oncall`` shows who confirmed what.
    A test of someone outside the rotation (an operator's ``/oncall test @user``) is told to the lead by DM."""
    now = rig.clock()
    rig.bot.advance(next_handoff(now) - now + timedelta(seconds=30))
    rig.bot.ticked()
    (checklist,) = wait_for(lambda: [c for c in recorder.of("chat.postMessage")
                                     if c.params.get("text") == "On-call hand-off checklist"],
                            what="the scheduled checklist")  # fmt: skip
    (sms,) = wait_for(twilio.messages, what="Alice's test SMS")  # type: ignore[misc]
    wait_for(twilio.calls, what="Alice's test call")
    assert sms.fields["To"] == ALICE_PHONE and "test page" in sms.fields["Body"]
    tested = wait_for(lambda: {str(c.params.get("channel")) for c in recorder.of("chat.postMessage")
                               if "Test page" in str(c.params.get("text"))} >= {"U0ALICE", "U0BOB"} or None,
                      what="both test pages in Slack")  # fmt: skip
    assert tested
    reply = post(twilio, rig, "/paging/twilio/sms", {"From": ALICE_PHONE, "To": FROM_NUMBER, "Body": "1"})
    assert "Test page confirmed" in reply.text  # type: ignore[attr-defined]
    shown = ack_text(rig.slack.command("", command="/oncall", user="U0BOB"))
    assert "Test paging/alerting" in shown and "sms ✅" in shown and "call ⏳ not confirmed" in shown, shown
    assert ALICE_PHONE not in shown

    ack_text(rig.slack.command("test <@U0CAROL>", command="/oncall", user="U0OPS"))  # outside the rotation
    moved(rig, timedelta(minutes=31))
    moved(rig, timedelta(minutes=2))

    def said(where: str) -> list[object]:
        return [c for c in recorder.of("chat.postMessage") if "did not confirm the test page" in str(c.params.get("text"))
                and (c.params.get("thread_ts") == checklist.reply_ts if where == "thread"
                     else c.params.get("channel") == where and not c.params.get("thread_ts"))]  # fmt: skip

    in_thread = wait_for(lambda: len(said("thread")) >= 2 or None, what="the hand-off's thread told")
    assert in_thread
    texts = [str(c.params["text"]) for c in said("thread")]  # type: ignore[attr-defined]
    alice = next(t for t in texts if t.startswith("<@U0LEAD> ⚠️ <@U0ALICE>"))
    assert "slack, call" in alice and "sms" not in alice.split("by ")[1]
    assert any(t.startswith("<@U0LEAD> ⚠️ <@U0BOB>") for t in texts)
    wait_for(lambda: said("U0LEAD"), what="the lead told of Carol by DM")
    assert "<@U0CAROL>" in str(said("U0LEAD")[0].params["text"])  # type: ignore[attr-defined]
    assert not [c for c in said("U0LEAD") if "U0ALICE" in str(c.params.get("text"))]  # type: ignore[attr-defined]
    moved(rig, timedelta(minutes=5))
    assert len(said("thread")) == 2 and len(said("U0LEAD")) == 1
    assert ALICE_PHONE not in str([c.params for c in said("thread")])  # type: ignore[attr-defined]


def test_a_replica_that_stops_after_the_sms_leaves_the_call_to_the_next_and_the_sms_is_not_repeated(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn, tmp_path: Path
) -> None:
    open_p1(rig, recorder)
    moved(rig, timedelta(minutes=1, seconds=1))
    wait_for(twilio.messages, what="the SMS")
    rig.bot.settled()
    rig.bot.terminate()  # the replica is gone; the call is still due in its due set
    rig.bot = Bot(redis_url=rig.redis.url, slack_api_url=recorder.api_url, config_path=tmp_path / "chatops.yaml",
                  log_path=tmp_path / "b.log", clock=rig.clock,
                  extra_env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_URL": PUBLIC}).start()  # fmt: skip
    moved(rig, timedelta(minutes=2))
    wait_for(twilio.calls, what="the call, by the next replica")
    moved(rig, timedelta(minutes=1))
    assert len(twilio.messages()) == 1 and len(twilio.calls()) == 1


def test_quiet_hours_hold_sms_and_calls_for_p3_not_p1(
    tmp_path: Path, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    local = datetime.now(UTC).astimezone(ZoneInfo(recorder.user_tz))  # the person's Slack time zone
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M")
    extra = (
        paging_config(twilio).replace(
            '    P1: ["slack", "sms after 1m", "call after 3m"]\n',
            '    P1: ["slack", "sms after 1m"]\n    P3: ["slack", "sms after 1m"]\n',
        )
        + f'  quiet_hours: {{from: "{start}", to: "{end}"}}\n'
    )
    rig = Rig(tmp_path, recorder, extra=extra, env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_URL": PUBLIC})
    try:
        text = ack_text(rig.slack.command("open P3 Disk filling on a replica", user="U0REPORTER"))
        p3 = int(text.split("*INC-")[1].split("*")[0])
        wait_for(lambda: dms(recorder, p3, "U0ALICE"), what="the P3's Slack page")
        moved(rig, timedelta(minutes=1, seconds=1))
        wait_for(lambda: "no SMS in quiet hours" in rig.timeline(p3), what="the P3 held for the morning")
        assert twilio.messages() == []
        open_p1(rig, recorder)
        moved(rig, timedelta(minutes=1, seconds=1))
        (sms,) = wait_for(twilio.messages, what="the P1's SMS, quiet hours or not")  # type: ignore[misc]
        assert sms.fields["Body"].startswith("INC-2 P1")
    finally:
        rig.close()


def test_a_reply_of_2_passes_the_page_to_the_next_person_at_once(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    number = open_p1(rig, recorder)
    moved(rig, timedelta(minutes=1, seconds=1))
    (sms,) = wait_for(twilio.messages, what="the SMS")  # type: ignore[misc]
    assert "2 to escalate" in sms.fields["Body"]
    assert dms(recorder, number, "U0BOB") == []
    reply = post(twilio, rig, "/paging/twilio/sms", {"From": ALICE_PHONE, "To": FROM_NUMBER, "Body": "2"})
    assert f"INC-{number}: the next person on call is paged now" in reply.text  # type: ignore[attr-defined]
    rig.bot.ticked()
    wait_for(lambda: dms(recorder, number, "U0BOB"), what="the secondary paged at once, not at the 15 min deadline")
    assert "asked by SMS to pass it on" in rig.timeline(number) and rig.doc(number)["state"] == "open"
