"""Maintenance that suppresses pages, over the wire: a running window's scope (``--cluster``, ``--services``,
``--nodes``) holds the pages of the incidents its alerts open (each noted in the window's thread), alerts outside it
page as always, a P1 inside it pages the window's owner, and when the window closes (done, or its end plus
``maintenance.grace`` by the clock) the incidents still open page the on-call without waiting for a re-send.
``--no-suppress`` opts out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_alert_hardening import Rig, alert, crit, group
from tests.integration.test_maintenance import OPS, message_of, posts, schedule, thread_of
from tests.support.bot_process import ack_text
from tests.support.escalation import dms
from tests.support.net import wait_for
from tests.support.slack_recorder import SlackRecorder, blocks_of, own_recorder, text_of_blocks
from tests.support.twilio import ACCOUNT_SID, ALICE_PHONE, AUTH_TOKEN, BOB_PHONE, FROM_NUMBER, TwilioStandIn

CLUSTERS = """
kubernetes:
  clusters: [{name: prod, context: prod}, {name: stage, context: stage}]
"""


recorder = pytest.fixture(scope="module", name="recorder")(own_recorder)


@pytest.fixture
def rig(tmp_path: Path, recorder: SlackRecorder) -> Iterator[Rig]:
    made = Rig(tmp_path, recorder, extra=CLUSTERS)
    yield made
    made.close()


def running_window(rig: Rig, text: str) -> int:
    """A window scheduled a minute ahead on the bot's clock, then started."""
    number = schedule(rig.slack, text, delta=timedelta(minutes=1), user=OPS, now=rig.clock())
    started = ack_text(rig.slack.command(f"start MW-{number}", command="/maintenance", user=OPS))
    assert f"MW-{number}" in started, started
    message_of(rig.recorder, number)  # announced
    return number


def fire(rig: Rig, name: str, *, severity: str = "warning", **labels: str) -> int:
    item = alert(name, f"{name.lower()}-1", severity=severity) if severity != "critical" else crit(name, "c-1")
    item["labels"].update(labels)
    answer = rig.send(group(name, [item], **labels))
    assert answer["action"] == "opened", answer
    return int(str(answer["incident"]).removeprefix("INC-"))


def held_by(rig: Rig, number: int) -> dict[str, Any] | None:
    held = rig.doc(number).get("held")
    return held if held and not held.get("released_at") else None


def test_the_scope_holds_one_alert_and_pages_another_and_done_pages_what_it_held(
    rig: Rig, recorder: SlackRecorder
) -> None:
    window = running_window(rig, "1h Checkout upgrade --cluster=prod --services=shop/checkout")
    facts = text_of_blocks(blocks_of(message_of(recorder, window)))
    assert "Pages held" in facts and "shop/checkout" in facts and "`prod`" in facts

    inside = fire(rig, "CheckoutErrors", namespace="shop", deployment="checkout", cluster="prod")
    acked = fire(rig, "CheckoutLatency", namespace="shop", service="checkout")  # no cluster label: the default
    outside = fire(rig, "PaymentsErrors", namespace="shop", deployment="payments", cluster="prod")
    elsewhere = fire(rig, "StageCheckout", namespace="shop", deployment="checkout", cluster="stage")
    assert held_by(rig, inside) == {
        "key": "maintenance", "ref": f"MW-{window}", "text": f"maintenance window MW-{window}: Checkout upgrade",
        "page": [], "released_at": None, "released_why": "",
    }  # fmt: skip
    assert held_by(rig, acked) and not held_by(rig, outside) and not held_by(rig, elsewhere)

    # Outside the scope pages as always; inside, nobody is paged, and the window's thread says so.
    wait_for(lambda: dms(recorder, outside, "U0ALICE") and dms(recorder, elsewhere, "U0ALICE"), what="pages outside")
    thread_of(recorder, window, f"*INC-{inside}* P3")
    thread_of(recorder, window, f"*INC-{acked}* P3")
    rig.bot.advance(timedelta(minutes=1))
    rig.bot.ticked()
    assert not dms(recorder, inside) and not dms(recorder, acked)
    announcement = next(c for c in posts(recorder, "C0INCIDENTS", f"INC-{inside}:") if "thread_ts" not in c.params)
    assert f"Paging held by maintenance window MW-{window}" in text_of_blocks(blocks_of(announcement))

    # Acknowledged meanwhile: nobody is paged for it when the window closes.
    rig.slack.command(f"ack INC-{acked}", user="U0BOB")
    wait_for(lambda: rig.doc(acked)["state"] == "acknowledged", what="the acknowledgement")

    # Done: the bot pages for what it held and is still open, at once (no re-send of the alert).
    closed = ack_text(rig.slack.command(f"done MW-{window}", command="/maintenance", user=OPS))
    assert f"MW-{window}" in closed, closed
    wait_for(lambda: dms(recorder, inside, "U0ALICE"), what="the held incident paged at the window's close")
    assert not held_by(rig, inside) and rig.doc(inside)["held"]["released_why"] == "closed"
    assert "paging resumed" in rig.timeline(inside)
    thread_of(recorder, window, f"*INC-{inside}* was held by this window, which closed: the on-call is paged now")
    thread_of(recorder, window, f"*INC-{acked}* was held by this window, which closed: it is acknowledged")
    rig.bot.ticked()
    assert not dms(recorder, acked)
    assert len(dms(recorder, inside, "U0ALICE")) == 1  # paged once, however many sweeps


def test_the_end_plus_grace_pages_what_is_still_held(rig: Rig, recorder: SlackRecorder) -> None:
    window = running_window(rig, "30m Node pool rotation --nodes=node-7,node-8")
    held = fire(rig, "NodeNotReady", node="node-7")
    other = fire(rig, "NodeDiskPressure", node="node-9")
    assert held_by(rig, held) and not held_by(rig, other)
    wait_for(lambda: dms(recorder, other, "U0ALICE"), what="a node outside the window paged")

    rig.bot.advance(timedelta(minutes=30 + 14))  # past the end, within maintenance.grace (15 min)
    rig.bot.ticked()
    assert held_by(rig, held) and not dms(recorder, held)

    rig.bot.advance(timedelta(minutes=2))  # past the end plus the grace, still not done
    wait_for(lambda: dms(recorder, held, "U0ALICE"), what="the held incident paged at the end plus the grace")
    doc = rig.doc(held)
    assert doc["held"]["released_why"] == "is past its end and `maintenance.grace`"
    thread_of(recorder, window, f"*INC-{held}* was held by this window")


def test_a_p1_inside_the_scope_pages_the_owner_only(rig: Rig, recorder: SlackRecorder) -> None:
    window = running_window(rig, "1h Postgres minor upgrade --services=data/postgres")
    number = fire(rig, "PostgresDown", severity="critical", namespace="data", deployment="postgres")
    assert rig.doc(number)["severity"] == "P1"
    assert (held_by(rig, number) or {}).get("page") == [OPS]
    (page,) = wait_for(lambda: dms(recorder, number, OPS), what="the owner paged")
    assert "the owner of MW-" in text_of_blocks(blocks_of(page))
    thread_of(recorder, window, f"only <@{OPS}> (the owner) is paged")
    assert "paged while the on-call's paging is held" in rig.timeline(number)
    rig.bot.advance(timedelta(minutes=20))  # past the P1's response deadline: still nobody of the chain
    rig.bot.ticked()
    assert not dms(recorder, number, "U0ALICE") and not dms(recorder, number, "U0BOB")
    assert len(dms(recorder, number, OPS)) == 1


def test_a_held_p1_texts_and_calls_the_owner_and_not_the_on_call(tmp_path: Path, recorder: SlackRecorder) -> None:
    """The owner paged for a held P1 is worked through the P1 rule (SMS, then a call); the on-call's phone stays
    quiet while the hold lasts."""
    twilio = TwilioStandIn()
    paging = f"""paging:
  contacts: {{{OPS}: {{phone: "{BOB_PHONE}"}}, U0ALICE: {{phone: "{ALICE_PHONE}"}}}}
  rules: {{P1: ["slack", "sms after 1m", "call after 3m"]}}
  twilio: {{account_sid: {ACCOUNT_SID}, from_number: "{FROM_NUMBER}", api_url: "{twilio.url}"}}
"""
    rig = Rig(tmp_path, recorder, extra=CLUSTERS + paging, env={"TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    try:
        running_window(rig, "1h Postgres minor upgrade --services=data/postgres")
        number = fire(rig, "PostgresDown", severity="critical", namespace="data", deployment="postgres")
        wait_for(lambda: dms(recorder, number, OPS), what="the owner paged in Slack")
        for _ in range(2):
            rig.bot.advance(timedelta(minutes=2))
            rig.bot.ticked()
        (sms,) = wait_for(twilio.messages, what="the owner's SMS")  # type: ignore[misc]
        (call,) = wait_for(twilio.calls, what="the owner's call")  # type: ignore[misc]
        assert sms.fields["To"] == BOB_PHONE and call.fields["To"] == BOB_PHONE
        assert f"INC-{number}" in sms.fields["Body"]
        rig.bot.advance(timedelta(minutes=20))  # past the P1's deadline: the chain is still held
        rig.bot.ticked()
        assert [m.fields["To"] for m in twilio.messages() + twilio.calls()] == [BOB_PHONE, BOB_PHONE]
    finally:
        rig.close()
        twilio.stop()


def test_no_suppress_pages_as_always(rig: Rig, recorder: SlackRecorder) -> None:
    window = running_window(rig, "1h Checkout upgrade --services=shop/checkout --no-suppress")
    assert "*Pages:* as always" in text_of_blocks(blocks_of(message_of(recorder, window)))
    number = fire(rig, "CheckoutErrors", namespace="shop", deployment="checkout")
    assert not held_by(rig, number)
    wait_for(lambda: dms(recorder, number, "U0ALICE"), what="the page despite the window")
    refused = ack_text(rig.slack.command("schedule 2030-01-01 10:00 1h x --no-suppress=yes", command="/maintenance",
                                         user=OPS))  # fmt: skip
    assert "takes no value" in refused
