"""Emergency contacts, over the wire: a P1 still unacknowledged when the chain's last step (the lead) is paged calls
each of ``escalation.emergency_contacts.P1`` with a number once (and DMs each once), not again at the repeats;
``/incident escalate INC-n emergency`` by an operator calls them at once, by anyone else is refused and calls nobody;
the P1 announcement carries the vendor line and a P3's does not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import keys
from tests.integration.test_alert_hardening import Rig
from tests.integration.test_lifecycle import wait_announcement
from tests.integration.test_paging import PUBLIC, moved, open_p1, recorder, twilio
from tests.support.bot_process import ack_text
from tests.support.escalation import dms, open_p
from tests.support.net import wait_for
from tests.support.replies import reply_text, wait_reply
from tests.support.slack_recorder import SlackRecorder, blocks_of, text_of_blocks
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, TwilioStandIn

__all__ = ["recorder", "twilio"]  # the fixtures, shared with test_paging

ENGLEAD_PHONE = "+14155550143"
DEVOPS_PHONE = "+14155550144"


def emergency_config(twilio: TwilioStandIn) -> str:
    return f"""paging:
  contacts: {{U0ENGLEAD: {{phone: "{ENGLEAD_PHONE}"}}, U0DEVOPSLEAD: {{phone: "{DEVOPS_PHONE}"}}}}
  rules:
    P1: ["slack", "sms after 1m", "call after 3m"]
  twilio: {{account_sid: {ACCOUNT_SID}, from_number: "{FROM_NUMBER}", api_url: "{twilio.url}"}}
escalation:
  emergency_contacts: {{P1: [U0ENGLEAD, U0DEVOPSLEAD, U0CTO]}}
"""


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder, twilio: TwilioStandIn) -> Iterator[Rig]:
    made = Rig(tmp_path, recorder, extra=emergency_config(twilio), env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                                                         "PUBLIC_URL": PUBLIC})  # fmt: skip
    yield made
    made.close()


def called(twilio: TwilioStandIn) -> list[str]:
    return sorted(call.fields["To"] for call in twilio.calls())


def emergency_dms(recorder: SlackRecorder, number: int, person: str) -> list[object]:
    return [c for c in dms(recorder, number, person) if "emergency contact" in str(c.params.get("text"))]


def test_the_last_step_of_an_unacknowledged_p1_calls_each_emergency_contact_once(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    number = open_p1(rig, recorder)
    moved(rig, timedelta(minutes=15, seconds=1))
    wait_for(lambda: dms(recorder, number, "U0BOB"), what="the secondary's page")
    assert twilio.calls() == []  # the secondary is not the chain's last step
    moved(rig, timedelta(minutes=15))
    wait_for(lambda: dms(recorder, number, "U0LEAD"), what="the lead's page")
    wait_for(lambda: len(twilio.calls()) == 2, what="the emergency calls")
    assert called(twilio) == sorted([ENGLEAD_PHONE, DEVOPS_PHONE])
    for person in ("U0ENGLEAD", "U0DEVOPSLEAD", "U0CTO"):
        wait_for(lambda p=person: emergency_dms(recorder, number, p), what=f"the DM to {person}")  # type: ignore[misc]
    wait_for(lambda: "no verified number" in rig.timeline(number), what="U0CTO has no number")

    moved(rig, timedelta(minutes=10))  # the lead is paged again: the emergency contacts are not
    wait_for(lambda: len(dms(recorder, number, "U0LEAD")) == 2, what="the repeat page")
    moved(rig, timedelta(minutes=10))
    wait_for(lambda: len(dms(recorder, number, "U0LEAD")) == 3, what="the second repeat page")
    rig.bot.ticked()
    assert called(twilio) == sorted([ENGLEAD_PHONE, DEVOPS_PHONE])
    for person in ("U0ENGLEAD", "U0DEVOPSLEAD", "U0CTO"):
        assert len(emergency_dms(recorder, number, person)) == 1
    log = Path(rig.bot.log_path).read_text()
    assert ENGLEAD_PHONE not in log and DEVOPS_PHONE not in log


def test_incident_escalate_emergency_by_an_operator_calls_at_once_and_by_others_is_refused(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    number = open_p1(rig, recorder)
    refused = ack_text(rig.slack.command(f"escalate INC-{number} emergency", user="U0BOB"))
    assert "Only the commander" in refused and "operator" in refused
    unknown = ack_text(rig.slack.command("escalate INC-999 emergency", user="U0OPS"))
    assert "INC-999" in unknown
    form = ack_text(rig.slack.command(f"escalate INC-{number}", user="U0OPS"))
    assert f"/incident escalate INC-{number} emergency" in form
    rig.bot.ticked()
    assert twilio.calls() == [] and not emergency_dms(recorder, number, "U0ENGLEAD")

    said = ack_text(rig.slack.command(f"escalate INC-{number} emergency", user="U0OPS"))
    assert "emergency contacts" in said and ENGLEAD_PHONE not in said
    wait_for(lambda: len(twilio.calls()) == 2, what="the emergency calls, at once")
    assert called(twilio) == sorted([ENGLEAD_PHONE, DEVOPS_PHONE])
    wait_for(lambda: emergency_dms(recorder, number, "U0CTO"), what="the DM to U0CTO")
    again = ack_text(rig.slack.command(f"escalate INC-{number} emergency", user="U0OPS"))
    assert "already" in again
    rig.bot.ticked()
    assert len(twilio.calls()) == 2 and len(emergency_dms(recorder, number, "U0ENGLEAD")) == 1
    assert "emergency" in rig.timeline(number)


def test_an_emergency_call_placed_as_redis_stalls_is_said_placed_and_its_id_kept(
    rig: Rig, recorder: SlackRecorder, twilio: TwilioStandIn
) -> None:
    """Redis stops answering the instant Twilio takes the first call: that call is said placed (never "not called"
    about a phone that rings), its id is kept once Redis is back (so its status and key presses find the incident),
    and the contacts after it are said not called, with the reason."""
    number = open_p1(rig, recorder)
    rig.bot.settled()

    def stall_at_the_call(request: Any) -> None:  # on the stand-in's thread, before Twilio makes and answers it
        if request.method == "POST" and request.path.endswith("/Calls.json"):
            rig.redis.stall()

    since = len(recorder.of("response_url"))
    twilio.arrived = stall_at_the_call
    try:
        ack_text(rig.slack.command(f"escalate INC-{number} emergency", user="U0OPS"))
        said = reply_text(wait_reply(recorder, since, "call placed", timeout=60))
    finally:
        twilio.arrived = lambda _: None
        rig.redis.resume()
    (placed,) = [c for c in twilio.calls() if c.status == 201]
    assert placed.fields["To"] == ENGLEAD_PHONE and placed.sid is not None
    assert "<@U0ENGLEAD>: emergency contact call placed to" in said and ENGLEAD_PHONE not in said
    assert "<@U0ENGLEAD>: not called" not in said and "<@U0DEVOPSLEAD>: not called" in said
    wait_for(lambda: rig.state.get(keys.paging_sid(placed.sid or "")), timeout=30, what="the call's id, kept")


def test_the_p1_announcement_carries_the_vendor_line_and_a_p3_does_not(rig: Rig, recorder: SlackRecorder) -> None:
    p1 = open_p(rig.slack, "P1", "Checkout API returns 500s")
    p3 = open_p(rig.slack, "P3", "A slow report")
    shown = text_of_blocks(blocks_of(wait_announcement(recorder, p1)))
    assert "AWS Support: open a case in the console" in shown
    assert "https://console.aws.amazon.com/support/home" in str(blocks_of(wait_announcement(recorder, p1)))
    assert "AWS Support" not in text_of_blocks(blocks_of(wait_announcement(recorder, p3)))
