"""The App Home over signed HTTP: app_home_opened → one views.publish for that person, their incidents first, every
open incident with its buttons, the on-call with "Take over for 4h" for operators; a refused publish is not retried."""

from __future__ import annotations

import json
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.bot_process import SignedSlack, ack_text
from tests.support.harness import Bot
from tests.support.net import wait_for
from tests.support.redis_server import RedisServer
from tests.support.slack_recorder import Call, SlackRecorder, text_of_blocks

CONFIG = """
channels: {incidents: C0INCIDENTS}
permissions: {operators: [U0OPS], responders: [U0ALICE, U0BOB, U0CAROL, U0OPS, U0LEAD]}
oncall: {rotation: [U0ALICE, U0BOB], lead: U0LEAD}
"""


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, recorder: SlackRecorder, redis_server: RedisServer) -> Iterator[Bot]:
    directory = tmp_path_factory.mktemp("home")
    config = directory / "chatops.yaml"
    config.write_text(textwrap.dedent(CONFIG))
    proc = Bot(redis_url=redis_server.url, slack_api_url=recorder.api_url, config_path=config,
                      log_path=directory / "bot.log").start()  # fmt: skip
    yield proc
    proc.terminate()


def opened(slack: SignedSlack, user: str) -> None:
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": "home", "event_ts": "1.1"}
    assert slack.event(event, event_id=f"Ev{uuid.uuid4().hex}").status_code == 200


def publishes(recorder: SlackRecorder, user: str, since: int = 0) -> list[Call]:
    return [c for c in recorder.of("views.publish")[since:] if c.params.get("user_id") == user]


def view_of(call: Call) -> dict[str, Any]:
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_home_shows_the_persons_incidents_first_and_the_on_call(slack: SignedSlack, recorder: SlackRecorder) -> None:
    first = ack_text(slack.command("open P1 Checkout API returns 500s", user="U0CAROL"))
    mine = int(first.split("*INC-")[1].split("*")[0])
    ack_text(slack.command(f"assign INC-{mine} <@U0BOB>", user="U0BOB"))
    other = int(ack_text(slack.command("open P3 Slow search", user="U0CAROL")).split("*INC-")[1].split("*")[0])

    since = len(recorder.of("views.publish"))
    opened(slack, "U0BOB")
    wait_for(lambda: publishes(recorder, "U0BOB", since), what="the App Home published")
    (call,) = publishes(recorder, "U0BOB", since)
    view = view_of(call)
    assert view["type"] == "home"
    text = text_of_blocks(view["blocks"])
    needs_you = text[text.index("What needs you") : text.index("Open incidents")]
    assert f"INC-{mine}" in needs_you and f"INC-{other}" not in needs_you
    listed = text[text.index("Open incidents") :]
    assert f"INC-{mine}" in listed and f"INC-{other}" in listed
    actions = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "incident_acknowledge" in actions  # the announcement's buttons, handled the same way
    assert "Primary <@U0ALICE>, secondary <@U0BOB>, lead <@U0LEAD>" in text
    assert "home_take_over" not in actions  # bob is no operator
    assert "Run /health" in text

    # The primary is paged for both: both are hers.
    for number in (mine, other):
        wait_for(lambda n=number: "*was paged*" in ack_text(slack.command(f"timeline INC-{n}", user="U0BOB")),
                 what=f"INC-{number} paged")  # fmt: skip
    since = len(recorder.of("views.publish"))
    opened(slack, "U0ALICE")
    wait_for(lambda: publishes(recorder, "U0ALICE", since), what="alice's App Home")
    alice = text_of_blocks(view_of(publishes(recorder, "U0ALICE", since)[0])["blocks"])
    needs_her = alice[alice.index("What needs you") : alice.index("Open incidents")]
    assert f"INC-{mine}" in needs_her and f"INC-{other}" in needs_her


def test_an_operator_takes_over_from_the_home_tab(slack: SignedSlack, recorder: SlackRecorder) -> None:
    since = len(recorder.of("views.publish"))
    opened(slack, "U0OPS")
    wait_for(lambda: publishes(recorder, "U0OPS", since), what="the operator's App Home")
    view = view_of(publishes(recorder, "U0OPS", since)[0])
    (take,) = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == "home_take_over"]  # fmt: skip
    slack.click("home_take_over", take["value"], user="U0OPS", home=True)
    wait_for(lambda: any("<@U0OPS> is primary on call until" in str(c.params.get("text"))
                         for c in recorder.of("chat.postMessage")), what="the take-over confirmed")  # fmt: skip
    assert "Primary on call: <@U0OPS>" in ack_text(slack.command("", command="/oncall", user="U0BOB"))
    slack.click("home_take_over", "4h", user="U0BOB", home=True)
    wait_for(lambda: any("Only operators (permissions.operators) may override" in str(c.params.get("text"))
                         for c in recorder.of("chat.postMessage") if c.params.get("channel") == "U0BOB"),
             what="the refusal, by DM")  # fmt: skip


def test_a_refused_publish_is_logged_not_retried(slack: SignedSlack, recorder: SlackRecorder, bot: Bot) -> None:
    recorder.fail("views.publish", "invalid_arguments")
    try:
        since = len(recorder.of("views.publish"))
        opened(slack, "U0LEAD")
        wait_for(lambda: publishes(recorder, "U0LEAD", since), what="the publish attempt")
        wait_for(lambda: "views.publish" in Path(bot.log_path).read_text(), what="the failure logged")
        # Another request round trip later, still exactly one attempt.
        ack_text(slack.command("", command="/oncall", user="U0LEAD"))
        assert len(publishes(recorder, "U0LEAD", since)) == 1
    finally:
        recorder.clear_faults()


def dms_to(recorder: SlackRecorder, user: str, phrase: str) -> list[Call]:
    return [c for c in recorder.of("chat.postMessage") if c.params.get("channel") == user
            and phrase in f"{c.params.get('text')} {text_of_blocks(c.params.get('blocks') or [])}"]  # fmt: skip


def test_a_refused_click_on_the_home_tab_is_told_to_the_person(slack: SignedSlack, recorder: SlackRecorder) -> None:
    """The Home has no response URL: a refusal there (not a responder; a step the incident's state refuses) reaches
    the person who clicked by DM, and nothing changes."""
    number = int(ack_text(slack.command("open P2 Home refusals", user="U0CAROL")).split("*INC-")[1].split("*")[0])
    since = len(recorder.of("response_url"))
    slack.click("incident_acknowledge", f"INC-{number}", user="U0MALLORY", home=True)
    wait_for(lambda: dms_to(recorder, "U0MALLORY", "Only incident responders may acknowledge incidents"),
             what="the responder refusal, by DM")  # fmt: skip
    assert "*Status*\nOpen" in ack_text(slack.command(f"status INC-{number}", user="U0BOB"))

    slack.click("incident_acknowledge", f"INC-{number}", user="U0BOB", home=True)
    wait_for(lambda: "*Status*\nAcknowledged" in ack_text(slack.command(f"status INC-{number}", user="U0BOB")),
             what="acknowledged from the Home")  # fmt: skip
    slack.click("incident_acknowledge", f"INC-{number}", user="U0ALICE", home=True)
    wait_for(lambda: dms_to(recorder, "U0ALICE", f"INC-{number} was already acknowledged by <@U0BOB>"),
             what="the transition refusal, by DM")  # fmt: skip

    # The Home's commander picker sits in a block of the Home's own (home_incident_<n>): it assigns as the
    # announcement's does, and its refusal is told by DM too.
    def pick(by: str, chosen: str) -> None:
        body = slack.click_body("incident_assign", "", user=by, home=True).replace(
            "%22block_id%22%3A%20%22incident_actions%22",
            f"%22block_id%22%3A%20%22home_incident_{number}%22%2C%20%22selected_user%22%3A%20%22{chosen}%22",
        )
        assert slack.post(body, "application/x-www-form-urlencoded").status_code == 200

    pick("U0BOB", "U0CAROL")  # bob acknowledged, so he commands: he hands over
    wait_for(lambda: dms_to(recorder, "U0BOB", f"<@U0CAROL> is now the commander of INC-{number}"),
             what="the commander picked on the Home")  # fmt: skip
    pick("U0ALICE", "U0ALICE")
    wait_for(lambda: dms_to(recorder, "U0ALICE", "Only the commander (<@U0CAROL>) or an operator may reassign"),
             what="the picker's refusal, by DM")  # fmt: skip
    assert "*Commander*\n<@U0CAROL>" in ack_text(slack.command(f"status INC-{number}", user="U0BOB"))
    assert recorder.of("response_url")[since:] == []  # the Home has none: nothing was sent to one
